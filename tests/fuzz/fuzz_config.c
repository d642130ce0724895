/* fuzz_config: the configuration file parser. */
#include <stdint.h>
#include <stdio.h>

#include "util/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config cfg;
	char err[256];
	FILE *fp;

	if (size == 0)
		return 0;
	fp = fmemopen((void *)data, size, "r");
	if (fp == NULL)
		return 0;
	config_defaults(&cfg);
	(void)config_parse(fp, "fuzz.conf", &cfg, err, sizeof(err));
	fclose(fp);
	return 0;
}
