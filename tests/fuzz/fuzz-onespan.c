/* The OneSpan parser, and the record built from what it accepts. */
#include <stdlib.h>
#include <string.h>

#include "../../lib/esignhook.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct eh_event ev;
	struct eh_record rec;
	struct timespec when = { 1795347124, 0 };
	char id[EH_ID_LEN + 1], *out;
	size_t len;

	if (eh_onespan_parse(&ev, (const char *)data, size) != EH_OK)
		return 0;
	eh_id_make(id, &when);
	if (eh_record_build(&out, &len, &ev, id, &when, "127.0.0.1") != EH_OK)
		__builtin_trap();
	/* What we write, we can read back. */
	if (eh_record_parse(&rec, out, len) != EH_OK ||
	    strcmp(rec.event, ev.name) != 0)
		__builtin_trap();
	eh_record_free(&rec);
	free(out);
	eh_event_free(&ev);
	return 0;
}
