/* lib/record.c: the spool record, ids, and reading records back. */
#include <stdlib.h>

#include <jansson.h>

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

const struct t_case t_record[] = {
	{ "build a record and read it back", build_and_parse },
	{ "remote_addr null when absent or not UTF-8", no_remote_addr },
	{ "ids are unique and sort by time", ids_unique_and_sorted },
	{ "reading rejects what is not a v1 record", parse_rejects },
	{ NULL, NULL }
};
