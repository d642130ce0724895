/* fuzz_json: the strict JSON checker and the exact parse behind every body. */
#include <stdint.h>
#include <stdlib.h>

#include <json-c/json.h>

#include "util/jsoncheck.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *why = NULL;
	json_object *o;
	struct json_size sz;

	(void)json_check((const char *)data, size, 32);
	o = json_parse_exact((const char *)data, size, 32, &why);
	if (o != NULL) {
		(void)json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
		json_object_put(o);
		(void)json_measure((const char *)data, size, &sz);
	}
	return 0;
}
