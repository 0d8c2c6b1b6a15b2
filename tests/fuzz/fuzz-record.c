/* Reading a spool record back: consumers read files anyone could edit. */
#include "../../lib/esignhook.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct eh_record rec;

	if (eh_record_parse(&rec, (const char *)data, size) == EH_OK)
		eh_record_free(&rec);
	return 0;
}
