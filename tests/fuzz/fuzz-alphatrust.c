/* The form decoder feeding the AlphaTrust parser, and the record. */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "../../lib/esignhook.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct eh_form f;
	struct eh_event ev;
	struct eh_record rec;
	struct timespec when = { 1795347124, 0 };
	char id[EH_ID_LEN + 1], *out;
	size_t len;

	if (eh_form_parse(&f, (const char *)data, size) != EH_OK)
		return 0;
	if (eh_alphatrust_parse(&ev, &f, "token") == EH_OK) {
		eh_id_make(id, &when);
		if (eh_record_build(&out, &len, &ev, id, &when, NULL) != EH_OK ||
		    eh_record_parse(&rec, out, len) != EH_OK)
			__builtin_trap();
		/* Our URL token parameter never reaches the record. */
		if (json_object_get(rec.data, "token") != NULL)
			__builtin_trap();
		eh_record_free(&rec);
		free(out);
		eh_event_free(&ev);
	}
	eh_form_free(&f);
	return 0;
}
