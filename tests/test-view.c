/* lib/view.c: what list, show and stats print, and the spool they read. */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include <jansson.h>

#include "../lib/esignhook.h"
#include "t.h"

#define ID1 "20261122T113659.476894Z-2b8c93b75279f93e"
#define ID2 "20261122T103659.000000Z-0123456789abcdef"
#define ID3 "20261118T113659.476894Z-ffffffffffffffff"
#define TX1 "5n4obeO8jYoPp126Cm-Y3fxdfbo="

/* A record as the receiver writes it, by hand. */
static char *
record(const char *id, const char *provider, const char *event,
    const char *tx, size_t *len)
{
	char *p;
	int n;

	p = malloc(1024);
	n = snprintf(p, 1024, "{\"v\":1,\"id\":\"%s\",\"received_at\":"
	    "\"2026-11-22T11:36:59.476Z\",\"provider\":\"%s\",\"event\":"
	    "\"%s\",\"known_event\":true,\"transaction_id\":\"%s\","
	    "\"dedupe_key\":\"%064d\",\"remote_addr\":null,\"data\":"
	    "{\"name\":\"%s\"}}\n", id, provider, event, tx, 0, event);
	*len = (size_t)n;
	return p;
}

static void
age(void)
{
	static const struct {
		int64_t ms;
		const char *want;
	} t[] = {
		{ -1, "-" },
		{ -86400000, "-" },
		{ 0, "0s" },
		{ 999, "0s" },
		{ 5000, "5s" },
		{ 59999, "59s" },
		{ 60000, "1m" },
		{ 3 * 60000 + 59000, "3m" },
		{ 3599999, "59m" },
		{ 3600000, "1h" },
		{ 2 * 3600000 + 1, "2h" },
		{ 86399999, "23h" },
		{ 86400000, "1d" },
		{ 4 * 86400000LL + 3600000, "4d" },
		{ 400 * 86400000LL, "400d" },
	};
	char buf[16];
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		memset(buf, 'x', sizeof(buf));
		eh_view_age(buf, sizeof(buf), t[i].ms);
		T_EQ_STR(buf, t[i].want);
	}
	/* A short buffer is cut, never overrun. */
	memset(buf, 'x', sizeof(buf));
	eh_view_age(buf, 3, 400 * 86400000LL);
	T_EQ_STR(buf, "40");
	T_EQ_INT(buf[3], 'x');
}

/* The keys of object o, in order, joined by ",". */
static void
keys_of(char *out, size_t sz, json_t *o)
{
	const char *k;
	json_t *v;
	size_t n = 0;

	out[0] = '\0';
	json_object_foreach(o, k, v) {
		n += (size_t)snprintf(out + n, sz - n, "%s%s", n ? "," : "", k);
		if (n >= sz)
			break;
	}
}

static json_t *
load(const char *text)
{
	json_error_t jerr;
	json_t *j;

	/* One line, and it is the whole of the text. */
	T_CHECK(strchr(text, '\n') == text + strlen(text) - 1);
	j = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
	T_CHECK(j != NULL);
	return j;
}

static void
list_json(void)
{
	static const char keys[] = "id,folder,provider,event,transaction_id,"
	    "received_at,attempts,next_attempt_at,last_error";
	struct eh_view_entry e;
	struct eh_qstate st;
	json_t *j;
	char *rec, *text, k[256];
	size_t len;

	/* A good record with a state. */
	memset(&st, 0, sizeof(st));
	st.attempts = 2;
	st.next_at_ms = 1795347600000LL; /* 2026-11-22T11:40:00Z */
	snprintf(st.last_error, sizeof(st.last_error), "exec: exit status 1");
	rec = record(ID1, "onespan", "PACKAGE_COMPLETE", TX1, &len);
	T_EQ_INT(eh_view_entry_make(&e, ID1, EH_F_RETRY, rec, len, &st), EH_OK);
	T_EQ_INT(eh_view_entry_json(&text, &e), EH_OK);
	j = load(text);
	keys_of(k, sizeof(k), j);
	T_EQ_STR(k, keys);
	T_EQ_INT(json_object_size(j), 9);
	T_EQ_STR(json_string_value(json_object_get(j, "id")), ID1);
	T_EQ_STR(json_string_value(json_object_get(j, "folder")), "retry");
	T_EQ_STR(json_string_value(json_object_get(j, "provider")), "onespan");
	T_EQ_STR(json_string_value(json_object_get(j, "event")),
	    "PACKAGE_COMPLETE");
	T_EQ_STR(json_string_value(json_object_get(j, "transaction_id")), TX1);
	T_EQ_STR(json_string_value(json_object_get(j, "received_at")),
	    "2026-11-22T11:36:59.476Z");
	T_CHECK(json_is_integer(json_object_get(j, "attempts")));
	T_EQ_INT(json_integer_value(json_object_get(j, "attempts")), 2);
	T_EQ_STR(json_string_value(json_object_get(j, "next_attempt_at")),
	    "2026-11-22T11:40:00.000Z");
	T_EQ_STR(json_string_value(json_object_get(j, "last_error")),
	    "exec: exit status 1");
	json_decref(j);
	free(text);
	eh_view_entry_free(&e);
	eh_view_entry_free(&e);

	/* No state: attempts 0, next_attempt_at and last_error null. */
	T_EQ_INT(eh_view_entry_make(&e, ID1, EH_F_NEW, rec, len, NULL), EH_OK);
	T_EQ_INT(eh_view_entry_json(&text, &e), EH_OK);
	j = load(text);
	keys_of(k, sizeof(k), j);
	T_EQ_STR(k, keys);
	T_EQ_INT(json_integer_value(json_object_get(j, "attempts")), 0);
	T_CHECK(json_is_null(json_object_get(j, "next_attempt_at")));
	T_CHECK(json_is_null(json_object_get(j, "last_error")));
	T_EQ_STR(json_string_value(json_object_get(j, "provider")), "onespan");
	json_decref(j);
	free(text);
	eh_view_entry_free(&e);
	free(rec);

	/* Records that do not parse are listed: the record's fields null,
	 * the state's as they are. */
	{
		static const char *const bad[] = {
			NULL,
			"",
			"not json",
			"[1,2]\n",
			"{\"v\":2,\"id\":\"x\"}\n",
			"{\"v\":1,\"id\":\"a\",\"id\":\"b\"}\n",
		};
		size_t i;

		snprintf(st.last_error, sizeof(st.last_error),
		    "record: not a record");
		st.next_at_ms = 0;
		st.attempts = 1;
		for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			T_EQ_INT(eh_view_entry_make(&e, ID3, EH_F_FAILED,
			    bad[i], bad[i] ? strlen(bad[i]) : 0, &st), EH_OK);
			T_EQ_INT(eh_view_entry_json(&text, &e), EH_OK);
			j = load(text);
			keys_of(k, sizeof(k), j);
			T_EQ_STR(k, keys);
			T_EQ_STR(json_string_value(json_object_get(j, "id")),
			    ID3);
			T_EQ_STR(json_string_value(json_object_get(j,
			    "folder")), "failed");
			T_CHECK(json_is_null(json_object_get(j, "provider")));
			T_CHECK(json_is_null(json_object_get(j, "event")));
			T_CHECK(json_is_null(json_object_get(j,
			    "transaction_id")));
			T_CHECK(json_is_null(json_object_get(j,
			    "received_at")));
			T_CHECK(json_is_null(json_object_get(j,
			    "next_attempt_at")));
			T_EQ_INT(json_integer_value(json_object_get(j,
			    "attempts")), 1);
			T_EQ_STR(json_string_value(json_object_get(j,
			    "last_error")), "record: not a record");
			json_decref(j);
			free(text);
			eh_view_entry_free(&e);
		}
	}
}

/* The record eh_record_build makes lists as well as a hand-made one. */
static void
list_built_record(void)
{
	struct eh_event ev;
	struct eh_view_entry e;
	struct timespec when = { 1795347419, 476894000 };
	const char *b = "{\"name\":\"PACKAGE_DECLINE\",\"packageId\":\"p-9\"}";
	char id[EH_ID_LEN + 1], *rec;
	size_t len;

	T_EQ_INT(eh_onespan_parse(&ev, b, strlen(b)), EH_OK);
	eh_id_make(id, &when);
	T_EQ_INT(eh_record_build(&rec, &len, &ev, id, &when, "192.0.2.1"),
	    EH_OK);
	T_EQ_INT(eh_view_entry_make(&e, id, EH_F_DONE, rec, len, NULL), EH_OK);
	T_EQ_STR(e.provider, "onespan");
	T_EQ_STR(e.event, "PACKAGE_DECLINE");
	T_EQ_STR(e.transaction_id, "p-9");
	T_EQ_STR(e.received_at, "2026-11-22T11:36:59.476Z");
	T_EQ_INT(e.folder, EH_F_DONE);
	eh_view_entry_free(&e);
	free(rec);
	eh_event_free(&ev);
}

static void
table(void)
{
	struct eh_view_entry e[3];
	struct eh_qstate st;
	int64_t now = eh_id_time_ms(ID1) + 5000;
	char *rec, *text, want[2048];
	size_t len;
	int n;

	T_CHECK(eh_id_time_ms(ID1) > 0);
	rec = record(ID1, "onespan", "PACKAGE_COMPLETE", TX1, &len);
	T_EQ_INT(eh_view_entry_make(&e[0], ID1, EH_F_NEW, rec, len, NULL),
	    EH_OK);
	free(rec);
	memset(&st, 0, sizeof(st));
	st.attempts = 2;
	st.next_at_ms = now + 3 * 60000 + 500;
	snprintf(st.last_error, sizeof(st.last_error), "exec: exit status 1");
	rec = record(ID2, "alphatrust", "transaction", "1234567890", &len);
	T_EQ_INT(eh_view_entry_make(&e[1], ID2, EH_F_RETRY, rec, len, &st),
	    EH_OK);
	free(rec);
	st.attempts = 1;
	st.next_at_ms = 0;
	snprintf(st.last_error, sizeof(st.last_error), "record: not JSON");
	T_EQ_INT(eh_view_entry_make(&e[2], ID3, EH_F_FAILED, "{", 1, &st),
	    EH_OK);

	/* Widths: 40, 3, 6, 10 (alphatrust), 16, 28, 8, 5 ("in 3m"). */
	n = snprintf(want, sizeof(want),
	    "%-40s  %-3s  %-6s  %-10s  %-16s  %-28s  %-8s  %-5s  %s\n"
	    "%-40s  %-3s  %-6s  %-10s  %-16s  %-28s  %-8s  %-5s  %s\n"
	    "%-40s  %-3s  %-6s  %-10s  %-16s  %-28s  %-8s  %-5s  %s\n"
	    "%-40s  %-3s  %-6s  %-10s  %-16s  %-28s  %-8s  %-5s  %s\n",
	    "ID", "AGE", "FOLDER", "PROVIDER", "EVENT", "TRANSACTION",
	    "ATTEMPTS", "NEXT", "LAST ERROR",
	    ID1, "5s", "new", "onespan", "PACKAGE_COMPLETE", TX1, "0", "-",
	    "-",
	    ID2, "1h", "retry", "alphatrust", "transaction", "1234567890",
	    "2", "in 3m", "exec: exit status 1",
	    ID3, "4d", "failed", "-", "-", "-", "1", "-", "record: not JSON");
	T_CHECK(n > 0 && (size_t)n < sizeof(want));
	T_EQ_INT(eh_view_table(&text, e, 3, now), EH_OK);
	T_EQ_STR(text, want);
	free(text);

	/* Overdue: "due".  Nothing to list: the header alone. */
	T_EQ_INT(eh_view_table(&text, &e[1], 1, now + 3600000), EH_OK);
	T_CHECK(strstr(text, "  due  ") != NULL);
	free(text);
	T_EQ_INT(eh_view_table(&text, NULL, 0, now), EH_OK);
	T_EQ_STR(text, "ID  AGE  FOLDER  PROVIDER  EVENT  TRANSACTION  "
	    "ATTEMPTS  NEXT  LAST ERROR\n");
	free(text);
	eh_view_entry_free(&e[0]);
	eh_view_entry_free(&e[1]);
	eh_view_entry_free(&e[2]);
}

/* What reaches a terminal carries no control character; widths count
 * characters, not bytes; a cell over 40 widens only its own line. */
static void
table_safe(void)
{
	struct eh_view_entry e[2];
	struct eh_qstate st;
	int64_t now = eh_id_time_ms(ID1);
	char long_tx[61], *rec, *text, *line2, *line3;
	size_t len, i;

	memset(long_tx, 't', 60);
	long_tx[60] = '\0';
	memset(&st, 0, sizeof(st));
	/* ESC [ 2 J, a C1 CSI (U+009B), DEL, a newline. */
	snprintf(st.last_error, sizeof(st.last_error),
	    "bad\x1b[2J \xc2\x9b" "1m\x7f\nnext");
	rec = record(ID1, "onespan", "\\u001B[31mRED", "caf\xc3\xa9", &len);
	T_EQ_INT(eh_view_entry_make(&e[0], ID1, EH_F_FAILED, rec, len, &st),
	    EH_OK);
	free(rec);
	rec = record(ID2, "onespan", "X", long_tx, &len);
	T_EQ_INT(eh_view_entry_make(&e[1], ID2, EH_F_DONE, rec, len, NULL),
	    EH_OK);
	free(rec);
	T_EQ_INT(eh_view_table(&text, e, 2, now), EH_OK);
	for (i = 0; text[i] != '\0'; i++)
		T_CHECK(text[i] == '\n' || ((unsigned char)text[i] >= 0x20 &&
		    text[i] != 0x7f));
	T_CHECK(strstr(text, "\xc2\x9b") == NULL);
	T_CHECK(strstr(text, "\\u001B[31mRED") != NULL);
	T_CHECK(strstr(text, "bad\\u001B[2J \\u009B1m\\u007F\\u000Anext\n")
	    != NULL);
	/* Three lines: the header and one per entry. */
	line2 = strchr(text, '\n') + 1;
	line3 = strchr(line2, '\n') + 1;
	T_CHECK(strchr(line3, '\n') == text + strlen(text) - 1);
	/* TRANSACTION stays 11 wide (the 60 characters are past the cap)
	 * and "café" counts as 4 characters: 7 + 2 blanks after it. */
	T_CHECK(strstr(line2, "caf\xc3\xa9         ") != NULL);
	T_CHECK(strstr(line2, "caf\xc3\xa9          ") == NULL);
	/* The 60-character id is past the cap: its line is longer. */
	T_CHECK(strstr(line3, long_tx) != NULL);
	T_CHECK(strstr(text, "TRANSACTION  ATTEMPTS") != NULL);
	free(text);
	eh_view_entry_free(&e[0]);
	eh_view_entry_free(&e[1]);
}

static void
show_json(void)
{
	static const char keys[] = "folder,record,attempts,next_attempt_at,"
	    "last_error,actions_done";
	struct eh_qstate st;
	json_t *j, *r, *want;
	json_error_t jerr;
	char *rec, *text, k[256];
	size_t len;

	memset(&st, 0, sizeof(st));
	st.attempts = 3;
	st.next_at_ms = 1795347600000LL;
	snprintf(st.last_error, sizeof(st.last_error), "forward: HTTP 503");
	st.actions_done = 3;    /* download, exec */
	rec = record(ID1, "onespan", "PACKAGE_COMPLETE", TX1, &len);
	T_EQ_INT(eh_view_show_json(&text, EH_F_RETRY, rec, len, &st), EH_OK);
	j = load(text);
	keys_of(k, sizeof(k), j);
	T_EQ_STR(k, keys);
	T_EQ_STR(json_string_value(json_object_get(j, "folder")), "retry");
	r = json_object_get(j, "record");
	want = json_loadb(rec, len, 0, &jerr);
	T_CHECK(json_is_object(r) && json_equal(r, want));
	json_decref(want);
	T_EQ_INT(json_integer_value(json_object_get(j, "attempts")), 3);
	T_EQ_STR(json_string_value(json_object_get(j, "next_attempt_at")),
	    "2026-11-22T11:40:00.000Z");
	T_EQ_STR(json_string_value(json_object_get(j, "last_error")),
	    "forward: HTTP 503");
	r = json_object_get(j, "actions_done");
	T_EQ_INT(json_array_size(r), 2);
	T_EQ_STR(json_string_value(json_array_get(r, 0)), "download");
	T_EQ_STR(json_string_value(json_array_get(r, 1)), "exec");
	json_decref(j);
	free(text);

	/* In new/ with no state; then a record that is not JSON: null. */
	memset(&st, 0, sizeof(st));
	T_EQ_INT(eh_view_show_json(&text, EH_F_NEW, rec, len, &st), EH_OK);
	T_EQ_STR(strchr(text, '}') != NULL ? strstr(text, "}},") : NULL,
	    "}},\"attempts\":0,\"next_attempt_at\":null,\"last_error\":null,"
	    "\"actions_done\":[]}\n");
	free(text);
	T_EQ_INT(eh_view_show_json(&text, EH_F_FAILED, "{\"v\":", 5, &st),
	    EH_OK);
	T_EQ_STR(text, "{\"folder\":\"failed\",\"record\":null,\"attempts\":0,"
	    "\"next_attempt_at\":null,\"last_error\":null,"
	    "\"actions_done\":[]}\n");
	free(text);
	T_EQ_INT(eh_view_show_json(&text, EH_F_FAILED, NULL, 0, &st), EH_OK);
	T_CHECK(strstr(text, "\"record\":null") != NULL);
	free(text);
	free(rec);
}

static void
show_text(void)
{
	struct eh_qstate st;
	int64_t now = eh_id_time_ms(ID1) + 2 * 3600000;
	char *rec, *text, want[1024];
	size_t len, i;

	memset(&st, 0, sizeof(st));
	st.attempts = 2;
	st.next_at_ms = now + 5 * 60000;
	snprintf(st.last_error, sizeof(st.last_error), "exec: exit status 1");
	st.actions_done = 1;
	rec = record(ID1, "onespan", "PACKAGE_COMPLETE", "a\\u001Bb\x7f", &len);
	T_EQ_INT(eh_view_show_text(&text, ID1, EH_F_RETRY, rec, len, &st, now),
	    EH_OK);
	snprintf(want, sizeof(want),
	    "id:             %s\n"
	    "folder:         retry\n"
	    "age:            2h\n"
	    "attempts:       2\n"
	    "next attempt:   2026-11-22T13:41:59.476Z (in 5m)\n"
	    "last error:     exec: exit status 1\n"
	    "actions done:   download\n"
	    "record:\n"
	    "{\n"
	    "  \"v\": 1,\n"
	    "  \"id\": \"%s\",\n", ID1, ID1);
	T_CHECK(strncmp(text, want, strlen(want)) == 0);
	if (strncmp(text, want, strlen(want)) != 0)
		fprintf(stderr, "  got:\n%s", text);
	T_CHECK(strstr(text, "  \"transaction_id\": \"a\\u001Bb\\u007F\",\n")
	    != NULL);
	T_CHECK(strstr(text, "  \"data\": {\n    \"name\": "
	    "\"PACKAGE_COMPLETE\"\n  }\n}\n") != NULL);
	for (i = 0; text[i] != '\0'; i++)
		T_CHECK(text[i] == '\n' || ((unsigned char)text[i] >= 0x20 &&
		    text[i] != 0x7f));
	free(text);
	free(rec);

	/* No state; a record that is not JSON is shown as it is, safely. */
	memset(&st, 0, sizeof(st));
	T_EQ_INT(eh_view_show_text(&text, "odd-name", EH_F_FAILED,
	    "{\"v\":\x1b", 6, &st, now), EH_OK);
	T_EQ_STR(text,
	    "id:             odd-name\n"
	    "folder:         failed\n"
	    "age:            -\n"
	    "attempts:       0\n"
	    "next attempt:   -\n"
	    "last error:     -\n"
	    "actions done:   -\n"
	    "record (not a JSON object, 6 bytes):\n"
	    "{\"v\":\\u001B\n");
	free(text);
}

static void
stats_format(void)
{
	struct eh_view_stats s;
	char *text;

	memset(&s, 0, sizeof(s));
	s.events[EH_F_NEW] = 3;
	s.events[EH_F_CUR] = 1;
	s.events[EH_F_RETRY] = 2;
	s.events[EH_F_DONE] = 10;
	s.events[EH_F_FAILED] = 4;
	s.oldest_waiting_s = 7260;
	s.free_bytes = 12345678901ULL;
	T_EQ_INT(eh_view_stats_json(&text, &s), EH_OK);
	T_EQ_STR(text, "{\"new\":3,\"cur\":1,\"retry\":2,\"done\":10,"
	    "\"failed\":4,\"oldest_waiting_seconds\":7260,"
	    "\"free_bytes\":12345678901}\n");
	free(text);
	T_EQ_INT(eh_view_stats_prom(&text, &s), EH_OK);
	T_EQ_STR(text,
	    "# HELP esignhook_spool_events Events in each folder of the "
	    "esignhook spool.\n"
	    "# TYPE esignhook_spool_events gauge\n"
	    "esignhook_spool_events{folder=\"new\"} 3\n"
	    "esignhook_spool_events{folder=\"cur\"} 1\n"
	    "esignhook_spool_events{folder=\"retry\"} 2\n"
	    "esignhook_spool_events{folder=\"done\"} 10\n"
	    "esignhook_spool_events{folder=\"failed\"} 4\n"
	    "# HELP esignhook_spool_oldest_waiting_seconds Age of the oldest "
	    "event waiting in new/ or retry/ (0 when none).\n"
	    "# TYPE esignhook_spool_oldest_waiting_seconds gauge\n"
	    "esignhook_spool_oldest_waiting_seconds 7260\n"
	    "# HELP esignhook_spool_free_bytes Bytes available to "
	    "unprivileged users on the spool's file system.\n"
	    "# TYPE esignhook_spool_free_bytes gauge\n"
	    "esignhook_spool_free_bytes 12345678901\n");
	free(text);
	T_EQ_INT(eh_view_stats_text(&text, &s), EH_OK);
	T_EQ_STR(text,
	    "new:            3\n"
	    "cur:            1\n"
	    "retry:          2\n"
	    "done:           10\n"
	    "failed:         4\n"
	    "oldest waiting: 2h (7260 s)\n"
	    "free space:     12345678901 bytes (11.5 GiB)\n");
	free(text);

	/* Nothing waiting: 0, and "-" for people. */
	memset(&s, 0, sizeof(s));
	T_EQ_INT(eh_view_stats_json(&text, &s), EH_OK);
	T_EQ_STR(text, "{\"new\":0,\"cur\":0,\"retry\":0,\"done\":0,"
	    "\"failed\":0,\"oldest_waiting_seconds\":0,\"free_bytes\":0}\n");
	free(text);
	T_EQ_INT(eh_view_stats_text(&text, &s), EH_OK);
	T_CHECK(strstr(text, "oldest waiting: -\n") != NULL);
	free(text);
	T_EQ_INT(eh_view_stats_prom(&text, &s), EH_OK);
	T_CHECK(strstr(text, "\nesignhook_spool_oldest_waiting_seconds 0\n")
	    != NULL);
	free(text);
}

/* ---- a small spool, written by hand ---- */

static void
put_file(const char *root, const char *folder, const char *name,
    const char *text, size_t len)
{
	char path[512];
	int fd;

	snprintf(path, sizeof(path), "%s/%s/%s", root, folder, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	T_CHECK(fd >= 0);
	if (fd < 0)
		return;
	T_EQ_INT(eh_write_all(fd, text, len), 0);
	close(fd);
}

static void
put_record(const char *root, const char *folder, const char *id,
    const char *event)
{
	char name[128], *rec;
	size_t len;

	rec = record(id, "onespan", event, TX1, &len);
	snprintf(name, sizeof(name), "%s.json", id);
	put_file(root, folder, name, rec, len);
	free(rec);
}

#define ID_NEW1 "20261122T110000.000000Z-0000000000000001"
#define ID_NEW2 "20261122T113000.000000Z-0000000000000002"
#define ID_RETRY "20261122T100000.000000Z-0000000000000003"
#define ID_FAIL "20261121T100000.000000Z-0000000000000004"
#define ID_BROKEN "20261120T100000.000000Z-0000000000000005"
#define ID_DONE "20261101T100000.000000Z-0000000000000006"

static char *
small_spool(struct eh_queue *q)
{
	static const char state[] = "{\"attempts\":2,\"next_attempt_at\":"
	    "\"2026-11-22T12:00:00Z\",\"last_error\":\"exec: exit status 1\","
	    "\"actions_done\":[\"download\"],\"updated_at\":"
	    "\"2026-11-22T11:00:00Z\"}\n";
	static const char fstate[] = "{\"attempts\":1,\"next_attempt_at\":null,"
	    "\"last_error\":\"exec: exit status 100\",\"actions_done\":[],"
	    "\"updated_at\":\"2026-11-22T11:00:00Z\"}\n";
	char *dir = t_tmpdir();

	T_EQ_INT(eh_queue_open(q, dir), EH_OK);
	put_record(dir, "new", ID_NEW1, "PACKAGE_CREATE");
	put_record(dir, "new", ID_NEW2, "PACKAGE_COMPLETE");
	put_record(dir, "retry", ID_RETRY, "PACKAGE_DECLINE");
	put_file(dir, "retry", ID_RETRY ".state", state, strlen(state));
	put_record(dir, "failed", ID_FAIL, "PACKAGE_OPT_OUT");
	put_file(dir, "failed", ID_FAIL ".state", fstate, strlen(fstate));
	put_file(dir, "failed", ID_BROKEN ".json", "garbage\n", 8);
	put_file(dir, "failed", ID_BROKEN ".state", fstate, strlen(fstate));
	put_record(dir, "done", ID_DONE, "PACKAGE_COMPLETE");
	/* Not events: dot-files, temporaries, a state alone. */
	put_file(dir, "new", ".hidden.json", "{}", 2);
	put_file(dir, "new", "x.tmp", "{}", 2);
	put_file(dir, "done", "lonely.state", fstate, strlen(fstate));
	return dir;
}

static void
spool_stats(void)
{
	struct eh_queue q;
	struct eh_view_stats s;
	char *dir = small_spool(&q);
	int64_t now = eh_id_time_ms(ID_NEW2) + 60000;

	T_EQ_INT(eh_view_stats(&s, &q, now), EH_OK);
	T_EQ_INT(s.events[EH_F_NEW], 2);
	T_EQ_INT(s.events[EH_F_CUR], 0);
	T_EQ_INT(s.events[EH_F_RETRY], 1);
	T_EQ_INT(s.events[EH_F_DONE], 1);
	T_EQ_INT(s.events[EH_F_FAILED], 2);
	/* The oldest waiting is the one in retry/, 1 h 30 min + 1 min. */
	T_EQ_INT(s.oldest_waiting_s, 5460);
	T_CHECK(s.free_bytes > 0);
	/* With retry/ empty, new/'s oldest. */
	T_EQ_INT(eh_queue_remove(&q, ID_RETRY, EH_F_RETRY), 1);
	T_EQ_INT(eh_view_stats(&s, &q, now), EH_OK);
	T_EQ_INT(s.oldest_waiting_s, 1860);
	/* A clock behind the ids: 0, not negative. */
	T_EQ_INT(eh_view_stats(&s, &q, 0), EH_OK);
	T_EQ_INT(s.oldest_waiting_s, 0);
	eh_queue_close(&q);
	t_rmtree(dir);
	free(dir);
}

static void
spool_entries(void)
{
	struct eh_queue q;
	struct eh_view_entry e;
	char *dir = small_spool(&q), *text;

	T_EQ_INT(eh_view_entry_load(&e, &q, EH_F_RETRY, ID_RETRY), EH_OK);
	T_EQ_STR(e.id, ID_RETRY);
	T_EQ_INT(e.folder, EH_F_RETRY);
	T_EQ_STR(e.event, "PACKAGE_DECLINE");
	T_EQ_INT(e.st.attempts, 2);
	T_EQ_STR(e.st.last_error, "exec: exit status 1");
	T_EQ_INT(eh_view_entry_json(&text, &e), EH_OK);
	T_CHECK(strstr(text, "\"next_attempt_at\":\"2026-11-22T12:00:00.000Z\"")
	    != NULL);
	free(text);
	eh_view_entry_free(&e);
	/* The unparseable record: listed, its state's error kept. */
	T_EQ_INT(eh_view_entry_load(&e, &q, EH_F_FAILED, ID_BROKEN), EH_OK);
	T_EQ_STR(e.id, ID_BROKEN);
	T_CHECK(e.provider == NULL && e.event == NULL &&
	    e.transaction_id == NULL && e.received_at == NULL);
	T_EQ_INT(e.st.attempts, 1);
	T_EQ_STR(e.st.last_error, "exec: exit status 100");
	eh_view_entry_free(&e);
	/* Gone (or never there): EH_ERR_FIELD_MISSING, nothing owned. */
	T_EQ_INT(eh_view_entry_load(&e, &q, EH_F_NEW, ID_RETRY),
	    EH_ERR_FIELD_MISSING);
	T_CHECK(e.id == NULL);
	T_EQ_INT(eh_view_entry_load(&e, &q, EH_F_NEW, "../retry/" ID_RETRY),
	    EH_ERR_FIELD_MISSING);
	eh_queue_close(&q);
	t_rmtree(dir);
	free(dir);
}

static void
spool_older(void)
{
	struct eh_queue q;
	char *dir = small_spool(&q), **ids;
	size_t n;
	int64_t now = eh_now_ms();

	/* Age is from the file's ctime (just now), not from the id. */
	T_EQ_INT(eh_view_older(&q, EH_F_FAILED, 0, now + 1000, &ids, &n),
	    EH_OK);
	T_EQ_INT(n, 2);
	if (n == 2) {
		T_EQ_STR(ids[0], ID_BROKEN);
		T_EQ_STR(ids[1], ID_FAIL);
	}
	eh_ids_free(ids, n);
	T_EQ_INT(eh_view_older(&q, EH_F_FAILED, 3600000, now, &ids, &n),
	    EH_OK);
	T_EQ_INT(n, 0);
	eh_ids_free(ids, n);
	T_EQ_INT(eh_view_older(&q, EH_F_DONE, 3600000, now + 3601000, &ids,
	    &n), EH_OK);
	T_EQ_INT(n, 1);
	eh_ids_free(ids, n);
	eh_queue_close(&q);
	t_rmtree(dir);
	free(dir);
}

static void
write_file(void)
{
	char *dir = t_tmpdir(), path[512], *got;
	const char *op = NULL;
	struct stat st;
	mode_t old;
	size_t len;

	snprintf(path, sizeof(path), "%s/esignhook.prom", dir);
	T_EQ_INT(eh_view_write_file(path, "a 1\n", 4, &op), 0);
	got = t_read_file(path, &len);
	T_EQ_STR(got, "a 1\n");
	free(got);
	T_EQ_INT(eh_view_write_file(path, "b 2\n", 4, &op), 0);
	got = t_read_file(path, &len);
	T_EQ_STR(got, "b 2\n");
	free(got);
	/* Readable by the collector whatever the umask; no temporary left. */
	old = umask(077);
	T_EQ_INT(eh_view_write_file(path, "b 2\n", 4, &op), 0);
	umask(old);
	T_EQ_INT(stat(path, &st), 0);
	T_EQ_INT(st.st_mode & 07777, 0644);
	T_EQ_INT(t_count_files(dir), 1);
	/* A missing directory, a name that is a directory. */
	snprintf(path, sizeof(path), "%s/no/such/file", dir);
	errno = 0;
	T_EQ_INT(eh_view_write_file(path, "x", 1, &op), -1);
	T_EQ_INT(errno, ENOENT);
	T_EQ_STR(op, "open output directory");
	snprintf(path, sizeof(path), "%s/", dir);
	T_EQ_INT(eh_view_write_file(path, "x", 1, &op), -1);
	T_EQ_STR(op, "output file name");
	/* Over a directory: the rename fails, the temporary goes. */
	snprintf(path, sizeof(path), "%s/sub", dir);
	T_EQ_INT(mkdir(path, 0700), 0);
	T_EQ_INT(eh_view_write_file(path, "x", 1, &op), -1);
	T_EQ_STR(op, "rename output file");
	T_EQ_INT(t_count_files(dir), 2);
	t_rmtree(dir);
	free(dir);
}

const struct t_case t_view[] = {
	{ "age: 5s, 3m, 2h, 4d, - for none", age },
	{ "list --json: exactly the keys, nulls where due", list_json },
	{ "list: a record from eh_record_build", list_built_record },
	{ "list: the table, aligned, with a header", table },
	{ "list: no control character reaches the terminal", table_safe },
	{ "show --json: folder, record, state", show_json },
	{ "show: state lines, then the record pretty-printed", show_text },
	{ "stats: JSON, Prometheus text, for people", stats_format },
	{ "stats: counts and oldest waiting of a spool", spool_stats },
	{ "entries: read from a spool, broken records too", spool_entries },
	{ "purge: ages from ctime", spool_older },
	{ "write_file: atomic replace, errors named", write_file },
	{ NULL, NULL }
};
