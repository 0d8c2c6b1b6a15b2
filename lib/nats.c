/*
 * NATS JetStream: the publish action, nats-setup and consume.  The
 * tool's only libnats user.
 *
 * One connection serves a whole drain or consume.  It is made with
 * RetryOnFailedConnect and endless reconnects, so a server that is down
 * at start, or a cluster node that dies, is waited out in the
 * background; what a call sees meanwhile is a temporary failure.
 *
 * Exactly once into the stream rests on JetStream's de-duplication:
 * every publication of a spooled event carries Nats-Msg-Id: <event id>,
 * so a re-publication (a drainer killed after the PubAck, before the
 * event was marked done; a PubAck lost with its server) within the
 * stream's duplicate window is acknowledged as a duplicate and not
 * stored again.
 *
 * Nothing is published while the connection is down: libnats would
 * buffer it and send it on reconnection, after this attempt has been
 * given up and maybe after the duplicate window of the retry.  Its
 * reconnect buffer is one byte, so a publication that races a
 * disconnection fails rather than waits there.
 *
 * A server that hangs (stopped, its host swapping) keeps the
 * connection CONNECTED until pings go unanswered: a PubAck timeout
 * makes the next publications fail at once for one timeout, as no
 * responders does, so a pass over many events costs one timeout.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <nats/nats.h>
#include <sodium.h>

#include "esignhook.h"
#include "extern.h"

#define NS_PER_MS 1000000LL
/* How often to look whether the connection is back. */
#define WAIT_SLICE_MS 20
/* Connect timeout per server: a dead address must not hold up the
 * others of a cluster for the whole PubAck wait. */
#define CONNECT_TIMEOUT_MAX_MS 2000
#define RECONNECT_WAIT_MS 500
/* AckWait beyond ESIGNHOOK_EXEC_TIMEOUT: the exec's deadline, then the
 * ack's round trip. */
#define ACK_WAIT_SLACK_MS 5000
#define HEADER_VALUE_MAX 255
/* How long nats-setup keeps asking while a cluster elects its leader. */
#define SETUP_TRIES 10
/* Between publications while a stream has no leader. */
#define LEADER_WAIT_SLICE_MS 200
/* A hung server is found out within PING_INTERVAL_MS * (MAX_PINGS_OUT
 * + 1): then libnats reconnects elsewhere or waits. */
#define PING_INTERVAL_MS 2000
#define MAX_PINGS_OUT 2
/* libnats refuses 0 (its default, 8 MB) and less: the least it takes. */
#define RECONNECT_BUF_BYTES 1


struct eh_nats {
	const struct eh_ctl_config *cfg;
	natsOptions *opts;
	natsConnection *nc;
	jsCtx *js;
	int64_t down_at;        /* mono ms of the last wait that failed */
	int64_t js_down_at;     /* of the last wait for a stream leader */
	int64_t timeout_at;     /* of the last PubAck timeout */
	int64_t reopened_at;    /* of the last reopening of a closed one */
};

struct eh_consumer {
	struct eh_nats *n;
	const struct eh_consume *c;
	natsSubscription *sub;
	char durable[EH_NATS_NAME_MAX + 1];
};

static void
say(char *msg, size_t msgsz, const char *what, natsStatus s, jsErrCode je)
{
	if (je != 0)
		snprintf(msg, msgsz, "%s: %s (JetStream error %d)", what,
		    natsStatus_GetText(s), (int)je);
	else
		snprintf(msg, msgsz, "%s: %s", what, natsStatus_GetText(s));
}

/* libnats would print asynchronous errors itself; lib/ prints nothing,
 * and what matters reaches the caller through the calls' statuses. */
static void
quiet(natsConnection *nc, natsSubscription *sub, natsStatus err, void *ctx)
{
	(void)nc;
	(void)sub;
	(void)err;
	(void)ctx;
}

/* With a callback, a first connect that fails goes on in the
 * background; without one, natsConnection_Connect would retry forever
 * itself.  The state is read with natsConnection_Status. */
static void
connected(natsConnection *nc, void *ctx)
{
	(void)nc;
	(void)ctx;
}

/* The servers of cfg->nats_url into opts; the copies (they may hold
 * credentials) wiped. */
static natsStatus
set_servers(natsOptions *o, const char *url)
{
	const char *cur = url, *item;
	const char **list = NULL;
	char *buf;
	size_t len, n = 0, off = 0, cap;
	natsStatus s;

	cap = strlen(url) + 1;
	buf = malloc(cap);
	list = calloc(cap, sizeof(*list));
	if (buf == NULL || list == NULL) {
		free(buf);
		free(list);
		return NATS_NO_MEMORY;
	}
	while (eh_list_next(&cur, &item, &len)) {
		if (len == 0)
			continue;
		memcpy(buf + off, item, len);
		buf[off + len] = '\0';
		list[n++] = buf + off;
		off += len + 1;
	}
	s = n > 0 ? natsOptions_SetServers(o, list, (int)n) : NATS_INVALID_ARG;
	sodium_memzero(buf, cap);
	free(buf);
	free(list);
	return s;
}

/* Whether cfg makes libnats use TLS (with a nats:// URL, a server
 * that requires it is refused instead). */
static int
uses_tls(const struct eh_ctl_config *cfg)
{
	return cfg->nats_ca != NULL || (cfg->nats_url != NULL &&
	    strstr(cfg->nats_url, "tls://") != NULL);
}

/* The connection and its JetStream context from n->opts; *step says
 * which failed. */
static natsStatus
connect_js(struct eh_nats *n, const char **step)
{
	jsOptions jo;
	natsStatus s;

	*step = "connect";
	s = natsConnection_Connect(&n->nc, n->opts);
	/* No server yet: libnats keeps trying in the background. */
	if (s == NATS_NOT_YET_CONNECTED && n->nc != NULL)
		s = NATS_OK;
	if (s != NATS_OK)
		return s;
	*step = "JetStream";
	jsOptions_Init(&jo);
	jo.Wait = n->cfg->nats_timeout_ms;
	return natsConnection_JetStream(&n->js, n->nc, &jo);
}

enum eh_err
eh_nats_open(struct eh_nats **np, const struct eh_ctl_config *cfg, char *msg,
    size_t msgsz)
{
	struct eh_nats *n;
	natsStatus s;
	const char *step;
	int64_t ct;

	*np = NULL;
	msg[0] = '\0';
	if (cfg->nats_url == NULL) {
		snprintf(msg, msgsz, "ESIGNHOOK_NATS_URL is not set");
		return EH_ERR_CONFIG;
	}
	n = calloc(1, sizeof(*n));
	if (n == NULL) {
		snprintf(msg, msgsz, "nats: out of memory");
		return EH_ERR_NOMEM;
	}
	n->cfg = cfg;
	ct = cfg->nats_timeout_ms < CONNECT_TIMEOUT_MAX_MS ?
	    cfg->nats_timeout_ms : CONNECT_TIMEOUT_MAX_MS;
	step = "options";
	s = natsOptions_Create(&n->opts);
	if (s == NATS_OK) {
		step = "ESIGNHOOK_NATS_URL";
		s = set_servers(n->opts, cfg->nats_url);
	}
	if (s == NATS_OK) {
		step = "options";
		s = natsOptions_SetName(n->opts, "esignhookctl");
	}
	if (s == NATS_OK)
		s = natsOptions_SetRetryOnFailedConnect(n->opts, true,
		    connected, NULL);
	if (s == NATS_OK)
		s = natsOptions_SetMaxReconnect(n->opts, -1);
	if (s == NATS_OK)
		s = natsOptions_SetReconnectWait(n->opts, RECONNECT_WAIT_MS);
	if (s == NATS_OK)
		s = natsOptions_SetTimeout(n->opts, ct);
	if (s == NATS_OK)
		s = natsOptions_SetErrorHandler(n->opts, quiet, NULL);
	if (s == NATS_OK && cfg->nats_creds != NULL) {
		step = "ESIGNHOOK_NATS_CREDS";
		s = natsOptions_SetUserCredentialsFromFiles(n->opts,
		    cfg->nats_creds, NULL);
	}
	if (s == NATS_OK && cfg->nats_token != NULL) {
		step = "ESIGNHOOK_NATS_TOKEN";
		s = natsOptions_SetToken(n->opts, cfg->nats_token);
	}
	if (s == NATS_OK && cfg->nats_user != NULL) {
		step = "ESIGNHOOK_NATS_USER";
		s = natsOptions_SetUserInfo(n->opts, cfg->nats_user,
		    cfg->nats_password);
	}
	/* libnats would take a tls:// server that offers no TLS in
	 * plaintext: asked for, TLS is required. */
	if (s == NATS_OK && cfg->nats_ca == NULL && uses_tls(cfg)) {
		step = "TLS";
		s = natsOptions_SetSecure(n->opts, true);
	}
	if (s == NATS_OK && cfg->nats_ca != NULL) {
		step = "ESIGNHOOK_NATS_CA";
		s = natsOptions_LoadCATrustedCertificates(n->opts, cfg->nats_ca);
		if (s == NATS_OK)
			s = natsOptions_SetSecure(n->opts, true);
	}
	if (s == NATS_OK)
		s = natsOptions_SetReconnectBufSize(n->opts,
		    RECONNECT_BUF_BYTES);
	if (s == NATS_OK)
		s = natsOptions_SetPingInterval(n->opts, PING_INTERVAL_MS);
	if (s == NATS_OK)
		s = natsOptions_SetMaxPingsOut(n->opts, MAX_PINGS_OUT);
	if (s == NATS_OK)
		s = connect_js(n, &step);
	if (s != NATS_OK) {
		say(msg, msgsz, step, s, 0);
		eh_nats_close(n);
		return s == NATS_NO_MEMORY ? EH_ERR_NOMEM : EH_ERR_CONFIG;
	}
	*np = n;
	return EH_OK;
}

void
eh_nats_close(struct eh_nats *n)
{
	if (n == NULL)
		return;
	jsCtx_Destroy(n->js);
	natsConnection_Destroy(n->nc);
	natsOptions_Destroy(n->opts);
	free(n);
}

void
eh_nats_shutdown(const struct eh_ctl_config *cfg)
{
	/* libnats 3.4.1 frees OpenSSL state in its teardown that
	 * OPENSSL_cleanup frees again at exit: what it holds then goes
	 * with the process. */
	if (uses_tls(cfg))
		return;
	(void)nats_CloseAndWait(5000);
}

static void
sleep_ms(long ms)
{
	struct timespec ts;

	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* Whether the connection is up, waiting for it at most max_ms. */
static int
wait_connected(struct eh_nats *n, int64_t max_ms)
{
	int64_t until = eh_mono_ms() + max_ms;
	natsConnStatus st;

	for (;;) {
		st = natsConnection_Status(n->nc);
		if (st == NATS_CONN_STATUS_CONNECTED)
			return 1;
		if (st == NATS_CONN_STATUS_CLOSED || eh_mono_ms() >= until)
			return 0;
		sleep_ms(WAIT_SLICE_MS);
	}
}

/* Whether libnats closed the connection over credentials or TLS,
 * which no reopening mends. */
static int
refused(struct eh_nats *n)
{
	const char *text = NULL;
	natsStatus s;

	if (n->nc == NULL)
		return 0;
	s = natsConnection_GetLastError(n->nc, &text);
	if (s == NATS_CONNECTION_AUTH_FAILED || s == NATS_NOT_PERMITTED ||
	    s == NATS_SSL_ERROR || s == NATS_SECURE_CONNECTION_WANTED ||
	    s == NATS_SECURE_CONNECTION_REQUIRED)
		return 1;
	return text != NULL && (strcasestr(text, "authorization") != NULL ||
	    strcasestr(text, "authentication") != NULL ||
	    strcasestr(text, "tls") != NULL || strcasestr(text, "ssl") != NULL);
}

/*
 * A connection libnats closed for a reason other than refused
 * credentials or TLS (a server that accepted the TCP connection but
 * never spoke, say: libnats gives up on it) made anew, at most once
 * per PubAck timeout.  A new connection that fails stays for the next
 * time round.
 */
static void
reopen_closed(struct eh_nats *n)
{
	int64_t now = eh_mono_ms();
	const char *step;

	if (natsConnection_Status(n->nc) != NATS_CONN_STATUS_CLOSED ||
	    refused(n))
		return;
	if (n->reopened_at != 0 && now - n->reopened_at <
	    n->cfg->nats_timeout_ms)
		return;
	n->reopened_at = now;
	jsCtx_Destroy(n->js);
	n->js = NULL;
	natsConnection_Destroy(n->nc);
	n->nc = NULL;
	/* A failure (no memory) leaves js NULL: unusable, tried again
	 * next time round (a NULL connection's status is CLOSED). */
	if (connect_js(n, &step) != NATS_OK) {
		jsCtx_Destroy(n->js);
		n->js = NULL;
	}
}

/*
 * Up, or worth waiting for: a drain over many events with the servers
 * down waits once per PubAck timeout, not once per event.
 */
static int
usable(struct eh_nats *n)
{
	int64_t now = eh_mono_ms();

	reopen_closed(n);
	if (n->nc == NULL || n->js == NULL)
		return 0;
	if (natsConnection_Status(n->nc) == NATS_CONN_STATUS_CONNECTED) {
		n->down_at = 0;
		return 1;
	}
	if (n->down_at != 0 && now - n->down_at < n->cfg->nats_timeout_ms)
		return 0;
	if (wait_connected(n, n->cfg->nats_timeout_ms)) {
		n->down_at = 0;
		return 1;
	}
	n->down_at = eh_mono_ms();
	return 0;
}

/*
 * Why the connection is not up, one line: a connection libnats closed
 * (an authentication or TLS failure ends its retries) says what the
 * server or TLS said; otherwise no server answered within wait_ms.
 */
static void
down_reason(struct eh_nats *n, char *buf, size_t sz, const char *what,
    int64_t wait_ms)
{
	const char *text = NULL;
	char clean[128], dur[32];
	natsStatus s;
	size_t i;

	if (n->nc != NULL &&
	    natsConnection_Status(n->nc) == NATS_CONN_STATUS_CLOSED) {
		s = natsConnection_GetLastError(n->nc, &text);
		for (i = 0; text != NULL && text[i] != '\0' &&
		    i + 1 < sizeof(clean); i++)
			clean[i] = (unsigned char)text[i] < 0x20 ||
			    (unsigned char)text[i] >= 0x7f ? '?' : text[i];
		clean[i] = '\0';
		/* Same words twice say nothing more. */
		if (strcmp(clean, natsStatus_GetText(s)) == 0)
			clean[0] = '\0';
		snprintf(buf, sz, "%sthe NATS connection was closed (refused "
		    "credentials or TLS?): %s%s%s", what, natsStatus_GetText(s),
		    clean[0] != '\0' ? ": " : "", clean);
		return;
	}
	eh_duration_format(dur, sizeof(dur), wait_ms);
	snprintf(buf, sz, "%sno NATS server reachable within %s "
	    "(ESIGNHOOK_NATS_URL)", what, dur);
}

/* A header value: control bytes as '?', at most HEADER_VALUE_MAX. */
static void
header_value(char *out, size_t outsz, const char *v)
{
	size_t i;

	for (i = 0; v[i] != '\0' && i + 1 < outsz && i < HEADER_VALUE_MAX;
	    i++)
		out[i] = (unsigned char)v[i] < 0x20 || v[i] == 0x7f ? '?' :
		    v[i];
	out[i] = '\0';
}

static const char *
stream_name(const struct eh_ctl_config *cfg)
{
	return cfg->nats_stream != NULL ? cfg->nats_stream :
	    EH_NATS_DEFAULT_STREAM;
}

static const char *
subject_tmpl(const struct eh_ctl_config *cfg)
{
	return cfg->nats_subject != NULL ? cfg->nats_subject :
	    EH_NATS_DEFAULT_SUBJECT;
}

/* An id as a header value and a message id: printable, no blank. */
static int
id_ok(const char *id)
{
	size_t i;

	for (i = 0; id[i] != '\0'; i++)
		if ((unsigned char)id[i] <= 0x20 ||
		    (unsigned char)id[i] >= 0x7f || i >= HEADER_VALUE_MAX)
			return 0;
	return i > 0;
}

/*
 * Publish m and wait for its PubAck.  No responders means no stream
 * leader just now (a cluster electing one after a node died) or no
 * stream at all: asked again until the PubAck wait is over, the same
 * message id each time, so that a drain pauses through an election
 * rather than sending every event to retry/.  After such a wait that
 * failed, the next ones fail at once for as long.
 */
static natsStatus
publish(struct eh_nats *n, natsMsg *m, const char *stream, jsPubAck **pa,
    jsErrCode *je, int *skipped)
{
	int64_t wait = n->cfg->nats_timeout_ms;
	int64_t t0 = eh_mono_ms(), left;
	jsPubOptions po;
	natsStatus s;

	/* After a PubAck timeout, as long again without trying: a hung
	 * server costs one timeout per pass, not one per event. */
	*skipped = 0;
	if (n->timeout_at != 0 && t0 - n->timeout_at < wait) {
		*skipped = 1;
		return NATS_TIMEOUT;
	}
	n->timeout_at = 0;
	for (;;) {
		left = wait - (eh_mono_ms() - t0);
		jsPubOptions_Init(&po);
		po.MaxWait = left > 0 ? left : 1;
		/* A subject some other stream took is no PubAck of ours. */
		po.ExpectStream = stream;
		*je = 0;
		s = js_PublishMsg(pa, n->js, m, &po, je);
		if (s == NATS_OK) {
			n->js_down_at = 0;
			return s;
		}
		if (s == NATS_TIMEOUT) {
			n->timeout_at = eh_mono_ms();
			return s;
		}
		if (s != NATS_NO_RESPONDERS && *je != JSClusterNotAvailErr &&
		    *je != JSClusterNotLeaderErr)
			return s;
		if (n->js_down_at != 0 &&
		    eh_mono_ms() - n->js_down_at < wait)
			return s;
		if (eh_mono_ms() - t0 + LEADER_WAIT_SLICE_MS >= wait) {
			n->js_down_at = eh_mono_ms();
			return s;
		}
		sleep_ms(LEADER_WAIT_SLICE_MS);
		/* Lost meanwhile: what is written now would wait in
		 * libnats, not go out; the caller says why. */
		if (natsConnection_Status(n->nc) != NATS_CONN_STATUS_CONNECTED)
			return NATS_CONNECTION_DISCONNECTED;
	}
}

enum eh_result
eh_publish_run(struct eh_job *job)
{
	const struct eh_ctl_config *cfg = job->cfg;
	struct eh_nats *n = job->nats;
	char hv[HEADER_VALUE_MAX + 1], dur[32];
	jsPubAck *pa = NULL;
	jsErrCode je = 0;
	natsMsg *m = NULL;
	natsStatus s;
	char *subject = NULL;
	enum eh_result r;
	int skipped = 0;

	job->error[0] = '\0';
	job->retry_after_ms = 0;
	if (n == NULL || cfg == NULL || cfg->nats_url == NULL) {
		snprintf(job->error, sizeof(job->error),
		    "publish: no NATS connection (ESIGNHOOK_NATS_URL)");
		return EH_RES_TEMP;
	}
	if (job->rec == NULL || job->rec->id == NULL || !id_ok(job->rec->id)) {
		snprintf(job->error, sizeof(job->error),
		    "publish: the record's id cannot be a Nats-Msg-Id");
		return EH_RES_PERM;
	}
	if (job->record_len > (size_t)0x7fffffff) {
		snprintf(job->error, sizeof(job->error),
		    "publish: the record is too large");
		return EH_RES_PERM;
	}
	subject = eh_nats_subject(subject_tmpl(cfg), job->rec);
	if (subject == NULL) {
		/* The template was checked with the configuration. */
		snprintf(job->error, sizeof(job->error),
		    "publish: out of memory");
		return EH_RES_TEMP;
	}
	if (!usable(n)) {
		down_reason(n, job->error, sizeof(job->error), "publish: ",
		    cfg->nats_timeout_ms);
		r = EH_RES_TEMP;
		goto out;
	}
	s = natsMsg_Create(&m, subject, NULL, job->record, (int)job->record_len);
	if (s == NATS_OK)
		s = natsMsgHeader_Set(m, "Nats-Msg-Id", job->rec->id);
	if (s == NATS_OK && job->rec->event != NULL) {
		header_value(hv, sizeof(hv), job->rec->event);
		s = natsMsgHeader_Set(m, "Esignhook-Event", hv);
	}
	if (s == NATS_OK && job->rec->provider != NULL) {
		header_value(hv, sizeof(hv), job->rec->provider);
		s = natsMsgHeader_Set(m, "Esignhook-Provider", hv);
	}
	if (s != NATS_OK) {
		say(job->error, sizeof(job->error), "publish: message", s, 0);
		r = EH_RES_TEMP;
		goto out;
	}
	s = publish(n, m, stream_name(cfg), &pa, &je, &skipped);
	/* An answer that names no stream, or another, is no PubAck of
	 * ours: a plain subscriber on the subject replying, say. */
	if (s == NATS_OK && (pa == NULL || pa->Stream == NULL ||
	    strcmp(pa->Stream, stream_name(cfg)) != 0)) {
		snprintf(job->error, sizeof(job->error), "publish: PubAck "
		    "not from stream %.*s (something else answers on "
		    "%.*s?)", 60, stream_name(cfg), 120, subject);
		r = EH_RES_TEMP;
		goto out;
	}
	if (s == NATS_OK) {
		r = EH_RES_OK;
		goto out;
	}
	r = EH_RES_TEMP;
	if (s == NATS_CONNECTION_DISCONNECTED)
		down_reason(n, job->error, sizeof(job->error), "publish: ",
		    cfg->nats_timeout_ms);
	else if (skipped) {
		eh_duration_format(dur, sizeof(dur), cfg->nats_timeout_ms);
		snprintf(job->error, sizeof(job->error), "publish: not tried: "
		    "a PubAck timed out less than %s ago (a hung server?)",
		    dur);
	}
	else if (s == NATS_NO_RESPONDERS)
		snprintf(job->error, sizeof(job->error), "publish: no stream "
		    "answered for %.*s (a leader being elected, or none: "
		    "esignhookctl nats-setup?)", 120, subject);
	else if (je == JSStreamNotMatchErr)
		snprintf(job->error, sizeof(job->error), "publish: subject "
		    "%.*s belongs to a stream other than %.*s", 100, subject,
		    60, stream_name(cfg));
	else {
		say(job->error, sizeof(job->error), "publish", s, je);
		/* Too large for the stream or the server: no retry fixes it. */
		if (je == JSStreamMessageExceedsMaximumErr ||
		    s == NATS_MAX_PAYLOAD)
			r = EH_RES_PERM;
	}
out:
	jsPubAck_Destroy(pa);
	natsMsg_Destroy(m);
	free(subject);
	return r;
}

/* ---- nats-setup ---- */

/* A JetStream answer worth asking again for: no leader yet. */
static int
transient(natsStatus s, jsErrCode je)
{
	return s == NATS_TIMEOUT || s == NATS_NO_RESPONDERS ||
	    je == JSClusterNotAvailErr || je == JSClusterNotLeaderErr ||
	    je == JSClusterNoPeersErr;
}

static void
emit(void (*line)(void *, const char *), void *ctx, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
emit(void (*line)(void *, const char *), void *ctx, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (line != NULL)
		line(ctx, buf);
}

/* The stream's subjects, comma-separated, into buf. */
static void
subjects_list(char *buf, size_t sz, const jsStreamConfig *sc)
{
	size_t len = 0;
	int i;

	buf[0] = '\0';
	for (i = 0; i < sc->SubjectsLen && len + 1 < sz; i++) {
		snprintf(buf + len, sz - len, "%s%s", i > 0 ? "," : "",
		    sc->Subjects[i]);
		len += strlen(buf + len);
	}
	if (sc->SubjectsLen == 0)
		snprintf(buf, sz, "%s (its name)", sc->Name);
}

static enum eh_nats_setup_result
check_stream(const jsStreamInfo *si, const char *pattern, int64_t replicas,
    int64_t dup_ms, void (*line)(void *, const char *), void *ctx)
{
	const jsStreamConfig *sc = si->Config;
	enum eh_nats_setup_result r = EH_NATS_SETUP_OK;
	char subj[1024], have[32], want[32];
	int i, covered = 0;
	int64_t have_dup = sc->Duplicates / NS_PER_MS;

	subjects_list(subj, sizeof(subj), sc);
	eh_duration_format(have, sizeof(have), have_dup);
	emit(line, ctx, "stream %s exists: subjects %s, %s storage, %lld "
	    "replica(s), duplicate window %s, %llu message(s)", sc->Name,
	    subj, sc->Storage == js_FileStorage ? "file" : "memory",
	    (long long)sc->Replicas, have, (unsigned long long)si->State.Msgs);
	for (i = 0; i < sc->SubjectsLen; i++)
		if (eh_nats_subject_covers(sc->Subjects[i], pattern))
			covered = 1;
	if (sc->SubjectsLen == 0 && eh_nats_subject_covers(sc->Name, pattern))
		covered = 1;
	if (!covered) {
		emit(line, ctx, "differs: its subjects do not take %s "
		    "(ESIGNHOOK_NATS_SUBJECT): publishing would fail", pattern);
		r = EH_NATS_SETUP_INCOMPATIBLE;
	}
	if (have_dup < dup_ms) {
		eh_duration_format(want, sizeof(want), dup_ms);
		emit(line, ctx, "not fit: duplicate window %s, shorter than "
		    "%s (ESIGNHOOK_RETRY_SCHEDULE's waits and a restart): a "
		    "re-publication after it would be stored twice",
		    have, want);
		r = EH_NATS_SETUP_INCOMPATIBLE;
	}
	if (replicas > 0 && sc->Replicas != replicas)
		emit(line, ctx, "differs: %lld replica(s), %lld asked (not "
		    "changed)", (long long)sc->Replicas, (long long)replicas);
	if (sc->Storage != js_FileStorage)
		emit(line, ctx, "differs: memory storage: a server restart "
		    "loses the events in it");
	/* Interest or work-queue retention removes a message once the
	 * consumers there have it: an event published before a consumer
	 * exists is dropped, and a second durable gets nothing.  NoAck
	 * sends no PubAck at all. */
	if (sc->Retention != js_LimitsPolicy) {
		emit(line, ctx, "incompatible: %s retention: messages go "
		    "once consumed (or at once with no consumer); esignhook "
		    "needs limits retention", sc->Retention ==
		    js_InterestPolicy ? "interest" : "work-queue");
		r = EH_NATS_SETUP_INCOMPATIBLE;
	}
	if (sc->NoAck) {
		emit(line, ctx, "incompatible: no_ack: the stream sends no "
		    "PubAck, so no publication would ever be confirmed");
		r = EH_NATS_SETUP_INCOMPATIBLE;
	}
	if (sc->Discard == js_DiscardOld && (sc->MaxAge > 0 ||
	    sc->MaxMsgs > 0 || sc->MaxBytes > 0 || sc->MaxMsgsPerSubject > 0))
		emit(line, ctx, "warning: limits (max age %llds, max msgs "
		    "%lld, max bytes %lld, per subject %lld) with discard "
		    "old: events go from the stream unconsumed once over them",
		    (long long)(sc->MaxAge / (NS_PER_MS * 1000)),
		    (long long)sc->MaxMsgs, (long long)sc->MaxBytes,
		    (long long)sc->MaxMsgsPerSubject);
	if (r == EH_NATS_SETUP_OK)
		emit(line, ctx, "stream %s is fit for esignhook: nothing "
		    "changed", sc->Name);
	return r;
}

enum eh_nats_setup_result
eh_nats_setup(struct eh_nats *n, int64_t replicas, int64_t dup_window_ms,
    void (*line)(void *ctx, const char *line), void *ctx, char *msg,
    size_t msgsz)
{
	const struct eh_ctl_config *cfg = n->cfg;
	const char *stream = stream_name(cfg), *subjects[1];
	enum eh_nats_setup_result r = EH_NATS_SETUP_ERROR;
	jsStreamInfo *si = NULL;
	jsStreamConfig sc;
	jsErrCode je;
	natsStatus s;
	char *need = NULL, *pattern = NULL, dur[32];
	int tries;

	msg[0] = '\0';
	need = eh_nats_stream_subject(subject_tmpl(cfg));
	pattern = eh_nats_subject_pattern(subject_tmpl(cfg));
	if (pattern == NULL) {
		snprintf(msg, msgsz, "out of memory");
		goto out;
	}
	if (need == NULL) {
		snprintf(msg, msgsz, "ESIGNHOOK_NATS_SUBJECT starts with a "
		    "placeholder: no subjects to give the stream; begin it "
		    "with a fixed token (esign.{provider}.{event}) or create "
		    "stream %s yourself", stream);
		goto out;
	}
	if (!wait_connected(n, cfg->nats_timeout_ms)) {
		down_reason(n, msg, msgsz, "", cfg->nats_timeout_ms);
		goto out;
	}
	for (tries = 0; tries < SETUP_TRIES; tries++) {
		je = 0;
		s = js_GetStreamInfo(&si, n->js, stream, NULL, &je);
		if (s == NATS_OK) {
			r = check_stream(si, pattern, replicas, dup_window_ms,
			    line, ctx);
			goto out;
		}
		if (s == NATS_NOT_FOUND || je == JSStreamNotFoundErr)
			break;
		if (!transient(s, je)) {
			say(msg, msgsz, "stream info", s, je);
			goto out;
		}
		sleep_ms(500);
	}
	if (tries == SETUP_TRIES) {
		snprintf(msg, msgsz, "stream info: JetStream does not answer "
		    "(is it enabled: nats-server -js?)");
		goto out;
	}
	jsStreamConfig_Init(&sc);
	subjects[0] = need;
	sc.Name = stream;
	sc.Description = "esignhook events, one message per spooled event";
	sc.Subjects = subjects;
	sc.SubjectsLen = 1;
	sc.Storage = js_FileStorage;
	sc.Replicas = replicas > 0 ? replicas : 1;
	sc.Duplicates = dup_window_ms * NS_PER_MS;
	for (tries = 0; tries < SETUP_TRIES; tries++) {
		je = 0;
		s = js_AddStream(&si, n->js, &sc, NULL, &je);
		if (s == NATS_OK || !transient(s, je))
			break;
		sleep_ms(500);
	}
	if (s != NATS_OK) {
		say(msg, msgsz, "creating the stream", s, je);
		if (je == JSStreamSubjectOverlapErr)
			snprintf(msg, msgsz, "creating the stream: another "
			    "stream already takes %s", need);
		else if (je == JSStreamReplicasNotSupportedErr ||
		    je == JSClusterNoPeersErr)
			snprintf(msg, msgsz, "creating the stream: %lld "
			    "replicas need a JetStream cluster of as many "
			    "servers", (long long)sc.Replicas);
		goto out;
	}
	eh_duration_format(dur, sizeof(dur), dup_window_ms);
	emit(line, ctx, "created stream %s: subjects %s, file storage, %lld "
	    "replica(s), duplicate window %s", stream, need,
	    (long long)sc.Replicas, dur);
	r = EH_NATS_SETUP_CREATED;
out:
	jsStreamInfo_Destroy(si);
	free(need);
	free(pattern);
	return r;
}

int
eh_nats_window_warning(struct eh_nats *n, char *msg, size_t msgsz)
{
	jsStreamInfo *si = NULL;
	jsErrCode je = 0;
	int64_t need, have;
	char a[32], b[32];
	int capped, rc = 0;

	msg[0] = '\0';
	if (natsConnection_Status(n->nc) != NATS_CONN_STATUS_CONNECTED ||
	    n->js == NULL)
		return 0;
	if (js_GetStreamInfo(&si, n->js, stream_name(n->cfg), NULL, &je) !=
	    NATS_OK || si == NULL || si->Config == NULL) {
		jsStreamInfo_Destroy(si);
		return 0;
	}
	need = eh_nats_dup_window(n->cfg, &capped);
	have = si->Config->Duplicates / NS_PER_MS;
	if (have < need) {
		eh_duration_format(a, sizeof(a), have);
		eh_duration_format(b, sizeof(b), need);
		snprintf(msg, msgsz, "stream %s's duplicate window is %s, "
		    "shorter than the %s ESIGNHOOK_RETRY_SCHEDULE needs: an "
		    "event retried after it may be stored twice "
		    "(esignhookctl nats-setup says more)",
		    stream_name(n->cfg), a, b);
		rc = 1;
	}
	jsStreamInfo_Destroy(si);
	return rc;
}

/* ---- consume ---- */

/* What of the durable's settings that matter here ci has other than
 * cc, as "AckWait 35s, now 15s; ..." in buf ("": the same). */
static void
consumer_changes(char *buf, size_t sz, const jsConsumerInfo *ci,
    const jsConsumerConfig *cc)
{
	const jsConsumerConfig *old = ci->Config;
	const char *of, *nf;
	char a[32], b[32];
	size_t len = 0;

	buf[0] = '\0';
	if (old == NULL)
		return;
	if (old->AckWait != cc->AckWait) {
		eh_duration_format(a, sizeof(a), old->AckWait / NS_PER_MS);
		eh_duration_format(b, sizeof(b), cc->AckWait / NS_PER_MS);
		snprintf(buf + len, sz - len, "AckWait %s, now %s", a, b);
		len += strlen(buf + len);
	}
	if (old->MaxDeliver != cc->MaxDeliver && len + 1 < sz) {
		snprintf(buf + len, sz - len, "%sMaxDeliver %lld, now %lld",
		    len > 0 ? "; " : "", (long long)old->MaxDeliver,
		    (long long)cc->MaxDeliver);
		len += strlen(buf + len);
	}
	of = old->FilterSubject != NULL ? old->FilterSubject : "";
	nf = cc->FilterSubject != NULL ? cc->FilterSubject : "";
	if (strcmp(of, nf) != 0 && len + 1 < sz)
		snprintf(buf + len, sz - len, "%sFilterSubject %.100s, now "
		    "%.100s", len > 0 ? "; " : "", *of != '\0' ? of :
		    "(all)", *nf != '\0' ? nf : "(all)");
}

enum eh_err
eh_consume_open(struct eh_consumer **csp, struct eh_nats *n,
    const struct eh_consume *c, char *msg, size_t msgsz)
{
	const struct eh_ctl_config *cfg = c->cfg;
	struct eh_consumer *cs;
	jsConsumerInfo *ci = NULL;
	jsConsumerConfig cc;
	jsSubOptions so;
	jsErrCode je = 0;
	natsStatus s;
	char changes[384], warn[640];
	int tries;

	*csp = NULL;
	msg[0] = '\0';
	warn[0] = '\0';
	cs = calloc(1, sizeof(*cs));
	if (cs == NULL) {
		snprintf(msg, msgsz, "out of memory");
		return EH_ERR_NOMEM;
	}
	cs->n = n;
	cs->c = c;
	snprintf(cs->durable, sizeof(cs->durable), "%s", c->durable != NULL ?
	    c->durable : EH_NATS_DEFAULT_DURABLE);
	if (!wait_connected(n, cfg->nats_timeout_ms)) {
		down_reason(n, msg, msgsz, "", cfg->nats_timeout_ms);
		free(cs);
		return EH_ERR_CONFIG;
	}
	jsConsumerConfig_Init(&cc);
	cc.Durable = cs->durable;
	cc.Description = "esignhookctl consume";
	cc.AckPolicy = js_AckExplicit;
	cc.DeliverPolicy = js_DeliverAll;
	cc.AckWait = (cfg->exec_timeout_ms + ACK_WAIT_SLACK_MS) * NS_PER_MS;
	cc.MaxDeliver = (int64_t)cfg->schedule_n + 1;
	cc.FilterSubject = c->subject;
	/*
	 * Made (or brought to these settings) here rather than by the
	 * subscription, which refuses a durable whose settings differ: a
	 * new ESIGNHOOK_EXEC_TIMEOUT or schedule takes effect.  Every
	 * process sharing the durable gets them, so a change is said.
	 */
	je = 0;
	if (js_GetConsumerInfo(&ci, n->js, stream_name(cfg), cs->durable,
	    NULL, &je) == NATS_OK && ci != NULL) {
		consumer_changes(changes, sizeof(changes), ci, &cc);
		if (changes[0] != '\0')
			snprintf(warn, sizeof(warn), "durable %s had other "
			    "settings, updated to this start's (shared by "
			    "every consumer of it): %s", cs->durable, changes);
	}
	jsConsumerInfo_Destroy(ci);
	ci = NULL;
	for (tries = 0; tries < SETUP_TRIES; tries++) {
		je = 0;
		s = js_AddConsumer(&ci, n->js, stream_name(cfg), &cc, NULL, &je);
		if (s != NATS_OK && (je == JSConsumerNameExistErr ||
		    je == JSConsumerCreateErr)) {
			je = 0;
			s = js_UpdateConsumer(&ci, n->js, stream_name(cfg), &cc,
			    NULL, &je);
		}
		if (s == NATS_OK || !transient(s, je))
			break;
		sleep_ms(500);
	}
	jsConsumerInfo_Destroy(ci);
	if (s != NATS_OK) {
		if (je == JSStreamNotFoundErr || s == NATS_NOT_FOUND)
			snprintf(msg, msgsz, "no stream %s (esignhookctl "
			    "nats-setup?)", stream_name(cfg));
		else
			say(msg, msgsz, "creating the consumer", s, je);
		free(cs);
		return EH_ERR_CONFIG;
	}
	jsSubOptions_Init(&so);
	so.Stream = stream_name(cfg);
	so.Consumer = cs->durable;
	je = 0;
	s = js_PullSubscribe(&cs->sub, n->js, c->subject != NULL ? c->subject :
	    "", cs->durable, NULL, &so, &je);
	if (s != NATS_OK) {
		say(msg, msgsz, "subscribing", s, je);
		free(cs);
		return EH_ERR_CONFIG;
	}
	snprintf(msg, msgsz, "%s", warn);
	*csp = cs;
	return EH_OK;
}

void
eh_consume_close(struct eh_consumer *cs)
{
	if (cs == NULL)
		return;
	/* Destroy, not Unsubscribe: that would delete the durable. */
	natsSubscription_Destroy(cs->sub);
	free(cs);
}

/* In [0.8, 1.2], as the drainer's. */
static double
jitter(void)
{
	return 0.8 + (double)randombytes_uniform(400001) / 1000000.0;
}

/* Whether jansson refused buf for want of memory rather than for
 * its syntax (eh_record_parse says EH_ERR_JSON for both). */
static int
oom_json(const char *buf, size_t len)
{
	json_error_t jerr;
	json_t *j;

	j = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (j != NULL) {
		json_decref(j);
		return 0;
	}
	return json_error_code(&jerr) == json_error_out_of_memory;
}

/* Run one message through the exec action and settle it. */
static void
handle(struct eh_consumer *cs, natsMsg *m, struct eh_consume_totals *t)
{
	const struct eh_consume *c = cs->c;
	struct eh_consume_report rep;
	struct eh_consume_decision d;
	struct eh_record rec;
	struct eh_job job;
	jsMsgMetaData *meta = NULL;
	enum eh_result r = EH_RES_TEMP;
	natsStatus s;
	jsErrCode je = 0;
	char err[EH_ERROR_MAX];
	const char *data;
	enum eh_err pe = EH_ERR_JSON;
	int parsed, len;
	int64_t t0 = eh_mono_ms();

	memset(&rep, 0, sizeof(rep));
	memset(&job, 0, sizeof(job));
	err[0] = '\0';
	rep.delivered = 1;
	if (natsMsg_GetMetaData(&meta, m) == NATS_OK) {
		rep.delivered = meta->NumDelivered;
		jsMsgMetaData_Destroy(meta);
	}
	data = natsMsg_GetData(m);
	len = natsMsg_GetDataLength(m);
	if (data != NULL && len > 0) {
		pe = eh_record_parse(&rec, data, (size_t)len);
		if (pe == EH_ERR_JSON && oom_json(data, (size_t)len))
			pe = EH_ERR_NOMEM;
	}
	parsed = pe == EH_OK;
	if (parsed) {
		rep.id = rec.id;
		rep.event = rec.event;
		rep.provider = rec.provider;
		job.rcfg = c->rcfg;
		job.cfg = c->cfg;
		job.rec = &rec;
		job.record = data;
		job.record_len = (size_t)len;
		job.attempt = rep.delivered > 0xffffffffu ? 0xffffffffu :
		    (unsigned)rep.delivered;
		job.base_env = c->base_env;
		r = eh_exec_run(&job);
		snprintf(err, sizeof(err), "%s", job.error);
		eh_consume_decide(&d, c->cfg, r, 1, rep.delivered, jitter());
	} else if (eh_consume_unreadable(pe)) {
		snprintf(err, sizeof(err), "the message is no esignhook "
		    "record");
		eh_consume_decide(&d, c->cfg, r, 0, rep.delivered, jitter());
	} else {
		/* This consumer's failure, not the message's: nak'd as a
		 * temporary one, terminated only once deliveries run out. */
		snprintf(err, sizeof(err), "reading the record: out of "
		    "memory");
		eh_consume_decide(&d, c->cfg, EH_RES_TEMP, 1, rep.delivered,
		    jitter());
	}
	switch (d.verdict) {
	case EH_CONSUME_ACK:
		/* Confirmed, or the message may come again: the exec must
		 * be idempotent anyway (a redelivery after a crash). */
		s = natsMsg_AckSync(m, NULL, &je);
		break;
	case EH_CONSUME_TERM:
		s = natsMsg_Term(m, NULL);
		break;
	default:
		s = natsMsg_NakWithDelay(m, d.delay_ms, NULL);
		break;
	}
	rep.settled = s == NATS_OK;
	if (s != NATS_OK) {
		char why[96];

		say(why, sizeof(why), eh_consume_verdict_name(d.verdict), s, je);
		if (err[0] != '\0') {
			size_t l = strlen(err);

			if (l + 3 < sizeof(err))
				snprintf(err + l, sizeof(err) - l, "; %.*s",
				    (int)(sizeof(err) - l - 3), why);
		} else
			snprintf(err, sizeof(err), "%s", why);
		t->failed++;
	} else if (d.verdict == EH_CONSUME_ACK)
		t->acked++;
	else if (d.verdict == EH_CONSUME_TERM)
		t->termed++;
	else
		t->naked++;
	rep.verdict = d.verdict;
	rep.last = d.last;
	rep.delay_ms = d.delay_ms;
	rep.error = err[0] != '\0' ? err : NULL;
	rep.ms = (long)(eh_mono_ms() - t0);
	if (c->report != NULL)
		c->report(c->ctx, &rep);
	if (parsed)
		eh_record_free(&rec);
}

int
eh_consume_next(struct eh_consumer *cs, int64_t wait_ms,
    struct eh_consume_totals *t, char *msg, size_t msgsz)
{
	natsMsgList list = { NULL, 0 };
	jsErrCode je = 0;
	natsStatus s;
	int i, rc;

	msg[0] = '\0';
	s = natsSubscription_Fetch(&list, cs->sub, 1, wait_ms, &je);
	if (s == NATS_TIMEOUT || (s == NATS_OK && list.Count == 0))
		return 0;
	if (s != NATS_OK) {
		natsMsgList_Destroy(&list);
		if (natsConnection_Status(cs->n->nc) ==
		    NATS_CONN_STATUS_CLOSED) {
			down_reason(cs->n, msg, msgsz, "fetch: ", 0);
			return -2;
		}
		say(msg, msgsz, "fetch", s, je);
		/* Not connected: the fetch fails at once; do not spin. */
		sleep_ms(wait_ms < 1000 ? (long)wait_ms : 1000);
		return -1;
	}
	rc = 0;
	for (i = 0; i < list.Count; i++) {
		if (list.Msgs[i] == NULL)
			continue;
		handle(cs, list.Msgs[i], t);
		rc = 1;
	}
	natsMsgList_Destroy(&list);
	return rc;
}
