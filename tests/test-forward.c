/*
 * lib/forward.c and lib/http.c, the parts that need no network: the
 * Standard Webhooks signature, the status classification, and the
 * checks made before any request.  Real transfers are tested end to
 * end (tests/e2e-forward.sh against tests/webhook-target.py).
 */
#include <errno.h>
#include <stdlib.h>

#include <sodium.h>

#include "../lib/esignhook.h"
#include "t.h"

/*
 * Known answers, computed apart from libsodium with Python's own HMAC:
 *   python3 -c 'import hmac,hashlib,base64; print("v1," +
 *     base64.b64encode(hmac.new(KEY, b"ID.TS." + BODY,
 *     hashlib.sha256).digest()).decode())'
 * The first is also the published Standard Webhooks test vector
 * (secret whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw).  The second's key is
 * bytes(range(100)): longer than SHA-256's block, so HMAC hashes it.
 */
static void
sign_vectors(void)
{
	static const struct {
		const char *key_b64;    /* NULL: bytes 0..99 */
		const char *id;
		long long ts;
		const char *body;
		const char *want;
	} t[] = {
		{ "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
		  "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330,
		  "{\"test\": 2432232314}",
		  "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=" },
		{ NULL, "20261122T113659.476894Z-2b8c93b75279f93e",
		  1795347419,
		  "{\"v\":1,\"id\":\"20261122T113659.476894Z-"
		  "2b8c93b75279f93e\"}\n",
		  "v1,WhoZtr0/49Vc0fytZ40c4qExcwLfFNBLlXMK7SqnaNc=" },
		{ "aw==", "x", 0, "",   /* key "k", empty body */
		  "v1,O/1k23aWZx0tOtryY9YhvPgz32vGoheaOEik2pFxss4=" },
	};
	unsigned char key[128];
	char sig[EH_WEBHOOK_SIG_MAX];
	size_t i, klen;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		if (t[i].key_b64 == NULL) {
			for (klen = 0; klen < 100; klen++)
				key[klen] = (unsigned char)klen;
		} else
			T_EQ_INT(sodium_base642bin(key, sizeof(key),
			    t[i].key_b64, strlen(t[i].key_b64), NULL, &klen,
			    NULL, sodium_base64_VARIANT_ORIGINAL), 0);
		memset(sig, 'X', sizeof(sig));
		eh_webhook_sign(sig, key, klen, t[i].id, t[i].ts, t[i].body,
		    strlen(t[i].body));
		T_EQ_STR(sig, t[i].want);
	}
}

/* The body is signed as bytes: a NUL inside counts, the length rules. */
static void
sign_binary_body(void)
{
	static const unsigned char key[] = "k";
	char a[EH_WEBHOOK_SIG_MAX], b[EH_WEBHOOK_SIG_MAX];

	eh_webhook_sign(a, key, 1, "x", 0, "ab\0c", 4);
	eh_webhook_sign(b, key, 1, "x", 0, "ab\0d", 4);
	T_CHECK(strcmp(a, b) != 0);
	eh_webhook_sign(b, key, 1, "x", 0, "ab", 2);
	T_CHECK(strcmp(a, b) != 0);
	/* A different timestamp or id changes the signature. */
	eh_webhook_sign(a, key, 1, "x", 1, "ab", 2);
	T_CHECK(strcmp(a, b) != 0);
	eh_webhook_sign(a, key, 1, "y", 0, "ab", 2);
	T_CHECK(strcmp(a, b) != 0);
	T_EQ_INT(strlen(a), 3 + 44);
}

static void
classify(void)
{
	static const struct {
		long status;
		enum eh_result want;
	} t[] = {
		{ 200, EH_RES_OK }, { 204, EH_RES_OK }, { 299, EH_RES_OK },
		{ 301, EH_RES_TEMP }, { 302, EH_RES_TEMP },
		{ 400, EH_RES_PERM }, { 401, EH_RES_PERM },
		{ 404, EH_RES_PERM }, { 408, EH_RES_TEMP },
		{ 410, EH_RES_PERM }, { 413, EH_RES_PERM },
		{ 422, EH_RES_PERM }, { 425, EH_RES_TEMP },
		{ 429, EH_RES_TEMP }, { 500, EH_RES_TEMP },
		{ 502, EH_RES_TEMP }, { 503, EH_RES_TEMP },
		{ 0, EH_RES_TEMP }, { 100, EH_RES_TEMP },
		{ 199, EH_RES_TEMP }, { 600, EH_RES_TEMP },
		{ -1, EH_RES_TEMP },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		if (eh_http_classify(t[i].status) != t[i].want)
			fprintf(stderr, "  status %ld\n", t[i].status);
		T_EQ_INT(eh_http_classify(t[i].status), t[i].want);
	}
}

/* What eh_forward_run refuses before it sends anything. */
static void
forward_checks(void)
{
	static const struct {
		const char *url;
		const char *id;
		enum eh_result want;
		const char *error;
	} t[] = {
		{ NULL, "20261122T113659.476894Z-2b8c93b75279f93e",
		  EH_RES_PERM, "forward: ESIGNHOOK_FORWARD_URL is not set" },
		{ "http://127.0.0.1:9/", "a\r\nx-evil: 1", EH_RES_PERM,
		  "forward: the record's id cannot be a webhook-id" },
		{ "http://127.0.0.1:9/", "a b", EH_RES_PERM,
		  "forward: the record's id cannot be a webhook-id" },
		{ "http://127.0.0.1:9/", "", EH_RES_PERM,
		  "forward: the record's id cannot be a webhook-id" },
		{ "http://127.0.0.1:9/", NULL, EH_RES_PERM,
		  "forward: the record's id cannot be a webhook-id" },
		/* Good so far, but no client: try later. */
		{ "http://127.0.0.1:9/",
		  "20261122T113659.476894Z-2b8c93b75279f93e", EH_RES_TEMP,
		  "forward: no HTTP client" },
	};
	struct eh_ctl_config cfg;
	struct eh_record rec;
	struct eh_job job;
	char url[64];
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		eh_ctl_config_init(&cfg);
		if (t[i].url != NULL) {
			snprintf(url, sizeof(url), "%s", t[i].url);
			cfg.forward_url = url;
		}
		memset(&rec, 0, sizeof(rec));
		rec.id = t[i].id;
		memset(&job, 0, sizeof(job));
		job.cfg = &cfg;
		job.rec = &rec;
		job.record = "{}\n";
		job.record_len = 3;
		job.retry_after_ms = 7;
		T_EQ_INT(eh_forward_run(&job), t[i].want);
		T_EQ_STR(job.error, t[i].error);
		T_EQ_INT(job.retry_after_ms, 0);
		cfg.forward_url = NULL;
		eh_ctl_config_free(&cfg);
	}
}

/* A CA file that cannot be read fails at start-up, not per request. */
static void
http_bad_ca_file(void)
{
	struct eh_http *h = (struct eh_http *)&h;

	T_EQ_INT(eh_http_new(&h, "/nonexistent/ca.pem"), -1);
	T_EQ_INT(errno, ENOENT);
	T_CHECK(h == NULL);
	h = (struct eh_http *)&h;
	T_EQ_INT(eh_http_new(&h, "tests"), -1);   /* a directory */
	T_CHECK(h == NULL);
	eh_http_free(NULL);
}

const struct t_case t_forward[] = {
	{ "webhook signature known answers", sign_vectors },
	{ "webhook signature over bytes, id and timestamp", sign_binary_body },
	{ "HTTP status classification", classify },
	{ "forward refuses before sending", forward_checks },
	{ "http client: unreadable CA file", http_bad_ca_file },
	{ NULL, NULL }
};
