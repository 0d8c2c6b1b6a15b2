/*
 * OneSpan callback registration: the account's one callback URL, key and
 * event list (POST /api/callback, GET /api/callback), for
 * esignhookctl register.  OneSpan's reply repeats the callback key, so
 * what is shown to the operator goes through eh_register_mask.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "esignhook.h"
#include "extern.h"

#define REGISTER_TIMEOUT_MS (30 * 1000)
#define REGISTER_BODY_MAX (1024 * 1024)
#define MASK_MIN_CHARS 12       /* shorter keys show nothing of themselves */
#define MASK_KEEP_CHARS 4

/* jansson frees strings without wiping: wipe a secret's copy first. */
static void
wipe_string(json_t *v)
{
	if (json_is_string(v))
		sodium_memzero((char *)json_string_value(v),
		    json_string_length(v));
}

int
eh_register_body(char **out, const char *url, const char *key,
    const char *const *events, size_t n)
{
	json_t *root, *list;
	size_t i;
	int rc = -1;

	*out = NULL;
	root = json_object();
	list = json_array();
	if (root == NULL || list == NULL) {
		json_decref(list);
		goto out;
	}
	/* json_string refuses what is not UTF-8; set_new takes NULL as -1. */
	if (json_object_set_new(root, "url", json_string(url)) != 0)
		goto out_list;
	if (key != NULL &&
	    json_object_set_new(root, "key", json_string(key)) != 0)
		goto out_list;
	for (i = 0; i < n; i++)
		if (json_array_append_new(list, json_string(events[i])) != 0)
			goto out_list;
	if (json_object_set_new(root, "events", list) != 0)
		goto out;
	*out = json_dumps(root, JSON_COMPACT);
	rc = *out != NULL ? 0 : -1;
	goto out;
out_list:
	json_decref(list);
out:
	if (root != NULL)
		wipe_string(json_object_get(root, "key"));
	json_decref(root);
	return rc;
}

/* Bytes of the last k UTF-8 characters of s[0..n), and their count. */
static size_t
utf8_tail(const char *s, size_t n, size_t k, size_t *chars)
{
	size_t i = n, c = 0;

	while (i > 0 && c < k) {
		i--;
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			c++;
	}
	*chars = c;
	return n - i;
}

static size_t
utf8_len(const char *s, size_t n)
{
	size_t i, c = 0;

	for (i = 0; i < n; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			c++;
	return c;
}

/* "****" and the last 4 characters of a key of 12 or more. */
static int
mask_one(json_t *obj, const char *member)
{
	json_t *v = json_object_get(obj, member);
	const char *s;
	char shown[4 + 4 * MASK_KEEP_CHARS + 1];
	size_t n, tail, chars;

	if (!json_is_string(v))
		return 0;
	s = json_string_value(v);
	n = json_string_length(v);
	memcpy(shown, "****", 4);
	tail = 0;
	if (utf8_len(s, n) >= MASK_MIN_CHARS) {
		tail = utf8_tail(s, n, MASK_KEEP_CHARS, &chars);
		memcpy(shown + 4, s + n - tail, tail);
	}
	shown[4 + tail] = '\0';
	wipe_string(v);
	return json_object_set_new(obj, member, json_string(shown));
}

/* Every "key" member at any depth: OneSpan may nest its reply later. */
static int
mask_all(json_t *v, unsigned depth)
{
	const char *k;
	json_t *m;
	size_t i;

	if (depth > 64)
		return -1;
	if (json_is_object(v)) {
		if (mask_one(v, "key") != 0)
			return -1;
		json_object_foreach(v, k, m)
			if (strcmp(k, "key") != 0 && mask_all(m, depth + 1) != 0)
				return -1;
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, m)
			if (mask_all(m, depth + 1) != 0)
				return -1;
	}
	return 0;
}

int
eh_register_mask(char **out, const char *json, size_t len)
{
	json_t *root;
	json_error_t jerr;
	int rc = -1;

	*out = NULL;
	root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL)
		return -1;
	if (json_is_object(root) && mask_all(root, 0) == 0) {
		*out = json_dumps(root, JSON_INDENT(2));
		rc = *out != NULL ? 0 : -1;
	}
	json_decref(root);
	return rc;
}

static int
call(struct eh_onespan *api, const char *method, const char *body,
    size_t len, struct eh_http_resp *resp)
{
	const char *post[] = { "Content-Type: application/json",
	    "Accept: application/json", NULL };
	const char *get[] = { "Accept: application/json", NULL };
	struct eh_http_req req;

	memset(&req, 0, sizeof(req));
	req.method = method;
	req.headers = body != NULL ? post : get;
	req.body = body;
	req.body_len = len;
	req.timeout_ms = REGISTER_TIMEOUT_MS;
	req.out_fd = -1;
	req.max_body = REGISTER_BODY_MAX;
	return eh_onespan_call(api, "/callback", &req, resp);
}

int
eh_register_post(struct eh_onespan *api, const char *body, size_t len,
    struct eh_http_resp *resp)
{
	return call(api, "POST", body, len, resp);
}

int
eh_register_show(struct eh_onespan *api, struct eh_http_resp *resp)
{
	return call(api, "GET", NULL, 0, resp);
}
