/*
 * The event record: the one JSON object (and newline) stored per event
 * in new/<id>.json, the contract later processing reads.  See README,
 * "The spool".  struct eh_event is this file's input, so its destructor
 * lives here, and so do the provider names the record's "provider"
 * field holds.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "esignhook.h"
#include "extern.h"

void
eh_event_free(struct eh_event *ev)
{
	free(ev->name);
	free(ev->transaction_id);
	free(ev->data);
	free(ev->raw);
	memset(ev, 0, sizeof(*ev));
}

/*
 * A problem line goes into JSON (valid UTF-8 only) and a log line (one
 * line): control bytes become '?', and a character cut by the size limit
 * is dropped.
 */
void
eh_problem_add(struct eh_problems *pr, enum eh_err err, const char *fmt,
    ...)
{
	va_list ap;
	char *line;
	size_t n, i;

	if (pr->n == 0 && pr->dropped == 0)
		pr->first = err;
	if (pr->n == EH_PROBLEMS_MAX) {
		pr->dropped++;
		return;
	}
	line = pr->line[pr->n++];
	va_start(ap, fmt);
	if (vsnprintf(line, EH_PROBLEM_MAX, fmt, ap) < 0)
		line[0] = '\0';
	va_end(ap);
	n = strlen(line);
	for (i = 0; i < n; i++)
		if ((unsigned char)line[i] < 0x20 || line[i] == 0x7f)
			line[i] = '?';
	for (i = 0; i < 3 && n > 0 && !eh_utf8_valid(line, n); i++)
		line[--n] = '\0';
	if (!eh_utf8_valid(line, n))
		for (i = 0; i < n; i++)
			if ((unsigned char)line[i] >= 0x80)
				line[i] = '?';
}

void
eh__problems_append(struct eh_problems *dst, const struct eh_problems *src,
    const char *prefix)
{
	size_t i;

	for (i = 0; i < src->n; i++)
		eh_problem_add(dst, src->first, "%s%s", prefix != NULL ?
		    prefix : "", src->line[i]);
	dst->dropped += src->dropped;
}

#define NAME_SHOWN 40

const char *
eh__problem_name(char *out, size_t cap, const char *name)
{
	size_t n = strlen(name), i, max = NAME_SHOWN;
	int cut = 0;

	if (cap < 8) {
		if (cap > 0)
			out[0] = '\0';
		return out;
	}
	if (max > cap - 4)
		max = cap - 4;
	if (n > max) {
		/* Never inside a UTF-8 sequence. */
		for (n = max; n > 0 && ((unsigned char)name[n] & 0xc0) == 0x80;
		    n--)
			continue;
		cut = 1;
	}
	for (i = 0; i < n; i++)
		out[i] = (unsigned char)name[i] < 0x20 || name[i] == 0x7f ?
		    '?' : name[i];
	if (cut) {
		memcpy(out + n, "...", 3);
		n += 3;
	}
	out[n] = '\0';
	return out;
}

enum eh_err
eh_event_raw(struct eh_event *ev, enum eh_provider provider, const char *buf,
    size_t len, const struct eh_problems *pr)
{
	crypto_hash_sha256_state st;
	unsigned char digest[crypto_hash_sha256_BYTES];
	const char *name = eh_provider_name(provider);

	memset(ev, 0, sizeof(*ev));
	ev->provider = provider;
	if (pr != NULL)
		ev->problems = *pr;
	/* A raw record always says why it is one. */
	if (ev->problems.n == 0 && ev->problems.dropped == 0)
		eh_problem_add(&ev->problems, EH_ERR_JSON,
		    "the body cannot be read as data");
	ev->raw = malloc(len + 1);
	if (ev->raw == NULL)
		return EH_ERR_NOMEM;
	if (len > 0)
		memcpy(ev->raw, buf, len);
	ev->raw[len] = '\0';
	ev->raw_len = len;
	/* "raw\n" keeps these keys apart from those over data (a canonical
	 * object starts with '{'). */
	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, (const unsigned char *)name,
	    strlen(name));
	crypto_hash_sha256_update(&st, (const unsigned char *)"\nraw\n", 5);
	crypto_hash_sha256_update(&st, (const unsigned char *)ev->raw, len);
	crypto_hash_sha256_final(&st, digest);
	sodium_bin2hex(ev->dedupe_key, sizeof(ev->dedupe_key), digest,
	    sizeof(digest));
	return EH_OK;
}

const char *
eh_provider_name(enum eh_provider p)
{
	switch (p) {
	case EH_PROVIDER_ONESPAN:
		return "onespan";
	case EH_PROVIDER_ALPHATRUST:
		return "alphatrust";
	default:
		return "auto";
	}
}

/* v as d digits, zero-padded, at p; returns the end. */
static char *
digits(char *p, unsigned v, int d)
{
	int i;

	for (i = d - 1; i >= 0; i--) {
		p[i] = (char)('0' + v % 10);
		v /= 10;
	}
	return p + d;
}

/*
 * tm as strftime's "%Y%m%dT%H%M%S" (sep 0) or "%Y-%m-%dT%H:%M:%S"
 * (sep 1), digit by digit (strftime cost a third of the record); its
 * length, or 0 for a year that has not four digits, which the callers
 * leave to strftime.
 */
static size_t
date_put(char *out, const struct tm *tm, int sep)
{
	char *p = out;
	int y = tm->tm_year + 1900;

	if (y < 1000 || y > 9999 || tm->tm_mon < 0 || tm->tm_mon > 11 ||
	    tm->tm_mday < 1 || tm->tm_mday > 31 || tm->tm_hour < 0 ||
	    tm->tm_hour > 23 || tm->tm_min < 0 || tm->tm_min > 59 ||
	    tm->tm_sec < 0 || tm->tm_sec > 60)
		return 0;
	p = digits(p, (unsigned)y, 4);
	if (sep)
		*p++ = '-';
	p = digits(p, (unsigned)tm->tm_mon + 1, 2);
	if (sep)
		*p++ = '-';
	p = digits(p, (unsigned)tm->tm_mday, 2);
	*p++ = 'T';
	p = digits(p, (unsigned)tm->tm_hour, 2);
	if (sep)
		*p++ = ':';
	p = digits(p, (unsigned)tm->tm_min, 2);
	if (sep)
		*p++ = ':';
	p = digits(p, (unsigned)tm->tm_sec, 2);
	return (size_t)(p - out);
}

/*
 * "20261122T113204.123456Z-" and 16 random hex digits: sorts by arrival
 * time, and 64 random bits keep ids from different hosts and processes
 * apart.
 */
void
eh__id_format(char id[EH_ID_LEN + 1], const struct timespec *when,
    const unsigned char rnd[8])
{
	struct tm tm;
	char hex[17], date[32];
	time_t t = when->tv_sec;

	unsigned us = (unsigned)(when->tv_nsec / 1000) % 1000000u;
	char *p = id;

	gmtime_r(&t, &tm);
	if (date_put(date, &tm, 0) == 15) {
		/* The same bytes as the snprintf below, 40 of them. */
		memcpy(p, date, 15);
		p += 15;
		*p++ = '.';
		p = digits(p, us, 6);
		*p++ = 'Z';
		*p++ = '-';
		sodium_bin2hex(p, 17, rnd, 8);
		return;
	}
	strftime(date, sizeof(date), "%Y%m%dT%H%M%S", &tm);
	sodium_bin2hex(hex, sizeof(hex), rnd, 8);
	snprintf(id, EH_ID_LEN + 1, "%.15s.%06uZ-%s", date, us, hex);
}

void
eh_id_make(char id[EH_ID_LEN + 1], const struct timespec *when)
{
	unsigned char rnd[8];

	randombytes_buf(rnd, sizeof(rnd));
	eh__id_format(id, when, rnd);
}

/*
 * JSON string escaping as jansson's json_dumps does it without flags
 * (tests/test-record.c holds the two side by side): '"', '\\' and the
 * control bytes escaped, \b \f \n \r \t by name and the others as
 * \u00XX, everything else (UTF-8 included) as it is.  The record's
 * header is written directly, and only its strings need this.
 */
static const char esc_short[0x20] = {
	['\b'] = 'b', ['\f'] = 'f', ['\n'] = 'n', ['\r'] = 'r', ['\t'] = 't',
};

static size_t
json_str_len(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = 2;

	for (; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			n += 2;
		else if (*p < 0x20)
			n += esc_short[*p] != 0 ? 2 : 6;
		else
			n++;
	}
	return n;
}

/* Writes s as a JSON string at p, which has json_str_len(s) bytes;
 * returns the end. */
static char *
json_str_put(char *p, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *q = (const unsigned char *)s;
	size_t run;

	*p++ = '"';
	while (*q != '\0') {
		/* Copy the run of bytes that need nothing at once. */
		for (run = 0; q[run] >= 0x20 && q[run] != '"' &&
		    q[run] != '\\'; run++)
			continue;
		memcpy(p, q, run);
		p += run;
		q += run;
		if (*q == '\0')
			break;
		*p++ = '\\';
		if (*q == '"' || *q == '\\')
			*p++ = (char)*q;
		else if (esc_short[*q] != 0)
			*p++ = esc_short[*q];
		else {
			memcpy(p, "u00", 3);
			p[3] = hex[*q >> 4];
			p[4] = hex[*q & 0xf];
			p += 5;
		}
		q++;
	}
	*p++ = '"';
	return p;
}

/*
 * The key is over the provider and the canonical form of data (compact,
 * keys sorted), so the same event sent twice, however formatted, has the
 * same key.  The canonical text is the one jansson's json_dumps(data,
 * JSON_COMPACT | JSON_SORT_KEYS) gave when the key was defined, and the
 * seen/ markers of events stored since hold keys of it: it is written
 * here, straight into the hash a buffer at a time, never built whole,
 * in jansson's bytes (keys by memcmp then length, strings escaped as
 * json_str_put does, integers in decimal, reals by jansson itself);
 * tests/test-record.c compares the two.  Returns 0, or -1 when out of
 * memory or data is no object or array (json_dumps refused those).
 */
struct canon_sink {
	crypto_hash_sha256_state st;
	size_t n;
	unsigned char buf[2048];
};

static void
canon_put(struct canon_sink *k, const char *s, size_t len)
{
	if (len > sizeof(k->buf) - k->n) {
		crypto_hash_sha256_update(&k->st, k->buf, k->n);
		k->n = 0;
		if (len > sizeof(k->buf)) {
			crypto_hash_sha256_update(&k->st,
			    (const unsigned char *)s, len);
			return;
		}
	}
	memcpy(k->buf + k->n, s, len);
	k->n += len;
}

static int
canon_cb(const char *s, size_t len, void *arg)
{
	canon_put(arg, s, len);
	return 0;
}

/* s[0..len) as a JSON string, in runs, as json_str_put writes it. */
static void
canon_string(struct canon_sink *k, const char *s, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *q = (const unsigned char *)s;
	size_t i = 0, run;
	char e[6];

	canon_put(k, "\"", 1);
	while (i < len) {
		for (run = 0; i + run < len && q[i + run] >= 0x20 &&
		    q[i + run] != '"' && q[i + run] != '\\'; run++)
			continue;
		if (run > 0)
			canon_put(k, s + i, run);
		i += run;
		if (i == len)
			break;
		e[0] = '\\';
		if (q[i] == '"' || q[i] == '\\') {
			e[1] = (char)q[i];
			canon_put(k, e, 2);
		} else if (esc_short[q[i]] != 0) {
			e[1] = esc_short[q[i]];
			canon_put(k, e, 2);
		} else {
			memcpy(e + 1, "u00", 3);
			e[4] = hex[q[i] >> 4];
			e[5] = hex[q[i] & 0xf];
			canon_put(k, e, 6);
		}
		i++;
	}
	canon_put(k, "\"", 1);
}

struct canon_key {
	const char *key;
	size_t len;
	json_t *value;
};

static int
canon_key_cmp(const void *a, const void *b)
{
	const struct canon_key *x = a, *y = b;
	size_t n = x->len < y->len ? x->len : y->len;
	int c = memcmp(x->key, y->key, n);

	if (c != 0)
		return c;
	return x->len < y->len ? -1 : x->len > y->len;
}

#define CANON_KEYS_ON_STACK 16

static int
canon_value(struct canon_sink *k, json_t *v)
{
	struct canon_key small[CANON_KEYS_ON_STACK], *keys;
	char num[24];
	const char *key;
	json_t *m;
	size_t i, n;
	void *it;
	int rc = 0;

	switch (json_typeof(v)) {
	case JSON_OBJECT:
		n = json_object_size(v);
		keys = n <= CANON_KEYS_ON_STACK ? small :
		    calloc(n, sizeof(*keys));
		if (keys == NULL)
			return -1;
		i = 0;
		for (it = json_object_iter(v); it != NULL && i < n;
		    it = json_object_iter_next(v, it)) {
			key = json_object_iter_key(it);
			keys[i].key = key;
			keys[i].len = json_object_iter_key_len(it);
			keys[i].value = json_object_iter_value(it);
			i++;
		}
		n = i;
		qsort(keys, n, sizeof(*keys), canon_key_cmp);
		canon_put(k, "{", 1);
		for (i = 0; i < n && rc == 0; i++) {
			if (i > 0)
				canon_put(k, ",", 1);
			canon_string(k, keys[i].key, keys[i].len);
			canon_put(k, ":", 1);
			rc = canon_value(k, keys[i].value);
		}
		canon_put(k, "}", 1);
		if (keys != small)
			free(keys);
		return rc;
	case JSON_ARRAY:
		canon_put(k, "[", 1);
		n = json_array_size(v);
		for (i = 0; i < n && rc == 0; i++) {
			if (i > 0)
				canon_put(k, ",", 1);
			m = json_array_get(v, i);
			rc = m != NULL ? canon_value(k, m) : -1;
		}
		canon_put(k, "]", 1);
		return rc;
	case JSON_STRING:
		canon_string(k, json_string_value(v), json_string_length(v));
		return 0;
	case JSON_INTEGER:
		n = (size_t)snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT,
		    json_integer_value(v));
		if (n >= sizeof(num))
			return -1;
		canon_put(k, num, n);
		return 0;
	case JSON_REAL:
		/* jansson's own text of a double (its precision, its
		 * exponent form): rare in a callback, and exact. */
		return json_dump_callback(v, canon_cb, k,
		    JSON_COMPACT | JSON_ENCODE_ANY);
	case JSON_TRUE:
		canon_put(k, "true", 4);
		return 0;
	case JSON_FALSE:
		canon_put(k, "false", 5);
		return 0;
	case JSON_NULL:
		canon_put(k, "null", 4);
		return 0;
	default:
		return -1;
	}
}

int
eh__dedupe_key(char out[65], const char *provider, const void *data)
{
	struct canon_sink k;
	unsigned char digest[crypto_hash_sha256_BYTES];
	json_t *v = (json_t *)data;

	if (v == NULL || (!json_is_object(v) && !json_is_array(v)))
		return -1;
	crypto_hash_sha256_init(&k.st);
	crypto_hash_sha256_update(&k.st, (const unsigned char *)provider,
	    strlen(provider));
	crypto_hash_sha256_update(&k.st, (const unsigned char *)"\n", 1);
	k.n = 0;
	if (canon_value(&k, v) != 0)
		return -1;
	crypto_hash_sha256_update(&k.st, k.buf, k.n);
	crypto_hash_sha256_final(&k.st, digest);
	sodium_bin2hex(out, 65, digest, sizeof(digest));
	return 0;
}

/* A string or null: the length of the one, or of "null". */
static size_t
json_opt_len(const char *s)
{
	return s != NULL ? json_str_len(s) : 4;
}

static char *
json_opt_put(char *p, const char *s)
{
	if (s != NULL)
		return json_str_put(p, s);
	memcpy(p, "null", 4);
	return p + 4;
}

#define PUT(p, lit) (memcpy((p), (lit), sizeof(lit) - 1), (p) + sizeof(lit) - 1)
#define LIT(lit) (sizeof(lit) - 1)

static int
utf8_ok(const char *s)
{
	return s == NULL || eh_utf8_valid(s, strlen(s));
}

/*
 * The record: the header, then data, already JSON (the bytes OneSpan
 * sent), spliced in as it is, or, for a raw event, "data":null and
 * "raw" with the bytes in standard base64.  The header is written
 * here, in the order and the bytes jansson's json_pack + json_dumps
 * gave it (the spool format is a contract, and tests/test-record.c
 * compares the two): an event without problems gets exactly the
 * record it always had.  A string that is not UTF-8 is refused, as
 * jansson refused it.
 */
enum eh_err
eh_record_build(char **out, size_t *outlen, const struct eh_event *ev,
    const char *id, const struct timespec *when, const char *remote_addr)
{
	struct tm tm;
	char at[48], date[32], more[64];
	const char *prov = eh_provider_name(ev->provider);
	char *rec, *p;
	size_t n, i, b64 = 0;
	time_t t = when->tv_sec;
	int raw = ev->data == NULL, problems;

	*out = NULL;
	*outlen = 0;
	gmtime_r(&t, &tm);
	if (date_put(at, &tm, 1) == 19) {
		at[19] = '.';
		digits(at + 20, (unsigned)(when->tv_nsec / 1000000) % 1000u,
		    3);
		memcpy(at + 23, "Z", 2);
	} else {
		strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm);
		snprintf(at, sizeof(at), "%.19s.%03uZ", date,
		    (unsigned)(when->tv_nsec / 1000000) % 1000u);
	}
	/* REMOTE_ADDR comes from the server, but stays valid JSON anyway. */
	if (remote_addr != NULL &&
	    !eh_utf8_valid(remote_addr, strlen(remote_addr)))
		remote_addr = NULL;
	problems = raw || ev->problems.n > 0 || ev->problems.dropped > 0;
	if (id == NULL || !utf8_ok(id) || !utf8_ok(ev->name) ||
	    !utf8_ok(ev->transaction_id))
		return EH_ERR_NOMEM;
	n = LIT("{\"v\":1,\"id\":") + json_str_len(id) +
	    LIT(",\"received_at\":") + json_str_len(at) +
	    LIT(",\"provider\":") + json_str_len(prov) +
	    LIT(",\"event\":") + json_opt_len(ev->name) +
	    LIT(",\"known_event\":false") +
	    LIT(",\"transaction_id\":") + json_opt_len(ev->transaction_id) +
	    LIT(",\"dedupe_key\":") + json_str_len(ev->dedupe_key) +
	    LIT(",\"remote_addr\":") + json_opt_len(remote_addr);
	if (problems) {
		n += LIT(",\"problems\":[]");
		for (i = 0; i < ev->problems.n; i++) {
			if (!utf8_ok(ev->problems.line[i]))
				return EH_ERR_NOMEM;
			n += json_str_len(ev->problems.line[i]) + 1;
		}
		more[0] = '\0';
		if (ev->problems.dropped > 0) {
			snprintf(more, sizeof(more),
			    "%zu more problems not listed",
			    ev->problems.dropped);
			n += json_str_len(more) + 1;
		}
	}
	if (raw) {
		b64 = sodium_base64_ENCODED_LEN(ev->raw_len,
		    sodium_base64_VARIANT_ORIGINAL);
		n += LIT(",\"data\":null,\"raw\":\"") + b64 - 1 + 1;
	} else
		n += LIT(",\"data\":") + ev->data_len;
	n += LIT("}\n");
	rec = malloc(n + 1);
	if (rec == NULL)
		return EH_ERR_NOMEM;
	p = PUT(rec, "{\"v\":1,\"id\":");
	p = json_str_put(p, id);
	p = PUT(p, ",\"received_at\":");
	p = json_str_put(p, at);
	p = PUT(p, ",\"provider\":");
	p = json_str_put(p, prov);
	p = PUT(p, ",\"event\":");
	p = json_opt_put(p, ev->name);
	if (ev->known)
		p = PUT(p, ",\"known_event\":true");
	else
		p = PUT(p, ",\"known_event\":false");
	p = PUT(p, ",\"transaction_id\":");
	p = json_opt_put(p, ev->transaction_id);
	p = PUT(p, ",\"dedupe_key\":");
	p = json_str_put(p, ev->dedupe_key);
	p = PUT(p, ",\"remote_addr\":");
	p = json_opt_put(p, remote_addr);
	if (problems) {
		p = PUT(p, ",\"problems\":[");
		for (i = 0; i < ev->problems.n; i++) {
			if (i > 0)
				*p++ = ',';
			p = json_str_put(p, ev->problems.line[i]);
		}
		if (more[0] != '\0') {
			if (ev->problems.n > 0)
				*p++ = ',';
			p = json_str_put(p, more);
		}
		*p++ = ']';
	}
	if (raw) {
		p = PUT(p, ",\"data\":null,\"raw\":\"");
		sodium_bin2base64(p, b64, (const unsigned char *)ev->raw,
		    ev->raw_len, sodium_base64_VARIANT_ORIGINAL);
		p += b64 - 1;
		*p++ = '"';
	} else {
		p = PUT(p, ",\"data\":");
		if (ev->data_len > 0)
			memcpy(p, ev->data, ev->data_len);
		p += ev->data_len;
	}
	p = PUT(p, "}\n");
	*p = '\0';
	/* n counted "false": a true is one byte shorter. */
	*outlen = (size_t)(p - rec);
	*out = rec;
	return EH_OK;
}

void
eh_record_free(struct eh_record *rec)
{
	json_decref(rec->json);
	memset(rec, 0, sizeof(*rec));
}

static int
string_or_null(const json_t *v)
{
	return json_is_string(v) || json_is_null(v);
}

/*
 * A record as eh_record_build writes it: event, transaction_id and data
 * may be null (an authenticated delivery stored with problems); then a
 * raw string holds the body.  "problems", when there, is an array of
 * strings.
 */
enum eh_err
eh_record_parse(struct eh_record *rec, const char *buf, size_t len)
{
	json_t *root, *remote = NULL, *event = NULL, *tid = NULL, *data = NULL;
	json_t *problems, *raw;
	json_error_t jerr;
	size_t i;
	int v = 0, ok;

	memset(rec, 0, sizeof(*rec));
	root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL)
		return EH_ERR_JSON;
	rec->json = root;
	ok = json_unpack_ex(root, &jerr, 0,
	    "{s:i, s:s, s:s, s:s, s:o, s:b, s:o, s:s, s:o, s:o}",
	    "v", &v, "id", &rec->id, "received_at", &rec->received_at,
	    "provider", &rec->provider, "event", &event,
	    "known_event", &rec->known_event,
	    "transaction_id", &tid,
	    "dedupe_key", &rec->dedupe_key, "remote_addr", &remote,
	    "data", &data) == 0 && v == 1 && string_or_null(event) &&
	    string_or_null(tid) && string_or_null(remote) &&
	    (json_is_object(data) || json_is_null(data));
	problems = ok ? json_object_get(root, "problems") : NULL;
	if (problems != NULL) {
		ok = json_is_array(problems);
		for (i = 0; ok && i < json_array_size(problems); i++)
			ok = json_is_string(json_array_get(problems, i));
	}
	raw = ok ? json_object_get(root, "raw") : NULL;
	if (ok && json_is_null(data))
		ok = json_is_string(raw);
	if (!ok) {
		eh_record_free(rec);
		return EH_ERR_FIELD_MISSING;
	}
	rec->event = json_string_value(event);
	rec->transaction_id = json_string_value(tid);
	rec->remote_addr = json_string_value(remote);
	rec->data = json_is_object(data) ? data : NULL;
	rec->problems = problems;
	rec->raw = json_is_null(data) ? json_string_value(raw) : NULL;
	return EH_OK;
}
