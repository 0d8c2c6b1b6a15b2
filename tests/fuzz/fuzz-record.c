/* Reading a spool record back: consumers read files anyone could edit.
 * What parses is consistent: data or raw, problems an array of
 * strings. */
#include <jansson.h>

#include "../../lib/esignhook.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct eh_record rec;
	size_t i;

	if (eh_record_parse(&rec, (const char *)data, size) != EH_OK)
		return 0;
	if (rec.id == NULL || rec.provider == NULL || rec.dedupe_key == NULL ||
	    (rec.data == NULL && rec.raw == NULL) ||
	    (rec.data != NULL && rec.raw != NULL))
		__builtin_trap();
	for (i = 0; rec.problems != NULL &&
	    i < json_array_size(rec.problems); i++)
		if (json_string_value(json_array_get(rec.problems, i)) == NULL)
			__builtin_trap();
	eh_record_free(&rec);
	return 0;
}
