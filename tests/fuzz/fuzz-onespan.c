/*
 * The OneSpan parser, strict and for an authenticated delivery, and
 * the record built from what it gives: what is written reads back, a
 * raw body reads back byte for byte, and an authenticated delivery is
 * always stored (never an error but memory).
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "../../lib/esignhook.h"
#include "fuzz.h"

static int
same(const char *a, const char *b)
{
	return (a == NULL && b == NULL) ||
	    (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static void
roundtrip(const struct eh_event *ev, const uint8_t *data, size_t size)
{
	struct eh_record rec;
	struct timespec when = { 1795347124, 0 };
	char id[EH_ID_LEN + 1], *out;
	unsigned char *bin;
	size_t len, binlen;

	eh_id_make(id, &when);
	if (eh_record_build(&out, &len, ev, id, &when, "127.0.0.1") != EH_OK)
		__builtin_trap();
	/* What we write, we can read back. */
	if (eh_record_parse(&rec, out, len) != EH_OK ||
	    !same(rec.event, ev->name) ||
	    !same(rec.transaction_id, ev->transaction_id) ||
	    (rec.problems != NULL) != (ev->problems.n > 0))
		__builtin_trap();
	if (ev->data == NULL) {
		if (rec.data != NULL || rec.raw == NULL)
			__builtin_trap();
		bin = malloc(size + 1);
		if (bin == NULL || sodium_base642bin(bin, size + 1, rec.raw,
		    strlen(rec.raw), NULL, &binlen, NULL,
		    sodium_base64_VARIANT_ORIGINAL) != 0 || binlen != size ||
		    (size > 0 && memcmp(bin, data, size) != 0))
			__builtin_trap();
		free(bin);
	} else if (rec.data == NULL || rec.raw != NULL)
		__builtin_trap();
	eh_record_free(&rec);
	free(out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct eh_event ev, lax;
	enum eh_err err;

	err = eh_onespan_parse(&ev, (const char *)data, size);
	if (eh_onespan_read(&lax, (const char *)data, size) != EH_OK)
		__builtin_trap();
	/* Strict is lenient with no problem at all. */
	if ((err == EH_OK) != (lax.problems.n == 0))
		__builtin_trap();
	if (lax.problems.n > 0 && lax.known)
		__builtin_trap();
	if ((lax.data == NULL) == (lax.raw == NULL) ||
	    strlen(lax.dedupe_key) != 64)
		__builtin_trap();
	if (err == EH_OK) {
		if (strcmp(ev.name, lax.name) != 0 ||
		    strcmp(ev.dedupe_key, lax.dedupe_key) != 0)
			__builtin_trap();
		roundtrip(&ev, data, size);
		eh_event_free(&ev);
	}
	roundtrip(&lax, data, size);
	eh_event_free(&lax);
	return 0;
}
