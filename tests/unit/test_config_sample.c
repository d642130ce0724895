/*
 * test_config_sample: conf/finicom.conf.sample and man/finicom.conf.5
 * document every key the parser accepts (src/util/config.c's table), and
 * name no key it does not; the sample itself parses.  A key added to the
 * table without its line in the sample and the man page fails here.
 */
#include <ctype.h>
#include <stdlib.h>

#include "tap.h"
#include "util/config.h"

#define MAX_KEYS 256

/* The keys of the sample: "key = value" and "# key = value" lines. */
static size_t
sample_keys(FILE *fp, char keys[MAX_KEYS][64])
{
	char line[4096];
	size_t n = 0;

	while (fgets(line, sizeof(line), fp) != NULL && n < MAX_KEYS) {
		char *p = line, *start;
		size_t len;

		if (*p == '#')
			for (p++; *p == ' '; p++)
				;
		start = p;
		while (islower((unsigned char)*p) || isdigit((unsigned char)*p) || *p == '_')
			p++;
		len = (size_t)(p - start);
		while (*p == ' ' || *p == '\t')
			p++;
		if (len == 0 || len >= 64 || *p != '=')
			continue;
		memcpy(keys[n], start, len);
		keys[n++][len] = '\0';
	}
	return n;
}

static bool
listed(char keys[MAX_KEYS][64], size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(keys[i], name))
			return true;
	return false;
}

static bool
parser_key(const char *name)
{
	const char *k;

	for (size_t i = 0; (k = config_key_name(i)) != NULL; i++)
		if (!strcmp(k, name))
			return true;
	return false;
}

/* The whole file (malloc'd), or NULL. */
static char *
slurp(const char *path)
{
	FILE *fp = fopen(path, "r");
	char *text;
	long n;

	if (fp == NULL)
		return NULL;
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	rewind(fp);
	text = calloc(1, (size_t)n + 1);
	if (text != NULL && fread(text, 1, (size_t)n, fp) != (size_t)n) {
		free(text);
		text = NULL;
	}
	fclose(fp);
	return text;
}

int
main(void)
{
	const char *top = getenv("top_srcdir");
	static char keys[MAX_KEYS][64];
	char path[1024], man[1024], needle[96], err[512];
	struct config cfg;
	const char *k;
	char *page;
	size_t n, missing = 0, unknown = 0, undocumented = 0;
	FILE *fp;

	snprintf(path, sizeof(path), "%s/conf/finicom.conf.sample", top ? top : ".");
	snprintf(man, sizeof(man), "%s/man/finicom.conf.5", top ? top : ".");
	fp = fopen(path, "r");
	if (!ok(fp != NULL, "test-config-sample: %s opens", path))
		return done_testing();
	n = sample_keys(fp, keys);
	fclose(fp);
	ok(n > 20, "test-config-sample: the sample names %zu keys", n);
	for (size_t i = 0; (k = config_key_name(i)) != NULL; i++)
		if (!listed(keys, n, k)) {
			printf("#   the parser's key \"%s\" is not in the sample\n", k);
			missing++;
		}
	ok(missing == 0, "test-config-sample: every key of the parser is in the sample (%zu missing)",
	    missing);
	for (size_t i = 0; i < n; i++)
		if (!parser_key(keys[i])) {
			printf("#   the sample's key \"%s\" is not the parser's\n", keys[i]);
			unknown++;
		}
	ok(unknown == 0, "test-config-sample: every key of the sample is the parser's (%zu unknown)",
	    unknown);
	ok(config_load(path, &cfg, err, sizeof(err)) == 0, "test-config-sample: the sample parses (%s)",
	    err);

	page = slurp(man);
	if (ok(page != NULL, "test-config-sample: %s opens", man)) {
		for (size_t i = 0; (k = config_key_name(i)) != NULL; i++) {
			snprintf(needle, sizeof(needle), ".It Cm %s", k);
			if (strstr(page, needle) == NULL) {
				printf("#   the parser's key \"%s\" has no \"%s\" in finicom.conf(5)\n", k,
				    needle);
				undocumented++;
			}
		}
		ok(undocumented == 0,
		    "test-config-sample: finicom.conf(5) describes every key (%zu missing)", undocumented);
		free(page);
	}
	return done_testing();
}
