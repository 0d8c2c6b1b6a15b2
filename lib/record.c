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

/*
 * The key is over the provider and the canonical form of data (compact,
 * keys sorted), so the same event sent twice, however formatted, has the
 * same key.  Returns 0, or -1 when out of memory.
 */
int
eh__dedupe_key(char out[65], const char *provider, const void *data)
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

/*
 * "20261122T113204.123456Z-" and 16 random hex digits: sorts by arrival
 * time, and 64 random bits keep ids from different hosts and processes
 * apart.
 */
void
eh_id_make(char id[EH_ID_LEN + 1], const struct timespec *when)
{
	struct tm tm;
	unsigned char rnd[8];
	char hex[17], date[32];
	time_t t = when->tv_sec;

	gmtime_r(&t, &tm);
	strftime(date, sizeof(date), "%Y%m%dT%H%M%S", &tm);
	randombytes_buf(rnd, sizeof(rnd));
	sodium_bin2hex(hex, sizeof(hex), rnd, sizeof(rnd));
	snprintf(id, EH_ID_LEN + 1, "%.15s.%06uZ-%s", date,
	    (unsigned)(when->tv_nsec / 1000) % 1000000u, hex);
}

/* The record's "problems": ev's lines, and one counting the rest. */
static json_t *
problems_json(const struct eh_event *ev)
{
	json_t *a;
	char more[64];
	size_t i;

	a = json_array();
	if (a == NULL)
		return NULL;
	for (i = 0; i < ev->problems.n; i++)
		if (json_array_append_new(a,
		    json_string(ev->problems.line[i])) != 0)
			goto fail;
	if (ev->problems.dropped > 0) {
		snprintf(more, sizeof(more), "%zu more problems not listed",
		    ev->problems.dropped);
		if (json_array_append_new(a, json_string(more)) != 0)
			goto fail;
	}
	return a;
fail:
	json_decref(a);
	return NULL;
}

/*
 * The header is built by jansson; data, already JSON (the bytes OneSpan
 * sent), is spliced in as it is, or, for a raw event, "data":null and
 * "raw" with the bytes in standard base64.  An event without problems
 * gets exactly the record it always had.
 */
enum eh_err
eh_record_build(char **out, size_t *outlen, const struct eh_event *ev,
    const char *id, const struct timespec *when, const char *remote_addr)
{
	struct tm tm;
	char at[48], date[32];
	json_t *head, *pj;
	char *htext = NULL, *rec, *p;
	size_t hlen, n, tail;
	time_t t = when->tv_sec;
	int raw = ev->data == NULL;

	*out = NULL;
	*outlen = 0;
	gmtime_r(&t, &tm);
	strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(at, sizeof(at), "%.19s.%03uZ", date,
	    (unsigned)(when->tv_nsec / 1000000) % 1000u);
	/* REMOTE_ADDR comes from the server, but stays valid JSON anyway. */
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
		pj = problems_json(ev);
		if (pj == NULL || json_object_set_new(head, "problems", pj) != 0) {
			json_decref(head);
			return EH_ERR_NOMEM;
		}
	}
	htext = json_dumps(head, JSON_COMPACT);
	json_decref(head);
	if (htext == NULL)
		return EH_ERR_NOMEM;
	/* head is "{...}": splice data in before its closing brace. */
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
		memcpy(p, ",\"data\":null,\"raw\":\"",
		    sizeof(",\"data\":null,\"raw\":\"") - 1);
		p += sizeof(",\"data\":null,\"raw\":\"") - 1;
		sodium_bin2base64(p, sodium_base64_ENCODED_LEN(ev->raw_len,
		    sodium_base64_VARIANT_ORIGINAL),
		    (const unsigned char *)ev->raw, ev->raw_len,
		    sodium_base64_VARIANT_ORIGINAL);
		p += strlen(p);
		*p++ = '"';
	} else {
		memcpy(p, ",\"data\":", sizeof(",\"data\":") - 1);
		p += sizeof(",\"data\":") - 1;
		memcpy(p, ev->data, ev->data_len);
		p += ev->data_len;
	}
	memcpy(p, "}\n", 3);
	free(htext);
	*out = rec;
	*outlen = n;
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
