/* lib/record.c: the spool record, ids, and reading records back. */
#include <stdlib.h>

#include <jansson.h>
#include <sodium.h>

#include "../lib/esignhook.h"
#include "t.h"

static void
build_and_parse(void)
{
	struct eh_event ev;
	struct eh_record rec;
	struct timespec when = { 1795347124, 987654321 };
	const char *b = "{\"name\":\"PACKAGE_COMPLETE\",\"packageId\":\"p\\\"1\"}";
	char id[EH_ID_LEN + 1], *out;
	size_t len;

	T_EQ_INT(eh_onespan_parse(&ev, b, strlen(b)), EH_OK);
	eh_id_make(id, &when);
	T_EQ_INT(strlen(id), EH_ID_LEN);
	T_CHECK(strncmp(id, "20261122T", 9) == 0);
	T_EQ_INT(eh_record_build(&out, &len, &ev, id, &when, "10.0.0.1"),
	    EH_OK);
	T_EQ_INT(len, strlen(out));
	T_CHECK(out[len - 1] == '\n');
	T_CHECK(strchr(out, '\n') == out + len - 1);
	T_EQ_INT(eh_record_parse(&rec, out, len), EH_OK);
	T_EQ_STR(rec.id, id);
	T_EQ_STR(rec.provider, "onespan");
	T_EQ_STR(rec.event, "PACKAGE_COMPLETE");
	T_EQ_INT(rec.known_event, 1);
	T_EQ_STR(rec.transaction_id, "p\"1");
	T_EQ_STR(rec.dedupe_key, ev.dedupe_key);
	T_EQ_STR(rec.remote_addr, "10.0.0.1");
	T_CHECK(strncmp(rec.received_at, "2026-11-22T", 11) == 0);
	T_CHECK(strcmp(rec.received_at + 19, ".987Z") == 0);
	T_EQ_STR(json_string_value(json_object_get(rec.data, "packageId")),
	    "p\"1");
	/* The keys, in the documented order. */
	T_CHECK(strncmp(out, "{\"v\":1,\"id\":", 12) == 0);
	T_CHECK(strstr(out, "\"remote_addr\":\"10.0.0.1\",\"data\":{") != NULL);
	eh_record_free(&rec);
	eh_record_free(&rec);
	free(out);
	eh_event_free(&ev);
}

static void
no_remote_addr(void)
{
	struct eh_event ev;
	struct eh_record rec;
	struct timespec when = { 0, 0 };
	const char *b = "{\"name\":\"X\",\"packageId\":\"p\"}";
	char id[EH_ID_LEN + 1], *out;
	size_t len;

	T_EQ_INT(eh_onespan_parse(&ev, b, strlen(b)), EH_OK);
	eh_id_make(id, &when);
	T_CHECK(strncmp(id, "19700101T000000.000000Z-", 24) == 0);
	T_EQ_INT(eh_record_build(&out, &len, &ev, id, &when, "\xff"), EH_OK);
	T_EQ_INT(eh_record_parse(&rec, out, len), EH_OK);
	T_CHECK(rec.remote_addr == NULL);
	T_EQ_INT(rec.known_event, 0);
	eh_record_free(&rec);
	free(out);
	eh_event_free(&ev);
}

static void
ids_unique_and_sorted(void)
{
	struct timespec a = { 1795347124, 1000 }, b = { 1795347124, 2000 };
	char x[EH_ID_LEN + 1], y[EH_ID_LEN + 1], z[EH_ID_LEN + 1];

	eh_id_make(x, &a);
	eh_id_make(y, &a);
	eh_id_make(z, &b);
	T_CHECK(strcmp(x, y) != 0);
	T_CHECK(strcmp(x, z) < 0 && strcmp(y, z) < 0);
}

static void
parse_rejects(void)
{
	struct eh_record rec;
	static const char *const bad[] = {
		"", "[]", "{\"v\":1}",
		"{\"v\":2,\"id\":\"a\",\"received_at\":\"t\",\"provider\":\"p\","
		"\"event\":\"e\",\"known_event\":true,\"transaction_id\":\"t\","
		"\"dedupe_key\":\"k\",\"remote_addr\":null,\"data\":{}}",
		"{\"v\":1,\"id\":\"a\",\"received_at\":\"t\",\"provider\":\"p\","
		"\"event\":\"e\",\"known_event\":true,\"transaction_id\":\"t\","
		"\"dedupe_key\":\"k\",\"remote_addr\":null,\"data\":[]}",
		NULL
	};
	size_t i;

	for (i = 0; bad[i] != NULL; i++)
		T_CHECK(eh_record_parse(&rec, bad[i], strlen(bad[i])) != EH_OK);
}

/* A record without problems is byte for byte what it always was. */
static void
format_unchanged(void)
{
	struct eh_event ev;
	struct timespec when = { 1795347124, 987654321 };
	const char *b = "{\"name\":\"PACKAGE_COMPLETE\",\"packageId\":\"p1\"}";
	const char *id = "20261122T113204.987654Z-0123456789abcdef";
	char want[1024], *out;
	size_t len;

	T_EQ_INT(eh_onespan_parse(&ev, b, strlen(b)), EH_OK);
	T_EQ_INT(eh_record_build(&out, &len, &ev, id, &when, NULL), EH_OK);
	snprintf(want, sizeof(want), "{\"v\":1,\"id\":\"%s\",\"received_at\":"
	    "\"2026-11-22T11:32:04.987Z\",\"provider\":\"onespan\",\"event\":"
	    "\"PACKAGE_COMPLETE\",\"known_event\":true,\"transaction_id\":"
	    "\"p1\",\"dedupe_key\":\"%s\",\"remote_addr\":null,\"data\":%s}\n",
	    id, ev.dedupe_key, b);
	T_EQ_STR(out, want);
	free(out);
	eh_event_free(&ev);
}

/* Stored with problems: they are listed, event and transaction_id are
 * null where they could not be read, and it reads back. */
static void
with_problems(void)
{
	struct eh_event ev;
	struct eh_record rec;
	struct timespec when = { 1795347124, 0 };
	const char *b = "{\"packageId\":7}";
	char id[EH_ID_LEN + 1], *out;
	size_t len;

	T_EQ_INT(eh_onespan_read(&ev, b, strlen(b)), EH_OK);
	eh_id_make(id, &when);
	T_EQ_INT(eh_record_build(&out, &len, &ev, id, &when, NULL), EH_OK);
	T_CHECK(strstr(out, "\"event\":null,\"known_event\":false,"
	    "\"transaction_id\":null,") != NULL);
	T_CHECK(strstr(out, "\"remote_addr\":null,\"problems\":[\"packageId "
	    "is a number, not a string\",\"name is missing\"],\"data\":"
	    "{\"packageId\":7}}\n") != NULL);
	T_EQ_INT(eh_record_parse(&rec, out, len), EH_OK);
	T_CHECK(rec.event == NULL && rec.transaction_id == NULL);
	T_EQ_INT(rec.known_event, 0);
	T_EQ_INT(json_array_size(rec.problems), 2);
	T_CHECK(rec.data != NULL && rec.raw == NULL);
	eh_record_free(&rec);
	free(out);
	eh_event_free(&ev);
}

/* A body that is no data: "data":null and "raw", standard base64 of
 * the exact bytes. */
static void
raw_body(void)
{
	struct eh_event ev;
	struct eh_record rec;
	struct timespec when = { 1795347124, 0 };
	const char b[] = "\xef\xbb\xbf{\"a\":\x00\xff}";
	unsigned char bin[64];
	char id[EH_ID_LEN + 1], *out;
	size_t len, binlen;

	T_EQ_INT(eh_onespan_read(&ev, b, sizeof(b) - 1), EH_OK);
	T_CHECK(ev.data == NULL);
	eh_id_make(id, &when);
	T_EQ_INT(eh_record_build(&out, &len, &ev, id, &when, "::1"), EH_OK);
	T_CHECK(strstr(out, "\"data\":null,\"raw\":\"77u/eyJhIjoA/30=\"}\n") !=
	    NULL);
	T_CHECK(strstr(out, "\"problems\":[\"malformed JSON at byte 9: ") !=
	    NULL);
	T_EQ_INT(eh_record_parse(&rec, out, len), EH_OK);
	T_CHECK(rec.data == NULL);
	T_EQ_STR(rec.raw, "77u/eyJhIjoA/30=");
	T_CHECK(sodium_base642bin(bin, sizeof(bin), rec.raw, strlen(rec.raw),
	    NULL, &binlen, NULL, sodium_base64_VARIANT_ORIGINAL) == 0);
	T_CHECK(binlen == sizeof(b) - 1 && memcmp(bin, b, binlen) == 0);
	eh_record_free(&rec);
	free(out);
	eh_event_free(&ev);
	/* An empty body too. */
	T_EQ_INT(eh_onespan_read(&ev, "", 0), EH_OK);
	T_EQ_INT(eh_record_build(&out, &len, &ev, id, &when, NULL), EH_OK);
	T_CHECK(strstr(out, "\"data\":null,\"raw\":\"\"}\n") != NULL);
	T_EQ_INT(eh_record_parse(&rec, out, len), EH_OK);
	T_EQ_STR(rec.raw, "");
	eh_record_free(&rec);
	free(out);
	eh_event_free(&ev);
}

/* What readers accept: nulls where the receiver writes them; not a
 * null data without raw, not problems that are no strings. */
static void
parse_nulls(void)
{
	struct eh_record rec;
	static const char *const good[] = {
		"{\"v\":1,\"id\":\"a\",\"received_at\":\"t\",\"provider\":\"p\","
		"\"event\":null,\"known_event\":false,\"transaction_id\":null,"
		"\"dedupe_key\":\"k\",\"remote_addr\":null,\"problems\":[\"x\"],"
		"\"data\":null,\"raw\":\"eA==\"}",
		"{\"v\":1,\"id\":\"a\",\"received_at\":\"t\",\"provider\":\"p\","
		"\"event\":\"e\",\"known_event\":false,\"transaction_id\":null,"
		"\"dedupe_key\":\"k\",\"remote_addr\":null,\"problems\":[],"
		"\"data\":{}}",
		NULL
	}, *const bad[] = {
		"{\"v\":1,\"id\":\"a\",\"received_at\":\"t\",\"provider\":\"p\","
		"\"event\":null,\"known_event\":false,\"transaction_id\":null,"
		"\"dedupe_key\":\"k\",\"remote_addr\":null,\"data\":null}",
		"{\"v\":1,\"id\":\"a\",\"received_at\":\"t\",\"provider\":\"p\","
		"\"event\":1,\"known_event\":false,\"transaction_id\":null,"
		"\"dedupe_key\":\"k\",\"remote_addr\":null,\"data\":{}}",
		"{\"v\":1,\"id\":\"a\",\"received_at\":\"t\",\"provider\":\"p\","
		"\"event\":null,\"known_event\":false,\"transaction_id\":null,"
		"\"dedupe_key\":\"k\",\"remote_addr\":null,\"problems\":[1],"
		"\"data\":{}}",
		"{\"v\":1,\"id\":\"a\",\"received_at\":\"t\",\"provider\":\"p\","
		"\"event\":null,\"known_event\":false,\"transaction_id\":null,"
		"\"dedupe_key\":\"k\",\"remote_addr\":null,\"problems\":\"x\","
		"\"data\":{}}",
		NULL
	};
	size_t i;

	for (i = 0; good[i] != NULL; i++) {
		T_EQ_INT(eh_record_parse(&rec, good[i], strlen(good[i])), EH_OK);
		T_CHECK(rec.event == NULL || strcmp(rec.event, "e") == 0);
		T_CHECK(rec.transaction_id == NULL);
		eh_record_free(&rec);
	}
	for (i = 0; bad[i] != NULL; i++)
		T_CHECK(eh_record_parse(&rec, bad[i], strlen(bad[i])) != EH_OK);
}

const struct t_case t_record[] = {
	{ "build a record and read it back", build_and_parse },
	{ "remote_addr null when absent or not UTF-8", no_remote_addr },
	{ "ids are unique and sort by time", ids_unique_and_sorted },
	{ "reading rejects what is not a v1 record", parse_rejects },
	{ "a record without problems keeps its exact format", format_unchanged },
	{ "a record with problems lists them", with_problems },
	{ "a body that is no data is kept as raw", raw_body },
	{ "reading accepts nulls, not broken problems", parse_nulls },
	{ NULL, NULL }
};
