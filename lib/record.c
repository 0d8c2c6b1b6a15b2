/*
 * The event record: the one JSON object (and newline) stored per event
 * in new/<id>.json, the contract later processing reads.  See README,
 * "The spool".  struct eh_event is this file's input, so its destructor
 * lives here, and so do the provider names the record's "provider"
 * field holds.
 */
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
	memset(ev, 0, sizeof(*ev));
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

enum eh_err
eh_record_build(char **out, size_t *outlen, const struct eh_event *ev,
    const char *id, const struct timespec *when, const char *remote_addr)
{
	struct tm tm;
	char at[48], date[32];
	json_t *head;
	char *htext = NULL, *rec;
	size_t hlen, n;
	time_t t = when->tv_sec;

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
	head = json_pack("{s:i, s:s, s:s, s:s, s:s, s:b, s:s, s:s, s:s?}",
	    "v", 1, "id", id, "received_at", at,
	    "provider", eh_provider_name(ev->provider), "event", ev->name,
	    "known_event", ev->known, "transaction_id", ev->transaction_id,
	    "dedupe_key", ev->dedupe_key, "remote_addr", remote_addr);
	if (head == NULL)
		return EH_ERR_NOMEM;
	htext = json_dumps(head, JSON_COMPACT);
	json_decref(head);
	if (htext == NULL)
		return EH_ERR_NOMEM;
	/* head is "{...}": splice data in before its closing brace. */
	hlen = strlen(htext) - 1;
	n = hlen + sizeof(",\"data\":") - 1 + ev->data_len + 2;
	rec = malloc(n + 1);
	if (rec == NULL) {
		free(htext);
		return EH_ERR_NOMEM;
	}
	memcpy(rec, htext, hlen);
	memcpy(rec + hlen, ",\"data\":", sizeof(",\"data\":") - 1);
	memcpy(rec + hlen + sizeof(",\"data\":") - 1, ev->data, ev->data_len);
	memcpy(rec + n - 2, "}\n", 3);
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

enum eh_err
eh_record_parse(struct eh_record *rec, const char *buf, size_t len)
{
	json_t *root, *remote = NULL;
	json_error_t jerr;
	int v = 0;

	memset(rec, 0, sizeof(*rec));
	root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL)
		return EH_ERR_JSON;
	rec->json = root;
	if (json_unpack_ex(root, &jerr, 0,
	    "{s:i, s:s, s:s, s:s, s:s, s:b, s:s, s:s, s:o, s:o}",
	    "v", &v, "id", &rec->id, "received_at", &rec->received_at,
	    "provider", &rec->provider, "event", &rec->event,
	    "known_event", &rec->known_event,
	    "transaction_id", &rec->transaction_id,
	    "dedupe_key", &rec->dedupe_key, "remote_addr", &remote,
	    "data", &rec->data) != 0 || v != 1 ||
	    !json_is_object((json_t *)rec->data) ||
	    !(json_is_string(remote) || json_is_null(remote))) {
		eh_record_free(rec);
		return EH_ERR_FIELD_MISSING;
	}
	rec->remote_addr = json_string_value(remote);
	return EH_OK;
}
