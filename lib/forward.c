/*
 * The forward action: POST the event's record, byte for byte, to
 * ESIGNHOOK_FORWARD_URL with the Standard Webhooks headers
 * (https://www.standardwebhooks.com/, "Signature scheme"):
 *
 *   webhook-id: <event id>              always, the same on every retry
 *   webhook-timestamp: <unix seconds>   with a secret
 *   webhook-signature: v1,<base64 HMAC-SHA256(key, id.ts.body)>
 *
 * so that a receiver can verify and deduplicate with any Standard
 * Webhooks library.  Which events are forwarded is the drainer's
 * business (ESIGNHOOK_FORWARD_EVENTS), not this file's.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "esignhook.h"

/* "webhook-id: " and an id, bounded so a header line stays short. */
#define WEBHOOK_ID_MAX 255

/*
 * out = "v1," and the standard (padded) base64 of
 * HMAC-SHA256(key, "<id>.<ts>.<body>").  libsodium's _init/_update/
 * _final take a key of any length (hashed first when over 64 bytes, as
 * HMAC says); the multi-part form avoids copying the body.
 */
void
eh_webhook_sign(char out[EH_WEBHOOK_SIG_MAX], const unsigned char *key,
    size_t keylen, const char *id, long long ts, const char *body,
    size_t len)
{
	crypto_auth_hmacsha256_state st;
	unsigned char mac[crypto_auth_hmacsha256_BYTES];
	static const unsigned char none[1];
	char tsbuf[32];
	int n;

	n = snprintf(tsbuf, sizeof(tsbuf), "%lld", ts);
	crypto_auth_hmacsha256_init(&st, key != NULL ? key : none, keylen);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)id,
	    strlen(id));
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)".", 1);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)tsbuf,
	    (unsigned long long)n);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)".", 1);
	if (len > 0)
		crypto_auth_hmacsha256_update(&st,
		    (const unsigned char *)body, len);
	crypto_auth_hmacsha256_final(&st, mac);
	memcpy(out, "v1,", 3);
	sodium_bin2base64(out + 3, EH_WEBHOOK_SIG_MAX - 3, mac, sizeof(mac),
	    sodium_base64_VARIANT_ORIGINAL);
	sodium_memzero(&st, sizeof(st));
	sodium_memzero(mac, sizeof(mac));
}

/* Whether id can go in a header: printable ASCII, no blank, bounded. */
static int
id_ok(const char *id)
{
	size_t i;

	for (i = 0; id[i] != '\0'; i++)
		if ((unsigned char)id[i] <= 0x20 ||
		    (unsigned char)id[i] >= 0x7f || i >= WEBHOOK_ID_MAX)
			return 0;
	return i > 0;
}

/*
 * 2xx: done.  408, 425, 429, 3xx, 5xx, no response: later, after a
 * Retry-After (on 429 or 503) if the target gave one in seconds.
 * Another 4xx: the target refuses this event for good.
 */
enum eh_result
eh_forward_run(struct eh_job *job)
{
	const struct eh_ctl_config *cfg = job->cfg;
	struct eh_http_req req;
	struct eh_http_resp resp;
	char hid[16 + WEBHOOK_ID_MAX], hts[48], hsig[32 + EH_WEBHOOK_SIG_MAX];
	char sig[EH_WEBHOOK_SIG_MAX];
	const char *headers[5];
	const char *id;
	long long ts;
	size_t nh = 0;
	enum eh_result r;

	job->error[0] = '\0';
	job->retry_after_ms = 0;
	if (cfg->forward_url == NULL) {
		snprintf(job->error, sizeof(job->error),
		    "forward: ESIGNHOOK_FORWARD_URL is not set");
		return EH_RES_PERM;
	}
	id = job->rec != NULL ? job->rec->id : NULL;
	if (id == NULL || !id_ok(id)) {
		snprintf(job->error, sizeof(job->error),
		    "forward: the record's id cannot be a webhook-id");
		return EH_RES_PERM;
	}
	if (job->http == NULL) {
		snprintf(job->error, sizeof(job->error),
		    "forward: no HTTP client");
		return EH_RES_TEMP;
	}

	headers[nh++] = "Content-Type: application/json";
	snprintf(hid, sizeof(hid), "webhook-id: %s", id);
	headers[nh++] = hid;
	if (cfg->forward_key_len > 0) {
		ts = (long long)time(NULL);
		snprintf(hts, sizeof(hts), "webhook-timestamp: %lld", ts);
		eh_webhook_sign(sig, cfg->forward_key, cfg->forward_key_len,
		    id, ts, job->record, job->record_len);
		snprintf(hsig, sizeof(hsig), "webhook-signature: %s", sig);
		headers[nh++] = hts;
		headers[nh++] = hsig;
	}
	headers[nh] = NULL;

	memset(&req, 0, sizeof(req));
	req.method = "POST";
	req.url = cfg->forward_url;
	req.headers = headers;
	req.body = job->record;
	req.body_len = job->record_len;
	req.timeout_ms = cfg->forward_timeout_ms;
	req.out_fd = -1;
	req.max_body = 0;       /* the reply's body says nothing we use */

	if (eh_http_do(job->http, &req, &resp) != 0) {
		/* Fits: "forward: " and at most EH_ERROR_MAX - 10 bytes. */
		snprintf(job->error, sizeof(job->error), "forward: %.*s",
		    (int)(sizeof(job->error) - 10), resp.error);
		r = EH_RES_TEMP;
		goto out;
	}
	r = eh_http_classify(resp.status);
	if (r == EH_RES_OK)
		goto out;
	if (resp.status >= 300 && resp.status <= 399)
		snprintf(job->error, sizeof(job->error),
		    "forward: HTTP %ld (redirects are not followed)",
		    resp.status);
	else
		snprintf(job->error, sizeof(job->error), "forward: HTTP %ld",
		    resp.status);
	if ((resp.status == 429 || resp.status == 503) &&
	    resp.retry_after_s > 0)
		job->retry_after_ms = (int64_t)resp.retry_after_s * 1000;
out:
	eh_http_resp_free(&resp);
	sodium_memzero(sig, sizeof(sig));
	sodium_memzero(hsig, sizeof(hsig));
	return r;
}
