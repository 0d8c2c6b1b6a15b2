/* lib/record.c: the spool record, ids, and reading records back. */
#include <stdlib.h>

#include <jansson.h>
#include <sodium.h>

#include "../lib/esignhook.h"
#include "../lib/extern.h"
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

/* ---- the record and the key as they were built before issue 11 ---- */

/* The record the way eh_record_build made it up to issue 11: json_pack
 * of the header, json_dumps, data spliced in.  The reference the
 * direct writer must match byte for byte. */
static enum eh_err
old_record_build(char **out, size_t *outlen, const struct eh_event *ev,
    const char *id, const struct timespec *when, const char *remote_addr)
{
	struct tm tm;
	char at[48], date[32], more[64];
	json_t *head, *pj;
	char *htext, *rec, *p;
	size_t hlen, n, tail, i;
	time_t t = when->tv_sec;
	int raw = ev->data == NULL;

	*out = NULL;
	*outlen = 0;
	gmtime_r(&t, &tm);
	strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(at, sizeof(at), "%.19s.%03uZ", date,
	    (unsigned)(when->tv_nsec / 1000000) % 1000u);
	if (remote_addr != NULL &&
	    !eh_utf8_valid(remote_addr, strlen(remote_addr)))
		remote_addr = NULL;
	head = json_pack("{s:i, s:s, s:s, s:s, s:s?, s:b, s:s?, s:s, s:s?}",
	    "v", 1, "id", id, "received_at", at,
	    "provider", eh_provider_name(ev->provider), "event", ev->name,
	    "known_event", ev->known, "transaction_id", ev->transaction_id,
	    "dedupe_key", ev->dedupe_key, "remote_addr", remote_addr);
	if (head == NULL)
		return EH_ERR_NOMEM;
	if (raw || ev->problems.n > 0 || ev->problems.dropped > 0) {
		pj = json_array();
		for (i = 0; pj != NULL && i < ev->problems.n; i++)
			if (json_array_append_new(pj,
			    json_string(ev->problems.line[i])) != 0) {
				json_decref(pj);
				pj = NULL;
			}
		if (pj != NULL && ev->problems.dropped > 0) {
			snprintf(more, sizeof(more),
			    "%zu more problems not listed",
			    ev->problems.dropped);
			json_array_append_new(pj, json_string(more));
		}
		if (pj == NULL || json_object_set_new(head, "problems", pj) != 0) {
			json_decref(head);
			return EH_ERR_NOMEM;
		}
	}
	htext = json_dumps(head, JSON_COMPACT);
	json_decref(head);
	if (htext == NULL)
		return EH_ERR_NOMEM;
	hlen = strlen(htext) - 1;
	if (raw)
		tail = sizeof(",\"data\":null,\"raw\":\"") - 1 +
		    sodium_base64_ENCODED_LEN(ev->raw_len,
		    sodium_base64_VARIANT_ORIGINAL) - 1 + 1;
	else
		tail = sizeof(",\"data\":") - 1 + ev->data_len;
	n = hlen + tail + 2;
	rec = malloc(n + 1);
	if (rec == NULL) {
		free(htext);
		return EH_ERR_NOMEM;
	}
	memcpy(rec, htext, hlen);
	p = rec + hlen;
	if (raw) {
		memcpy(p, ",\"data\":null,\"raw\":\"", 20);
		p += 20;
		sodium_bin2base64(p, sodium_base64_ENCODED_LEN(ev->raw_len,
		    sodium_base64_VARIANT_ORIGINAL),
		    (const unsigned char *)ev->raw, ev->raw_len,
		    sodium_base64_VARIANT_ORIGINAL);
		p += strlen(p);
		*p++ = '"';
	} else {
		memcpy(p, ",\"data\":", 8);
		p += 8;
		memcpy(p, ev->data, ev->data_len);
		p += ev->data_len;
	}
	memcpy(p, "}\n", 3);
	free(htext);
	*out = rec;
	*outlen = n;
	return EH_OK;
}

/* The key the way eh__dedupe_key made it up to issue 11: the whole
 * canonical text built, then hashed. */
static int
old_dedupe_key(char out[65], const char *provider, const json_t *data)
{
	crypto_hash_sha256_state st;
	unsigned char digest[crypto_hash_sha256_BYTES];
	char *canon;

	canon = json_dumps(data, JSON_COMPACT | JSON_SORT_KEYS);
	if (canon == NULL)
		return -1;
	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, (const unsigned char *)provider,
	    strlen(provider));
	crypto_hash_sha256_update(&st, (const unsigned char *)"\n", 1);
	crypto_hash_sha256_update(&st, (const unsigned char *)canon,
	    strlen(canon));
	crypto_hash_sha256_final(&st, digest);
	free(canon);
	sodium_bin2hex(out, 65, digest, sizeof(digest));
	return 0;
}

/* Both builders on ev, and the same answer: bytes, length, or error. */
static void
same_record(const struct eh_event *ev, const char *id,
    const struct timespec *when, const char *remote, const char *what)
{
	char *a = NULL, *b = NULL;
	size_t alen = 0, blen = 0;
	enum eh_err ea, eb;

	ea = old_record_build(&a, &alen, ev, id, when, remote);
	eb = eh_record_build(&b, &blen, ev, id, when, remote);
	T_EQ_INT(eb, ea);
	T_EQ_INT(blen, alen);
	if (ea == EH_OK && eb == EH_OK &&
	    (alen != blen || memcmp(a, b, alen) != 0 || b[blen] != '\0')) {
		fprintf(stderr, "  %s:\n  old %s  new %s", what, a, b);
		t_failed++;
	}
	free(a);
	free(b);
}

/* Strings a sender may put in a name, an id or a problem line. */
static const char *const odd_strings[] = {
	"", "PACKAGE_COMPLETE", "q\"uote", "back\\slash", "sl/ash",
	"tab\there", "nl\ncr\rff\fbs\b", "\x01\x02\x1f\x7f end",
	"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", "\xe2\x80\xa8 \xe2\x80\xa9",
	"\"\\\"\\", "\x1b[31mred\x1b[0m", "trailing\\", "\x7f",
	"not utf-8 \xff", "cut \xe2\x82", NULL
};

static void
record_same_as_jansson(void)
{
	static const char *const bodies[] = {
		"{\"name\":\"PACKAGE_COMPLETE\",\"packageId\":\"p1\"}",
		"{\"name\":\"SIGNER_COMPLETE\",\"packageId\":\"p\\\"1\","
		    "\"sessionUser\":\"u\\u0001\\n\",\"x\":[1,2.5,null]}",
		"{\"name\":\"UNKNOWN_THING\",\"packageId\":\"\\u00e9\\u2028\"}",
		"{\"name\":\"PACKAGE_COMPLETE\"}",
		"{\"packageId\":\"p\"}",
		"{\"name\":7,\"packageId\":[]}",
		"{\"name\":\"\\u001f\\\\/\\\"\",\"packageId\":\"\\u007f\"}",
		NULL
	};
	static const char *const remotes[] = {
		NULL, "10.0.0.1", "::1", "\xff", "a\"b\\c\n", ""
	};
	struct timespec whens[] = { { 1795347124, 987654321 }, { 0, 0 },
	    { 1795347124, 999999999 }, { 951782400, 1000000 },
	    { -1, 0 }, { 253402300799, 999999999 }, { 253402300800, 0 },
	    { -62135596800, 0 }, { 4102444799, 500000000 } };
	const char *id = "20261122T113204.987654Z-0123456789abcdef";
	struct eh_event ev;
	struct eh_problems pr;
	char what[128];
	size_t i, j, k;

	for (i = 0; bodies[i] != NULL; i++) {
		if (eh_onespan_parse(&ev, bodies[i], strlen(bodies[i])) !=
		    EH_OK) {
			/* Not data at all: stored raw, as the handler does. */
			T_EQ_INT(eh_event_raw(&ev, EH_PROVIDER_ONESPAN,
			    bodies[i], strlen(bodies[i]), NULL), EH_OK);
		}
		for (j = 0; j < sizeof(remotes) / sizeof(remotes[0]); j++)
			for (k = 0; k < sizeof(whens) / sizeof(whens[0]); k++) {
				snprintf(what, sizeof(what), "body %zu remote "
				    "%zu when %zu", i, j, k);
				same_record(&ev, id, &whens[k], remotes[j],
				    what);
			}
		ev.known = !ev.known;
		same_record(&ev, id, &whens[0], NULL, "known flipped");
		eh_event_free(&ev);
	}
	/* Every odd string as event name, transaction id, problem line
	 * and id; nulls; problems listed, dropped, both. */
	for (i = 0; odd_strings[i] != NULL; i++) {
		memset(&ev, 0, sizeof(ev));
		ev.provider = EH_PROVIDER_ALPHATRUST;
		ev.name = strdup(odd_strings[i]);
		ev.transaction_id = i % 2 ? NULL : strdup(odd_strings[i]);
		ev.data = strdup("{\"EventType\":\"x\"}");
		ev.data_len = strlen(ev.data);
		memset(ev.dedupe_key, 'a', 64);
		snprintf(what, sizeof(what), "odd string %zu", i);
		same_record(&ev, id, &whens[0], odd_strings[i], what);
		same_record(&ev, odd_strings[i], &whens[0], NULL, what);
		free(ev.name);
		ev.name = NULL;
		same_record(&ev, id, &whens[0], NULL, what);
		ev.problems.n = 1;
		snprintf(ev.problems.line[0], EH_PROBLEM_MAX, "%s",
		    odd_strings[i]);
		same_record(&ev, id, &whens[0], NULL, what);
		ev.problems.dropped = 3;
		same_record(&ev, id, &whens[0], NULL, what);
		ev.problems.n = 0;
		same_record(&ev, id, &whens[0], NULL, what);
		eh_event_free(&ev);
	}
	/* Raw events: with their own problems, a full list, none given,
	 * empty and binary bodies. */
	memset(&pr, 0, sizeof(pr));
	for (i = 0; i < EH_PROBLEMS_MAX + 2; i++)
		eh_problem_add(&pr, EH_ERR_JSON, "problem %zu: \"%s\"", i,
		    odd_strings[i % 10]);
	T_EQ_INT(eh_event_raw(&ev, EH_PROVIDER_ONESPAN, "\x00\xff{", 3, &pr),
	    EH_OK);
	same_record(&ev, id, &whens[0], "10.0.0.1", "raw, full problems");
	eh_event_free(&ev);
	T_EQ_INT(eh_event_raw(&ev, EH_PROVIDER_ALPHATRUST, "", 0, NULL),
	    EH_OK);
	same_record(&ev, id, &whens[1], NULL, "raw, empty");
	eh_event_free(&ev);
	T_EQ_INT(eh_event_raw(&ev, EH_PROVIDER_AUTO, "a=b&c", 5, NULL),
	    EH_OK);
	same_record(&ev, id, &whens[2], NULL, "raw, provider auto");
	eh_event_free(&ev);
}

/* Every byte that can be in a C string, alone and between others:
 * the escaping is jansson's. */
static void
record_escapes_every_byte(void)
{
	const char *id = "20261122T113204.987654Z-0123456789abcdef";
	struct timespec when = { 1795347124, 0 };
	struct eh_event ev;
	char s[8], what[64];
	int c;

	for (c = 1; c < 0x100; c++) {
		memset(&ev, 0, sizeof(ev));
		s[0] = 'a';
		s[1] = (char)c;
		s[2] = 'z';
		s[3] = (char)c;
		s[4] = '\0';
		ev.name = s;
		ev.data = (char *)"{}";
		ev.data_len = 2;
		snprintf(what, sizeof(what), "byte 0x%02x", c);
		same_record(&ev, id, &when, NULL, what);
	}
}

/* The key streamed into the hash is the key of the built text: the
 * markers in seen/ of events stored before still match. */
static void
dedupe_key_unchanged(void)
{
	static const char *const payloads[] = {
		"{}", "[]", "{\"a\":1}", "{\"b\":1,\"a\":2}",
		"{\"z\":{\"y\":[3,2,{\"x\":null,\"w\":true}],\"a\":false}}",
		"{\"n\":-0.0,\"r\":1.5e300,\"i\":-9223372036854775807,"
		    "\"f\":0.1,\"e\":1e-7}",
		"{\"s\":\"\\u0000\"}", "{\"s\":\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"}",
		"{\"\\u00e9\":\"caf\\u00e9\",\"\\ud83d\\ude00\":\"\\u2028\"}",
		"{\"name\":\"PACKAGE_COMPLETE\",\"packageId\":\"p1\","
		    "\"sessionUser\":\"u\",\"createdDate\":"
		    "\"2026-11-22 11:32:04.123\"}",
		"{\"a\":{},\"b\":[],\"c\":[[]],\"d\":[{}]}",
		"{\"\\u00e9\":1,\"z\":2,\"Z\":3,\"\":4,\"a\":5,\"ab\":6,"
		    "\"a b\":7,\"a\\u0001\":8,\"\\u007f\":9,\"~\":10}",
		"[{\"k\":[1,-1,0,9223372036854775807,-9223372036854775807]},"
		    "\"\\u0000\\u001f\\u007f\\u0080\\uffff\",true,false,null,"
		    "[[[[[[[[[[{\"deep\":[]}]]]]]]]]]],1.0,-2.5e-10,123456789.123]",
		"{\"amount\":12.5,\"n\":1e300,\"m\":-1e-300,\"o\":5e-324}",
		"[]", "[{}]",
		NULL
	};
	json_t *v;
	char a[65], b[65], big[9000];
	size_t i, j;

	for (i = 0; payloads[i] != NULL; i++) {
		v = json_loads(payloads[i], JSON_ALLOW_NUL, NULL);
		T_CHECK(v != NULL);
		if (v == NULL)
			continue;
		T_EQ_INT(old_dedupe_key(a, "onespan", v), 0);
		T_EQ_INT(eh__dedupe_key(b, "onespan", v), 0);
		T_EQ_STR(b, a);
		T_EQ_INT(eh__dedupe_key(b, "alphatrust", v), 0);
		T_CHECK(strcmp(a, b) != 0);
		json_decref(v);
	}
	/* Long strings and many keys: past the stream's buffer, in one
	 * piece and in many. */
	for (j = 0; j < 3; j++) {
		v = json_object();
		memset(big, 'x', sizeof(big));
		big[j == 0 ? 2047 : j == 1 ? 2048 : sizeof(big) - 1] = '\0';
		json_object_set_new(v, "big", json_string(big));
		for (i = 0; i < 300; i++) {
			snprintf(big, sizeof(big), "k%03zu", (i * 7) % 300);
			json_object_set_new(v, big, json_integer((json_int_t)i));
		}
		T_EQ_INT(old_dedupe_key(a, "alphatrust", v), 0);
		T_EQ_INT(eh__dedupe_key(b, "alphatrust", v), 0);
		T_EQ_STR(b, a);
		json_decref(v);
	}
	/* Keys that hold a NUL (json_object_setn): ordered by bytes, then
	 * length, as jansson orders them. */
	v = json_object();
	json_object_setn_new(v, "a\0b", 3, json_integer(1));
	json_object_setn_new(v, "a", 1, json_integer(2));
	json_object_setn_new(v, "a\0", 2, json_string("x"));
	json_object_set_new(v, "b", json_stringn("n\0ul", 4));
	T_EQ_INT(old_dedupe_key(a, "onespan", v), 0);
	T_EQ_INT(eh__dedupe_key(b, "onespan", v), 0);
	T_EQ_STR(b, a);
	json_decref(v);
	/* Deep: as deep as jansson parses. */
	{
		char deep[2 * 1000 + 1];

		memset(deep, '[', 1000);
		memset(deep + 1000, ']', 1000);
		deep[2000] = '\0';
		v = json_loads(deep, 0, NULL);
		T_CHECK(v != NULL);
		T_EQ_INT(old_dedupe_key(a, "onespan", v), 0);
		T_EQ_INT(eh__dedupe_key(b, "onespan", v), 0);
		T_EQ_STR(b, a);
		json_decref(v);
	}
	/* Every OneSpan sample of tests/data, as the receiver keys it. */
	{
		static const char *const samples[] = {
			"cobrowse-request", "document-signed-consent",
			"document-signed", "document-viewed", "email-bounce",
			"kba-failure", "package-activate", "package-archive",
			"package-attachment", "package-complete",
			"package-create", "package-deactivate",
			"package-decline", "package-delete", "package-expire",
			"package-ready-for-complete", "package-restore",
			"package-trash", "recordings-ready", "role-reassign",
			"signer-complete", "signer-locked", "template-create",
			NULL
		};
		char path[256], *buf;
		size_t blen;

		for (i = 0; samples[i] != NULL; i++) {
			snprintf(path, sizeof(path), "tests/data/onespan/%s.json",
			    samples[i]);
			buf = t_read_file(path, &blen);
			T_CHECK(buf != NULL);
			if (buf == NULL)
				continue;
			v = json_loadb(buf, blen, 0, NULL);
			T_CHECK(v != NULL);
			T_EQ_INT(old_dedupe_key(a, "onespan", v), 0);
			T_EQ_INT(eh__dedupe_key(b, "onespan", v), 0);
			T_EQ_STR(b, a);
			json_decref(v);
			free(buf);
		}
	}
	/* Not a container: refused, as json_dumps refused it. */
	v = json_integer(1);
	T_EQ_INT(eh__dedupe_key(b, "onespan", v), -1);
	json_decref(v);
	/* A key fixed before issue 11: a seen/ marker of then still
	 * matches. */
	v = json_loads("{\"name\":\"PACKAGE_COMPLETE\",\"packageId\":\"p1\"}",
	    0, NULL);
	T_EQ_INT(eh__dedupe_key(b, "onespan", v), 0);
	T_EQ_INT(old_dedupe_key(a, "onespan", v), 0);
	T_EQ_STR(b, a);
	json_decref(v);
}

/* Ids' text, digit by digit, is strftime's and snprintf's: at times
 * from 1970 to 9999, and past (years of other widths: strftime). */
static void
id_format_unchanged(void)
{
	static const long long secs[] = { 0, 1, 59, 951782400, 951868799,
	    1795347124, 2147483647, 2147483648LL, 4102444799LL,
	    253402300799LL, 253402300800LL, -1, -62135596800LL,
	    -30610224000LL, 32503680000LL };
	static const long nsecs[] = { 0, 999, 1000, 123456789, 999999999 };
	const unsigned char rnd[8] = { 0x01, 0x23, 0x45, 0x67, 0x89, 0xab,
	    0xcd, 0xef };
	struct timespec when;
	struct tm tm;
	char id[EH_ID_LEN + 1], want[EH_ID_LEN + 1], date[32];
	time_t t;
	size_t i, j;

	for (i = 0; i < sizeof(secs) / sizeof(secs[0]); i++)
		for (j = 0; j < sizeof(nsecs) / sizeof(nsecs[0]); j++) {
			when.tv_sec = (time_t)secs[i];
			when.tv_nsec = nsecs[j];
			t = when.tv_sec;
			gmtime_r(&t, &tm);
			strftime(date, sizeof(date), "%Y%m%dT%H%M%S", &tm);
			snprintf(want, sizeof(want), "%.15s.%06uZ-%s", date,
			    (unsigned)(when.tv_nsec / 1000) % 1000000u,
			    "0123456789abcdef");
			memset(id, 'X', sizeof(id));
			eh__id_format(id, &when, rnd);
			T_EQ_STR(id, want);
		}
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
	{ "the record is byte for byte jansson's", record_same_as_jansson },
	{ "the record escapes every byte as jansson", record_escapes_every_byte },
	{ "the streamed dedupe key is the built one's", dedupe_key_unchanged },
	{ "ids' text is strftime's and snprintf's", id_format_unchanged },
	{ NULL, NULL }
};
