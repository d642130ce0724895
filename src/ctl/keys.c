/*
 * keys: finicomctl gen-key FILE.
 *
 * Writes a new secret key for secret_key_file (see util/secret.h): 32 bytes
 * from OpenSSL's CSPRNG as 64 hexadecimal characters and a newline, in a
 * file created with mode 0600 that must not exist yet (an existing key is
 * never overwritten: the secrets stored under it would be lost).  Prints
 * the key's id, never the key.
 *
 * The services read the key as their own user (finicom), and finicomd
 * refuses a key that group or others can read: --owner USER (and --group
 * GROUP) give the file to that user before the key is written, so that
 * root can make the service's key without ever leaving a root-owned key
 * the service cannot open.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "ctl/ctl.h"
#include "util/crypto.h"
#include "util/secret.h"

int
ctl_gen_key(int argc, char **argv)
{
	unsigned char key[SECRET_KEY_BYTES];
	char text[2 * SECRET_KEY_BYTES + 2], id[SECRET_KEY_ID_CHARS + 1];
	static const struct option options[] = {
		{"owner", required_argument, NULL, 'o'},
		{"group", required_argument, NULL, 'g'},
		{NULL, 0, NULL, 0},
	};
	const char *path, *owner = NULL, *group = NULL;
	uid_t uid = (uid_t)-1;
	gid_t gid = (gid_t)-1;
	int fd, opt, rc = 1;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		switch (opt) {
		case 'o': owner = optarg; break;
		case 'g': group = optarg; break;
		default:
			fprintf(stderr, "usage: finicomctl gen-key [--owner USER] [--group GROUP] FILE\n");
			return 2;
		}
	}
	if (argc - optind != 1) {
		fprintf(stderr, "usage: finicomctl gen-key [--owner USER] [--group GROUP] FILE\n");
		return 2;
	}
	path = argv[optind];
	if (owner != NULL) {
		struct passwd *pw = getpwnam(owner);
		if (pw == NULL) {
			fprintf(stderr, "finicomctl: no user \"%s\"\n", owner);
			return 2;
		}
		uid = pw->pw_uid;
		gid = pw->pw_gid;
	}
	if (group != NULL) {
		struct group *gr = getgrnam(group);
		if (gr == NULL) {
			fprintf(stderr, "finicomctl: no group \"%s\"\n", group);
			return 2;
		}
		gid = gr->gr_gid;
	}
	if (random_bytes(key, sizeof(key)) < 0) {
		fprintf(stderr, "finicomctl: could not get random bytes\n");
		return 1;
	}
	for (size_t i = 0; i < SECRET_KEY_BYTES; i++)
		snprintf(text + 2 * i, 3, "%02x", key[i]);
	text[2 * SECRET_KEY_BYTES] = '\n';
	text[2 * SECRET_KEY_BYTES + 1] = '\0';
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		if (errno == EEXIST)
			fprintf(stderr, "finicomctl: \"%s\" already exists; a key is never "
			    "overwritten\n", path);
		else
			fprintf(stderr, "finicomctl: could not create \"%s\": %s\n", path,
			    strerror(errno));
		goto out;
	}
	if ((uid != (uid_t)-1 || gid != (gid_t)-1) && fchown(fd, uid, gid) < 0) {
		fprintf(stderr, "finicomctl: could not give \"%s\" to %s%s%s: %s\n", path,
		    owner ? owner : "", group ? ":" : "", group ? group : "", strerror(errno));
		close(fd);
		unlink(path);
		goto out;
	}
	if (fchmod(fd, 0600) < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text) ||
	    fsync(fd) < 0) {
		fprintf(stderr, "finicomctl: could not write \"%s\": %s\n", path, strerror(errno));
		close(fd);
		unlink(path);
		goto out;
	}
	if (close(fd) < 0) {
		fprintf(stderr, "finicomctl: could not write \"%s\": %s\n", path, strerror(errno));
		unlink(path);
		goto out;
	}
	secret_key_id_of(key, id);
	printf("%s\n", id);
	rc = 0;
out:
	OPENSSL_cleanse(key, sizeof(key));
	OPENSSL_cleanse(text, sizeof(text));
	return rc;
}
