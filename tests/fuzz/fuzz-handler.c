/*
 * The whole request handler.  Input: six lines (method, REQUEST_URI,
 * QUERY_STRING, CONTENT_TYPE, CONTENT_LENGTH, HTTP_AUTHORIZATION), then
 * the body.  Checks the handler's promises, not just its survival: no
 * 2xx and no body read without the secret, a stored event only with a
 * 200, its record readable back, no secret in a reply; the head alone
 * decides whether the body is read.
 */
#include <stdlib.h>
#include <string.h>

#include "../../lib/esignhook.h"
#include "fuzz.h"

#define KEY "fuzz-onespan-key"
#define TOK "fuzz-url-token"

static struct eh_config cfg;
static int ready;

static void
setup(void)
{
	static const char text[] = "ESIGNHOOK_SPOOL=/nonexistent\n"
	    "ESIGNHOOK_ONESPAN_KEYS=" KEY "\n"
	    "ESIGNHOOK_ALPHATRUST_TOKENS=" TOK "\n"
	    "ESIGNHOOK_MAX_BODY=4096\n";
	struct eh_conffile cf;
	size_t line;

	eh_config_init(&cfg);
	if (eh_conffile_parse(&cf, text, sizeof(text) - 1, &line) != EH_OK ||
	    eh_config_apply(&cfg, eh_conffile_lookup, &cf, NULL) != EH_OK)
		abort();
	eh_conffile_free(&cf);
	ready = 1;
}

/* Cut the next line of [*p, end) into a NUL-terminated copy at *out. */
static char *
next_line(const char **p, const char *end)
{
	const char *nl = memchr(*p, '\n', (size_t)(end - *p));
	size_t n;
	char *s;

	if (nl == NULL)
		nl = end;
	n = (size_t)(nl - *p);
	if ((s = malloc(n + 1)) == NULL)
		abort();
	memcpy(s, *p, n);
	s[n] = '\0';
	/* Environment values cannot hold NUL: cut there, as a server would. */
	*p = nl < end ? nl + 1 : end;
	return s;
}

static int
has(const char *s, const char *secret)
{
	return s != NULL && strstr(s, secret) != NULL;
}

/* What is stored reads back as a record. */
static void
stored(const struct eh_event *ev)
{
	struct eh_record rec;
	struct timespec when = { 1795347124, 0 };
	char id[EH_ID_LEN + 1], *out;
	size_t len;

	eh_id_make(id, &when);
	if (eh_record_build(&out, &len, ev, id, &when, NULL) != EH_OK ||
	    eh_record_parse(&rec, out, len) != EH_OK)
		__builtin_trap();
	eh_record_free(&rec);
	free(out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size;
	char *f[6];
	struct eh_request req;
	struct eh_decision d;
	size_t i;
	int authed;

	if (!ready)
		setup();
	for (i = 0; i < 6; i++)
		f[i] = next_line(&p, end);
	memset(&req, 0, sizeof(req));
	req.method = f[0];
	req.request_uri = f[1];
	req.query = f[2];
	req.content_type = f[3];
	req.content_length = f[4][0] ? f[4] : NULL;
	req.authorization = f[5][0] ? f[5] : NULL;
	req.body_state = EH_BODY_UNREAD;
	authed = has(f[1], KEY) || has(f[1], TOK) || has(f[2], KEY) ||
	    has(f[2], TOK) || has(f[5], KEY);

	/* The head alone: only an authenticated request gets its body. */
	eh_handle_head(&d, &req, &cfg);
	if (d.action == EH_ACT_READ && !authed)
		__builtin_trap();
	if (d.action != EH_ACT_READ && d.action != EH_ACT_STORE &&
	    (d.event.data != NULL || d.event.raw != NULL))
		__builtin_trap();
	eh_decision_free(&d);

	req.body = p;
	req.body_len = (size_t)(end - p);
	req.body_state = EH_BODY_OK;
	eh_handle(&d, &req, &cfg);
	if (d.action == EH_ACT_STORE && (!authed || d.resp.status != 200))
		__builtin_trap();
	if (d.action == EH_ACT_STORE && ((d.event.data == NULL) ==
	    (d.event.raw == NULL) || strlen(d.event.dedupe_key) != 64 ||
	    (d.event.problems.n > 0 && d.event.known)))
		__builtin_trap();
	if (d.action == EH_ACT_STORE)
		stored(&d.event);
	if (d.action != EH_ACT_STORE && (d.event.data != NULL ||
	    d.event.raw != NULL))
		__builtin_trap();
	if (has(d.resp.body, KEY) || has(d.resp.body, TOK))
		__builtin_trap();
	eh_decision_free(&d);
	for (i = 0; i < 6; i++)
		free(f[i]);
	return 0;
}
