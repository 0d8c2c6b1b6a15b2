/*
 * The form decoder feeding the AlphaTrust parser, strict and for an
 * authenticated delivery, and the record: what is written reads back,
 * and our URL token parameter never reaches it.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "../../lib/esignhook.h"
#include "fuzz.h"

static void
roundtrip(const struct eh_event *ev)
{
	struct eh_record rec;
	struct timespec when = { 1795347124, 0 };
	char id[EH_ID_LEN + 1], *out;
	size_t len;

	eh_id_make(id, &when);
	if (eh_record_build(&out, &len, ev, id, &when, NULL) != EH_OK ||
	    eh_record_parse(&rec, out, len) != EH_OK)
		__builtin_trap();
	if (json_object_get(rec.data, "token") != NULL ||
	    (rec.problems != NULL) != (ev->problems.n > 0) ||
	    (rec.event == NULL) != (ev->name == NULL))
		__builtin_trap();
	eh_record_free(&rec);
	free(out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct eh_form f;
	struct eh_event ev;
	struct eh_problems pr;

	if (eh_form_parse(&f, (const char *)data, size) == EH_OK) {
		if (eh_alphatrust_parse(&ev, &f, "token") == EH_OK) {
			if (ev.name == NULL || ev.transaction_id == NULL ||
			    ev.problems.n != 0)
				__builtin_trap();
			roundtrip(&ev);
			eh_event_free(&ev);
		}
		eh_form_free(&f);
	}
	memset(&pr, 0, sizeof(pr));
	if (eh_form_read(&f, (const char *)data, size, EH_FORM_QUERY, &pr) ==
	    EH_OK) {
		if (eh_alphatrust_read(&ev, &f, "token") != EH_OK ||
		    ev.data == NULL || (ev.problems.n > 0 && ev.known))
			__builtin_trap();
		roundtrip(&ev);
		eh_event_free(&ev);
		eh_form_free(&f);
	}
	return 0;
}
