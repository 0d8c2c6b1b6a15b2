/*
 * esignhook: the receiver.  One binary, three ways to run:
 *   - FastCGI: fd 0 is a listening socket (spawn-fcgi, systemd, Apache
 *     mod_fcgid); N threads accept on it and serve requests;
 *   - CGI: one request from the environment and stdin;
 *   - a shell: --help, --version, check-config.
 * Every decision is lib/'s; this file does the I/O and the log line.
 * It is the only file that includes fcgiapp.h.
 */
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/types.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <fcgiapp.h>
#include <jansson.h>
#include <sodium.h>

#include "../lib/esignhook.h"
#include "sandbox.h"

#define PROG "esignhook"
#define EXIT_NOPERM 77  /* EX_NOPERM: root without ESIGNHOOK_ALLOW_ROOT */

static const char usage_text[] =
"usage: esignhook [--help | --version | check-config]\n"
"\n"
"Receives OneSpan Sign and AlphaTrust e-Sign callbacks and appends each\n"
"event durably to a spool directory before acknowledging it.\n"
"\n"
"Run it from a web server, not by hand:\n"
"  FastCGI  when fd 0 is a listening socket (spawn-fcgi, systemd, mod_fcgid)\n"
"  CGI      when GATEWAY_INTERFACE is set (Apache mod_cgi, shared hosting)\n"
"\n"
"  check-config   validate the configuration and the spool, then exit\n"
"                 (0: ready to serve; 1: what is wrong is printed)\n"
"  --help         this text\n"
"  --version      the version\n"
"\n"
"Configuration (file named by ESIGNHOOK_CONFIG, KEY=value lines; then the\n"
"environment; then FastCGI params or the CGI environment per request):\n"
"  ESIGNHOOK_SPOOL              spool directory (required), e.g. /var/spool/esignhook\n"
"  ESIGNHOOK_ONESPAN_KEYS       OneSpan callback keys, comma-separated\n"
"  ESIGNHOOK_ALPHATRUST_TOKENS  AlphaTrust URL tokens, comma-separated\n"
"  ESIGNHOOK_RESPONSE_TEXT      AlphaTrust reply text (default OK)\n"
"  ESIGNHOOK_MAX_BODY           largest body in bytes (default 65536)\n"
"  ESIGNHOOK_SPOOL_MAX_EVENTS   503 when more wait in new/ (default 100000; 0: none)\n"
"  ESIGNHOOK_SPOOL_MIN_FREE     503 under this much free space (default 64M)\n"
"  ESIGNHOOK_PROVIDER           onespan, alphatrust or auto (default)\n"
"  ESIGNHOOK_LOG                stderr (default) or syslog\n"
"  ESIGNHOOK_THREADS            FastCGI threads per process (default 8)\n"
"  ESIGNHOOK_READ_TIMEOUT       FastCGI: longest wait on a client (default 10s)\n"
"  ESIGNHOOK_SPOOL_COMMIT       FastCGI: file (default) or group (one journal\n"
"                               fdatasync for many events; README)\n"
"  ESIGNHOOK_SANDBOX            on (default): Landlock + seccomp after start-up\n"
"  ESIGNHOOK_ALLOW_ROOT         1 to serve as root (refused otherwise)\n"
"  ESIGNHOOK_OAUTH_CLIENT_ID    OneSpan OAuth 2.0: the client id (.../oauth/token)\n"
"  ESIGNHOOK_OAUTH_CLIENT_SECRETS  its secrets, comma-separated (first signs)\n"
"  ESIGNHOOK_OAUTH_TOKEN_TTL    access token lifetime (default 1h, at most 1d)\n"
"\n"
"See the README (or man 8 esignhook) for the spool format and deployment.\n";

/* ---- configuration ---- */

static const char *
env_lookup(void *ctx, const char *key)
{
	(void)ctx;
	return getenv(key);
}

/* Defaults, then $ESIGNHOOK_CONFIG, then the environment. */
static int
load_config(struct eh_config *cfg, char *msg, size_t msgsz)
{
	return eh_config_load(cfg, NULL, getenv("ESIGNHOOK_CONFIG"),
	    env_lookup, NULL, msg, msgsz) == EH_OK ? 0 : -1;
}

/* ---- the log line ---- */

/* v in decimal, NUL-terminated, at the end of d[DECIMAL_MAX]; returns
 * where it starts (a printf per number cost more than the rest of a
 * log line's field). */
#define DECIMAL_MAX 24

static const char *
decimal(char d[DECIMAL_MAX], long long v)
{
	size_t i = DECIMAL_MAX - 1;
	unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v :
	    (unsigned long long)v;

	d[i] = '\0';
	do {
		d[--i] = (char)('0' + u % 10);
		u /= 10;
	} while (u > 0);
	if (v < 0)
		d[--i] = '-';
	return d + i;
}

static long
elapsed_us(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (long)(t1.tv_sec - t0->tv_sec) * 1000000L +
	    (t1.tv_nsec - t0->tv_nsec) / 1000;
}

/*
 * The log line's "ts", formatted once a second per thread: gmtime_r
 * and strftime cost as much as the rest of the line.
 */
static const char *
log_ts(time_t sec)
{
	static _Thread_local time_t cached_sec = (time_t)-1;
	static _Thread_local char cached[32];
	struct tm tm;

	if (sec != cached_sec) {
		gmtime_r(&sec, &tm);
		if (strftime(cached, sizeof(cached), "%Y-%m-%dT%H:%M:%SZ",
		    &tm) == 0)
			cached[0] = '\0';
		cached_sec = sec;
	}
	return cached;
}

static void
log_request(const struct eh_log *lg, const struct eh_request *req,
    const struct eh_decision *d, const struct eh_outcome *out,
    const struct timespec *t0)
{
	char line[EH_LOG_LINE_MAX], num[DECIMAL_MAX], rid[65];
	const char *ts;
	struct timespec now;
	size_t len = 0;
	int status = d->resp.status, prio;

	clock_gettime(CLOCK_REALTIME, &now);
	ts = log_ts(now.tv_sec);
	prio = status >= 500 ? LOG_ERR : status >= 400 ? LOG_WARNING :
	    LOG_INFO;
	/* Stored but unanswered: the sender may think it failed.  Stored
	 * with problems: someone should look at what the sender sent. */
	if (prio == LOG_INFO && (out->sys_op != NULL ||
	    out->problems[0] != '\0'))
		prio = LOG_WARNING;
	line[0] = '\0';
	eh_logfmt(line, sizeof(line), &len, "ts", ts);
	eh_logfmt(line, sizeof(line), &len, "level", eh_log_level(prio));
	eh_logfmt(line, sizeof(line), &len, "status", decimal(num, status));
	eh_logfmt(line, sizeof(line), &len, "method", req->method);
	eh_logfmt(line, sizeof(line), &len, "provider", out->provider);
	/* Which credential let it in, never the credential. */
	if (out->auth != NULL)
		eh_logfmt(line, sizeof(line), &len, "auth", out->auth);
	eh_logfmt(line, sizeof(line), &len, "event",
	    out->event[0] != '\0' ? out->event : NULL);
	eh_logfmt(line, sizeof(line), &len, "id",
	    out->id[0] != '\0' ? out->id : NULL);
	if (out->duplicate)
		eh_logfmt(line, sizeof(line), &len, "duplicate", "true");
	eh_logfmt(line, sizeof(line), &len, "bytes",
	    decimal(num, (long long)req->body_len));
	eh_logfmt(line, sizeof(line), &len, "us", decimal(num, elapsed_us(t0)));
	eh_logfmt(line, sizeof(line), &len, "remote", req->remote_addr);
	if (req->request_id != NULL) {
		/* Matches nginx's access log line; bounded, it is input. */
		snprintf(rid, sizeof(rid), "%s", req->request_id);
		eh_logfmt(line, sizeof(line), &len, "rid", rid);
	}
	if (out->problems[0] != '\0')
		eh_logfmt(line, sizeof(line), &len, "problems", out->problems);
	if (out->err != EH_OK)
		eh_logfmt(line, sizeof(line), &len, "reason",
		    eh_strerror(out->err));
	if (out->sys_op != NULL) {
		eh_logfmt(line, sizeof(line), &len, "op", out->sys_op);
		if (out->sys_errno != 0)
			eh_logfmt(line, sizeof(line), &len, "errno",
			    eh_errno_str(out->sys_errno));
	}
	eh_log_emit(lg, prio, line);
}

/* ---- the reply ---- */

static const char *
status_text(int status)
{
	switch (status) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 405: return "Method Not Allowed";
	case 413: return "Content Too Large";
	case 415: return "Unsupported Media Type";
	case 500: return "Internal Server Error";
	case 503: return "Service Unavailable";
	default: return "Unknown";
	}
}

/* A reply being assembled: room left (one byte kept for a NUL, as
 * snprintf kept it), and whether something did not fit. */
struct wbuf {
	char *p;
	size_t left;
	int over;
};

static void
wput(struct wbuf *w, const char *s, size_t n)
{
	if (w->over || n > w->left) {
		w->over = 1;
		return;
	}
	memcpy(w->p, s, n);
	w->p += n;
	w->left -= n;
}

static void
wstr(struct wbuf *w, const char *s)
{
	wput(w, s, strlen(s));
}

/* A number in decimal (a status may be any int, a length any size). */
static void
wnum(struct wbuf *w, long long v)
{
	char d[DECIMAL_MAX];

	wstr(w, decimal(d, v));
}

#define WLIT(w, lit) wput((w), (lit), sizeof(lit) - 1)

static void
wheader(struct wbuf *w, const char *name, const char *value)
{
	if (value == NULL)
		return;
	wstr(w, name);
	wstr(w, value);
	WLIT(w, "\r\n");
}

/*
 * The CGI response (RFC 3875 6), headers and body, into buf: copied
 * together piece by piece (a printf per reply cost more than the rest
 * of it).  0 when it does not fit.
 */
static size_t
format_reply(char *buf, size_t cap, const struct eh_response *r)
{
	struct wbuf w = { buf, cap > 0 ? cap - 1 : 0, cap == 0 };

	WLIT(&w, "Status: ");
	wnum(&w, r->status);
	WLIT(&w, " ");
	wstr(&w, status_text(r->status));
	WLIT(&w, "\r\nContent-Type: ");
	wstr(&w, r->content_type);
	WLIT(&w, "\r\nContent-Length: ");
	wnum(&w, (long long)r->body_len);
	WLIT(&w, "\r\nCache-Control: no-store\r\n");
	/* RFC 6749 5.1: a token response is cached by nobody, HTTP/1.0
	 * caches included. */
	if (r->no_cache)
		WLIT(&w, "Pragma: no-cache\r\n");
	wheader(&w, "Allow: ", r->allow);
	wheader(&w, "WWW-Authenticate: ", r->www_authenticate);
	wheader(&w, "Retry-After: ", r->retry_after);
	WLIT(&w, "\r\n");
	wput(&w, r->body, r->body_len);
	if (w.over)
		return 0;
	return (size_t)(w.p - buf);
}

/* ---- CGI ---- */

/*
 * The CGI reply for a failure before any request is served (what went
 * wrong is in the log): a CGI that dies silently is a 500 with no clue.
 */
static void
cgi_fail(const char *why)
{
	printf("Status: 500 Internal Server Error\r\n"
	    "Content-Type: text/plain\r\n\r\n"
	    "esignhook: %s\n", why);
}

static long
fd_read(void *ctx, char *buf, size_t len)
{
	ssize_t n;

	do
		n = read(*(int *)ctx, buf, len);
	while (n < 0 && errno == EINTR);
	return (long)n;
}

static void
request_from(struct eh_request *req, eh_lookup_fn lookup, void *ctx)
{
	memset(req, 0, sizeof(*req));
	req->method = lookup(ctx, "REQUEST_METHOD");
	req->request_uri = lookup(ctx, "REQUEST_URI");
	req->query = lookup(ctx, "QUERY_STRING");
	req->content_type = lookup(ctx, "CONTENT_TYPE");
	req->content_length = lookup(ctx, "CONTENT_LENGTH");
	req->authorization = lookup(ctx, "HTTP_AUTHORIZATION");
	req->remote_addr = lookup(ctx, "REMOTE_ADDR");
	req->request_id = lookup(ctx, "REQUEST_ID");
	req->path_info = lookup(ctx, "PATH_INFO");
	/* The clock Bearer tokens are minted and checked by. */
	req->now = (int64_t)time(NULL);
	/* Read only once the request is authenticated (eh_serve). */
	req->body_state = EH_BODY_UNREAD;
}

/*
 * As CGI, read and discard what is left of a body refused (for its
 * size, or before authentication: then none of it was read) before
 * replying: Apache's mod_cgid drops the reply of a CGI that exits with
 * its stdin unread ("Empty reply from server"), and the sender would
 * not even see the 413 or 401.  Bounded, so a sender cannot keep the
 * process reading.  Only a request that has a body: a GET's stdin may
 * never end.
 */
#define DRAIN_MAX (1024 * 1024)

static void
drain_body(const struct eh_request *req, eh_read_fn rd, void *rctx)
{
	char buf[8192];
	size_t total = 0;
	long n;

	if (req->body_state != EH_BODY_OVER &&
	    req->body_state != EH_BODY_UNREAD)
		return;
	if ((req->method == NULL || strcmp(req->method, "POST") != 0) &&
	    (req->content_length == NULL || *req->content_length == '\0' ||
	    strcmp(req->content_length, "0") == 0))
		return;
	while (total < DRAIN_MAX) {
		n = rd(rctx, buf, sizeof(buf));
		if (n <= 0)
			break;
		total += (size_t)n;
	}
}

/*
 * Serve (the body is read by eh_serve, and only once the request is
 * authenticated), reply, log.  The reply buffer is this function's;
 * the decision, which owns the body, is freed here.
 */
static void
serve_one(struct eh_outcome *out, struct eh_request *req,
    const struct eh_config *cfg, struct eh_spool *sp,
    const struct eh_log *lg, eh_read_fn rd, void *rctx, int drain,
    int (*reply)(void *, const char *, size_t), void *wctx,
    const struct timespec *t0)
{
	struct eh_decision d;
	char wire[1024];
	size_t n;

	eh_serve(&d, out, req, cfg, sp, rd, rctx);
	if (drain)
		drain_body(req, rd, rctx);
	n = format_reply(wire, sizeof(wire), &d.resp);
	if (n == 0 || reply(wctx, wire, n) != 0) {
		/* Stored or not, the sender did not hear it: say so. */
		if (out->sys_op == NULL)
			out->sys_op = "write reply";
	}
	log_request(lg, req, &d, out, t0);
	/* A token response: no copy of the token outlives its sending. */
	if (d.token_endpoint) {
		sodium_memzero(wire, sizeof(wire));
		sodium_memzero(d.resp.body, sizeof(d.resp.body));
	}
	eh_decision_free(&d);
}

static int
stdout_reply(void *ctx, const char *buf, size_t len)
{
	(void)ctx;
	return eh_write_all(STDOUT_FILENO, buf, len);
}

/*
 * A handle of the spool for the sandbox's Landlock rule: an O_PATH
 * open is no disk work, so a request refused before authentication
 * creates, writes and syncs nothing; the spool's directories are
 * opened, and made when missing, only to store an authenticated event
 * (eh_serve).  A spool that does not exist yet cannot be named, and a
 * rule on its parent would open the parent to the request: it is made
 * here, once, by its first request whatever that is, as check-config
 * or a FastCGI worker's start makes it.  -1: none to name.
 */
static int
cgi_spool_handle(const char *spool)
{
	struct eh_spool sp;
	int fd;

	if (spool == NULL)
		return -1;
	fd = open(spool, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0 || errno != ENOENT)
		return fd;
	if (eh_spool_open(&sp, spool) != EH_OK) {
		eh_spool_close(&sp);
		return -1;
	}
	fd = fcntl(sp.dirfd, F_DUPFD_CLOEXEC, 0);
	eh_spool_close(&sp);
	return fd;
}

/* Whether fd 0 is a listening socket, as libfcgi's OS_IsFcgi tells. */
static int
listening_fd0(void)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	return getpeername(STDIN_FILENO, (struct sockaddr *)&ss, &len) != 0 &&
	    errno == ENOTCONN;
}

static int
run_cgi(const struct eh_config *cfg, const struct eh_log *lg)
{
	struct eh_request req;
	struct eh_outcome out;
	struct eh_spool sp;
	struct timespec t0;
	char note[256];
	int in = STDIN_FILENO, landlocked, spoolfd, rc;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	eh_spool_init(&sp);
	sp.count_sample = 16;
	if (cfg->sandbox) {
		/* A failure to name the spool is the request's 503 later,
		 * with its cause, if it gets that far. */
		spoolfd = cgi_spool_handle(cfg->spool);
		rc = eh_sandbox_enter(spoolfd, EH_SANDBOX_CGI, &landlocked,
		    note, sizeof(note));
		if (spoolfd >= 0)
			close(spoolfd);
		if (rc < 0) {
			eh_log_msg(lg, LOG_ERR, "%s", note);
			cgi_fail("sandbox failed");
			return 1;
		}
	}
	request_from(&req, env_lookup, NULL);
	serve_one(&out, &req, cfg, &sp, lg, fd_read, &in, 1, stdout_reply, NULL,
	    &t0);
	eh_spool_close(&sp);
	return 0;
}

/* ---- FastCGI ---- */

#define WEB_SERVERS_MAX 16
#define LISTEN_FD 0     /* FastCGI's FCGI_LISTENSOCK_FILENO */

struct server {
	const struct eh_config *cfg;
	struct eh_log lg;
	atomic_int stopping;
	struct eh_journal *journal;     /* group commit; NULL: file */
	atomic_int keeper_stop;
	atomic_int publisher_stop;
	int sandboxed_spool;            /* Landlock names the spool's inode */
	atomic_int restart;             /* exit EX_TEMPFAIL for a restart */
	struct in_addr web[WEB_SERVERS_MAX]; /* FCGI_WEB_SERVER_ADDRS */
	size_t nweb;                    /* 0: any */
};

#define EXIT_RESTART 75 /* EX_TEMPFAIL: supervisors restart on it */

/*
 * A sandboxed worker cannot reach a spool recreated after removal (a
 * new inode, outside its Landlock rule): finish what is in flight and
 * exit, so the supervisor (systemd, mod_fcgid) starts a fresh one.
 */
static void
want_restart(struct server *srv, const struct eh_outcome *out)
{
	if (!srv->sandboxed_spool || out->err != EH_ERR_SPOOL_IO ||
	    out->sys_op == NULL || strcmp(out->sys_op, "open spool") != 0 ||
	    atomic_exchange(&srv->restart, 1) != 0)
		return;
	eh_log_msg(&srv->lg, LOG_ERR, "spool %s was removed: the sandbox "
	    "cannot follow a new one; exiting for a restart",
	    srv->cfg->spool);
	kill(getpid(), SIGTERM);
}

struct worker {
	struct server *srv;
	pthread_t tid;
	atomic_int done;
};

static const char *
fcgi_lookup(void *ctx, const char *key)
{
	return FCGX_GetParam(key, ((FCGX_Request *)ctx)->envp);
}

/*
 * Whether a param may be a per-request override: every configuration
 * key starts with "ESIGNHOOK_", and a request without any such param
 * (nearly all of them) is settled in one pass over its params, where
 * eh_config_any looks each key up among them in turn.  One that has
 * one is then asked eh_config_any, so the answer is the same.
 */
#define OVERRIDE_PREFIX "ESIGNHOOK_"

static int
fcgi_may_override(const FCGX_Request *r)
{
	char **e;

	if (r->envp == NULL)
		return 0;
	for (e = r->envp; *e != NULL; e++)
		if (strncmp(*e, OVERRIDE_PREFIX,
		    sizeof(OVERRIDE_PREFIX) - 1) == 0)
			return 1;
	return 0;
}

static long
fcgi_read(void *ctx, char *buf, size_t len)
{
	int n;

	if (len > 1 << 20)
		len = 1 << 20;
	n = FCGX_GetStr(buf, (int)len, ((FCGX_Request *)ctx)->in);
	if (n == 0 && FCGX_GetError(((FCGX_Request *)ctx)->in) != 0)
		return -1;
	return n;
}

/*
 * The reply, the end of stdout and FCGI_END_REQUEST in one write: the
 * request's streams are closed here, stderr first (nothing was written
 * to it, so it sends nothing), then stdout, the last writer, whose close
 * sends the lot.  Whether that write failed is known before the log
 * line, which says so; fcgi_finish finds the streams closed, and their
 * errors in FCGX_GetError.
 */
static int
fcgi_reply(void *ctx, const char *buf, size_t len)
{
	FCGX_Request *r = ctx;
	int rc = 0;

	if (FCGX_PutStr(buf, (int)len, r->out) != (int)len)
		rc = -1;
	if (FCGX_FClose(r->err) != 0)
		rc = -1;
	if (FCGX_FClose(r->out) != 0)
		rc = -1;
	return rc;
}

/* Reply 500 to a request whose per-request configuration is invalid:
 * serving it with another spool or other secrets would be worse. */
static void
fcgi_config_error(struct server *srv, FCGX_Request *r, const char *badkey,
    const struct timespec *t0)
{
	struct eh_request req;
	struct eh_decision d;
	struct eh_outcome out;
	char wire[1024];
	size_t n;

	request_from(&req, fcgi_lookup, r);
	memset(&d, 0, sizeof(d));
	memset(&out, 0, sizeof(out));
	out.provider = "-";
	out.err = eh_decision_fail(&d, EH_ERR_CONFIG);
	out.sys_op = badkey != NULL ? badkey : "FastCGI param";
	n = format_reply(wire, sizeof(wire), &d.resp);
	if (n > 0)
		(void)fcgi_reply(r, wire, n);
	log_request(&srv->lg, &req, &d, &out, t0);
	eh_decision_free(&d);
}

static void
fcgi_request(struct server *srv, FCGX_Request *r, struct eh_spool *sp)
{
	struct eh_request req;
	struct eh_outcome out;
	struct eh_config local;
	const char *badkey = NULL;
	struct timespec t0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	/* nginx fastcgi_param / Apache SetEnv may override per request.
	 * ESIGNHOOK_THREADS, _SANDBOX, _ALLOW_ROOT, _LOG, _READ_TIMEOUT and
	 * _SPOOL_COMMIT are accepted here too (and checked: a bad value is
	 * the 500 below), but they only take effect at start-up: the
	 * threads, the sandbox, the root check, the log, the connection's
	 * timeouts (set when it is accepted, before its params are read)
	 * and the journal belong to the process, so a per-request value
	 * changes nothing.  A spool given per request is stored in file by
	 * file: the journal is the process's spool's. */
	if (!fcgi_may_override(r) || !eh_config_any(fcgi_lookup, r)) {
		request_from(&req, fcgi_lookup, r);
		serve_one(&out, &req, srv->cfg, sp, &srv->lg, fcgi_read, r, 0,
		    fcgi_reply, r, &t0);
		want_restart(srv, &out);
		return;
	}
	if (eh_config_copy(&local, srv->cfg) != EH_OK ||
	    eh_config_apply(&local, fcgi_lookup, r, &badkey) != EH_OK ||
	    eh_config_check(&local, &badkey) != EH_OK) {
		fcgi_config_error(srv, r, badkey, &t0);
		eh_config_free(&local);
		return;
	}
	request_from(&req, fcgi_lookup, r);
	serve_one(&out, &req, &local, sp, &srv->lg, fcgi_read, r, 0, fcgi_reply,
	    r, &t0);
	/* Only the process's own spool is the sandbox's; not an override. */
	if (local.spool != NULL && srv->cfg->spool != NULL &&
	    strcmp(local.spool, srv->cfg->spool) == 0)
		want_restart(srv, &out);
	eh_config_free(&local);
}

/*
 * The connection of a request: every read and write of it waits at
 * most the read timeout (SO_RCVTIMEO, SO_SNDTIMEO), so one client
 * that stops sending or reading holds its thread that long, then the
 * read fails and the request with it.  An accepted UNIX socket does
 * not inherit them from the listening one (a TCP one would), and on
 * the listening socket they would bound accept() too: set here.
 * Returns 0, or -1 when the connection is to be closed unserved.
 */
static int
conn_setup(const struct server *srv, int fd, const struct sockaddr_storage *ss)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;
	struct timeval tv;
	size_t i;
	int one = 1;

	tv.tv_sec = (time_t)(srv->cfg->read_timeout_ms / 1000);
	tv.tv_usec = (suseconds_t)(srv->cfg->read_timeout_ms % 1000) * 1000;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) != 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) != 0)
		return -1;
	if (ss->ss_family != AF_INET)
		return 0;
	/* What libfcgi's own accept does for TCP: no Nagle delay on the
	 * reply, and FCGI_WEB_SERVER_ADDRS honoured. */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (srv->nweb == 0)
		return 0;
	for (i = 0; i < srv->nweb; i++)
		if (srv->web[i].s_addr == sin->sin_addr.s_addr)
			return 0;
	return -1;
}

/*
 * Wait for the next connection on the listening socket (fd 0), with
 * the stop signal (SIGUSR1) let in.  libfcgi is never given the
 * listening socket: its accept would read the request's params before
 * returning, unbounded, and it accepted under our lock, so one client
 * that sent four bytes stopped every thread.  Concurrent accept() on
 * one socket is safe on Linux (libfcgi 2.4 takes no lock there
 * either).  Returns the connection, or -1 when stopping; with a
 * connection, the thread's mask is params_mask (the stop blocked again,
 * the deadline's SIGALRM let in for read_params: one call for both).
 */
static int
accept_one(struct server *srv, const sigset_t *usr1,
    const sigset_t *params_mask)
{
	struct sockaddr_storage ss;
	struct pollfd pfd;
	socklen_t len;
	int fd = -1, e;

	pthread_sigmask(SIG_UNBLOCK, usr1, NULL);
	while (!atomic_load(&srv->stopping)) {
		len = sizeof(ss);
		fd = accept4(LISTEN_FD, (struct sockaddr *)&ss,
		    &len, SOCK_CLOEXEC);
		if (fd >= 0) {
			if (conn_setup(srv, fd, &ss) == 0)
				break;
			close(fd);
			fd = -1;
			continue;
		}
		e = errno;
		/* Gone before it was accepted, or the stop: again. */
		if (e == EINTR || e == ECONNABORTED || e == EPROTO ||
		    e == ECONNRESET || e == ETIMEDOUT || e == EHOSTUNREACH ||
		    e == ENETUNREACH)
			continue;
		/* A non-blocking listening socket (systemd NonBlocking=). */
		if (e == EAGAIN || e == EWOULDBLOCK) {
			pfd.fd = LISTEN_FD;
			pfd.events = POLLIN;
			(void)poll(&pfd, 1, -1);
			continue;
		}
		/* EMFILE, ENOBUFS...: a thread that quietly ended here would
		 * leave a process that accepts nothing. */
		eh_log_msg(&srv->lg, LOG_ERR, "accept failed (%s); retrying "
		    "in 1 s", eh_errno_str(e));
		sleep(1);
	}
	if (fd >= 0)
		pthread_sigmask(SIG_SETMASK, params_mask, NULL);
	else
		pthread_sigmask(SIG_BLOCK, usr1, NULL);
	return fd;
}

/*
 * A thread's deadline for the params of a request: libfcgi reads them
 * inside FCGX_Accept_r, a read at a time, and a client sending a byte
 * just under the read timeout apart would never reach the per-read
 * bound.  The thread's own timer sends it SIGALRM (no SA_RESTART) at
 * the deadline and every 50 ms after, so libfcgi's read fails with
 * EINTR (it does not retry) and it closes the connection.
 */
#ifndef sigev_notify_thread_id
#define sigev_notify_thread_id _sigev_un._tid
#endif
#define DEADLINE_REPEAT_NS (50 * 1000000L)

static int
deadline_init(timer_t *tm)
{
	struct sigevent sev;

	memset(&sev, 0, sizeof(sev));
	sev.sigev_notify = SIGEV_THREAD_ID;
	sev.sigev_signo = SIGALRM;
	sev.sigev_notify_thread_id = gettid();
	return timer_create(CLOCK_MONOTONIC, &sev, tm);
}

static void
deadline_set(timer_t tm, int64_t ms)
{
	struct itimerspec its;

	memset(&its, 0, sizeof(its));
	if (ms > 0) {
		its.it_value.tv_sec = (time_t)(ms / 1000);
		its.it_value.tv_nsec = (long)(ms % 1000) * 1000000L;
		its.it_interval.tv_nsec = DEADLINE_REPEAT_NS;
	}
	(void)timer_settime(tm, 0, &its, NULL);
}

/* Read a request's params, under the deadline: 0, or below 0 when
 * the connection was closed unserved.  SIGALRM is let in here, unless
 * accept_one did (alrm_open): its timer is disarmed until the
 * deadline_set below, so nothing can interrupt before it. */
static int
read_params(struct server *srv, FCGX_Request *r, timer_t *tm,
    const sigset_t *alrm, int alrm_open)
{
	int rc;

	if (tm != NULL)
		deadline_set(*tm, srv->cfg->read_timeout_ms);
	if (!alrm_open)
		pthread_sigmask(SIG_UNBLOCK, alrm, NULL);
	rc = FCGX_Accept_r(r);
	pthread_sigmask(SIG_BLOCK, alrm, NULL);
	if (tm != NULL)
		deadline_set(*tm, 0);
	/* libfcgi takes a read that failed between two params (the
	 * deadline, a timeout, a client gone) for their end: a request
	 * with some of its params, per-request configuration among them,
	 * is not to be served. */
	if (rc == 0 && FCGX_GetError(r->in) != 0) {
		FCGX_Free(r, 1);
		rc = -1;
	}
	return rc;
}

/*
 * End a request: flush its reply and, unless the web server keeps the
 * connection (FCGI_KEEP_CONN), half-close it and read what the client
 * still sends (the rest of a body refused unread) until it closes, so
 * that it gets its reply rather than a reset: for at most the read
 * timeout, a quiet LINGER_QUIET_MS or LINGER_MAX bytes.  libfcgi's own
 * close does the same for as long as a byte comes every 2 s, so a
 * trickling sender would hold the thread for ever: the request is
 * detached (accept_one's caller), and libfcgi only closes.  As
 * FCGX_Finish_r decides, a stream error closes the connection too.
 */
#define LINGER_QUIET_MS 2000
#define LINGER_MAX (1024 * 1024)

static void
fcgi_finish(const struct server *srv, FCGX_Request *r)
{
	struct timespec t0;
	struct pollfd pfd;
	char buf[4096];
	size_t total = 0;
	int64_t left;
	ssize_t n;
	int closing;

	/* Closed by fcgi_reply already, or now; an error either time. */
	closing = FCGX_FClose(r->err) != 0 || FCGX_GetError(r->err) != 0;
	closing |= FCGX_FClose(r->out) != 0 || FCGX_GetError(r->out) != 0;
	closing |= r->in == NULL || FCGX_GetError(r->in) != 0;
	closing |= !r->keepConnection;
	if (closing && r->ipcFd >= 0 && shutdown(r->ipcFd, SHUT_WR) == 0) {
		clock_gettime(CLOCK_MONOTONIC, &t0);
		while (total < LINGER_MAX) {
			left = srv->cfg->read_timeout_ms - elapsed_us(&t0) / 1000;
			if (left <= 0)
				break;
			pfd.fd = r->ipcFd;
			pfd.events = POLLIN;
			if (poll(&pfd, 1, left < LINGER_QUIET_MS ? (int)left :
			    LINGER_QUIET_MS) <= 0)
				break;
			n = read(r->ipcFd, buf, sizeof(buf));
			if (n <= 0)
				break;
			total += (size_t)n;
		}
	}
	FCGX_Finish_r(r);
}

/*
 * A worker thread: accept, read the params under their deadline, serve,
 * finish; the stop (SIGUSR1) is let in only while it waits for a
 * connection, so a request begun is a request finished.
 */
static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	struct server *srv = w->srv;
	struct eh_spool sp;
	FCGX_Request r;
	sigset_t usr1, alrm, params_mask;
	timer_t timer, *tm = &timer;
	int fd, accepted;

	eh_spool_init(&sp);
	sp.journal = srv->journal;
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	sigemptyset(&alrm);
	sigaddset(&alrm, SIGALRM);
	pthread_sigmask(SIG_BLOCK, &usr1, NULL);
	pthread_sigmask(SIG_BLOCK, &alrm, &params_mask);
	/* Reading params: as now, USR1 blocked, ALRM let in. */
	sigaddset(&params_mask, SIGUSR1);
	sigdelset(&params_mask, SIGALRM);
	/* -1: libfcgi never accepts by itself (accept_one). */
	if (FCGX_InitRequest(&r, -1, 0) != 0)
		goto out;
	if (deadline_init(tm) != 0) {
		eh_log_msg(&srv->lg, LOG_WARNING, "timer_create failed (%s): "
		    "a request's params are bounded per read only",
		    eh_errno_str(errno));
		tm = NULL;
	}
	for (;;) {
		accepted = 0;
		if (r.ipcFd < 0) {
			fd = accept_one(srv, &usr1, &params_mask);
			if (fd < 0)
				break;
			accepted = 1;
			r.ipcFd = fd;
			/* FCGX_Accept_r first ends "the current request": a
			 * kept connection is not closed, so neither is this;
			 * and libfcgi's unbounded close is not wanted. */
			r.keepConnection = 1;
			(void)FCGX_Detach(&r);
		} else if (atomic_load(&srv->stopping))
			break;
		/* Below 0: libfcgi closed the connection (a timeout, a
		 * protocol error, a kept connection the server closed). */
		if (read_params(srv, &r, tm, &alrm, accepted) < 0)
			continue;
		fcgi_request(srv, &r, &sp);
		fcgi_finish(srv, &r);
	}
	FCGX_Free(&r, 1);
	if (tm != NULL)
		timer_delete(*tm);
out:
	eh_spool_close(&sp);
	atomic_store(&w->done, 1);
	return NULL;
}

/* How often the keeper looks, and how old a segment may grow. */
#define KEEPER_TICK_MS 250
#define SEGMENT_AGE_MS 1000
/* A failure the keeper keeps meeting is logged once a minute. */
#define KEEPER_LOG_EVERY_S 60

/*
 * A journal step's line: a failure always; a success when it wrote
 * something again or dropped a tail, or (every) when it removed
 * segments of a dead writer (recovery).
 */
static void
journal_log(const struct eh_log *lg, const char *what, int recovery,
    enum eh_err err, const struct eh_journal_report *rep)
{
	char text[512];

	if (err == EH_OK && rep->rewritten == 0 && rep->torn == 0 &&
	    (!recovery || rep->segments == 0))
		return;
	eh_journal_describe(text, sizeof(text), err, rep);
	eh_log_msg(lg, err != EH_OK ? LOG_ERR : LOG_INFO, "%s: %s", what,
	    text);
}

/*
 * Whether a journal thread's failure is to be logged: the first after
 * a success, then once a minute while it lasts.  *last is when the last
 * one was (0: none since a success).
 */
static int
failure_news(struct timespec *last, int failed)
{
	struct timespec now;

	if (!failed) {
		last->tv_sec = 0;
		return 0;
	}
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (last->tv_sec != 0 && now.tv_sec - last->tv_sec < KEEPER_LOG_EVERY_S)
		return 0;
	*last = now;
	return 1;
}

/* The journal's threads take no signal: the main thread's. */
static void
block_signals(void)
{
	sigset_t all;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
}

/*
 * The journal's publisher: writes the new/ files of what the journal
 * acknowledged, in order (eh_journal_publish).  A file it cannot write
 * is the keeper's to replay; logged once a minute at most.
 */
#define PUBLISH_WAIT_MS 100

static void *
publisher_main(void *arg)
{
	struct server *srv = arg;
	struct eh_journal_report rep;
	struct timespec logged = { 0, 0 };
	enum eh_err err;

	block_signals();
	while (!atomic_load(&srv->publisher_stop)) {
		err = eh_journal_publish(srv->journal, PUBLISH_WAIT_MS, &rep);
		if (failure_news(&logged, err != EH_OK))
			eh_log_msg(&srv->lg, LOG_ERR, "journal: a new/ file "
			    "cannot be written (%s: %s); the event is safe in "
			    "the journal, and written again before its "
			    "segment goes", rep.sys_op != NULL ? rep.sys_op :
			    "?", eh_errno_str(rep.sys_errno));
	}
	return NULL;
}

/*
 * The journal's keeper: seals a segment a second old, and removes what
 * a syncfs made durable in new/ (eh_journal_tick).  A failure leaves
 * the segments where they are, so it is only logged.
 */
static void *
keeper_main(void *arg)
{
	struct server *srv = arg;
	const struct timespec pause = { 0, KEEPER_TICK_MS * 1000000L };
	struct eh_journal_report rep;
	struct timespec logged = { 0, 0 };
	enum eh_err err;

	block_signals();
	while (!atomic_load(&srv->keeper_stop)) {
		err = eh_journal_tick(srv->journal, SEGMENT_AGE_MS, &rep);
		/* A success is logged when it did something worth saying. */
		if (failure_news(&logged, err != EH_OK) || err == EH_OK)
			journal_log(&srv->lg, "journal", 0, err, &rep);
		(void)nanosleep(&pause, NULL);
	}
	return NULL;
}

/*
 * Each thread holds its spool's four directories, a connection, a tmp
 * file and a directory scan: raise the soft descriptor limit to the
 * hard one, and refuse to start short of what the threads need.
 */
#define FDS_PER_THREAD 8
#define FDS_SPARE 32

static int
fd_budget(unsigned threads, const struct eh_log *lg)
{
	struct rlimit rl;
	rlim_t need = (rlim_t)threads * FDS_PER_THREAD + FDS_SPARE;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return 0;
	if (rl.rlim_cur < need && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < need) {
		eh_log_msg(lg, LOG_ERR, "ESIGNHOOK_THREADS=%u needs about %lu "
		    "file descriptors; the limit is %lu (raise it, e.g. "
		    "LimitNOFILE=, or use fewer threads)", threads,
		    (unsigned long)need, (unsigned long)rl.rlim_cur);
		return -1;
	}
	return 0;
}

static void
wake(int sig)
{
	(void)sig;
}

/*
 * FCGI_WEB_SERVER_ADDRS: the IPv4 addresses a TCP connection may come
 * from, comma-separated; unset or empty, any.  libfcgi's variable,
 * checked in the accept it no longer does (accept_one).  0, or -1 for
 * a list that cannot be read: better not started than open to all.
 */
static int
web_servers(struct server *srv, const char *list)
{
	char one[INET_ADDRSTRLEN];
	const char *p, *comma;
	size_t n;

	srv->nweb = 0;
	for (p = list; p != NULL && *p != '\0'; p = comma + 1) {
		comma = strchr(p, ',');
		if (comma == NULL)
			comma = p + strlen(p);
		n = (size_t)(comma - p);
		if (n > 0) {
			if (n >= sizeof(one) || srv->nweb == WEB_SERVERS_MAX)
				return -1;
			memcpy(one, p, n);
			one[n] = '\0';
			if (inet_pton(AF_INET, one, &srv->web[srv->nweb]) != 1)
				return -1;
			srv->nweb++;
		}
		if (*comma == '\0')
			break;
	}
	return 0;
}

static int
run_fcgi(const struct eh_config *cfg, const struct eh_log *lg)
{
	struct server srv;
	struct worker *w;
	struct eh_spool sp;
	struct eh_journal_report rep;
	struct sigaction sa;
	sigset_t set, old;
	pthread_t keeper, publisher;
	unsigned i, alive;
	char note[256];
	enum eh_err err;
	int sig, rc, spool_ok, landlocked = 0, keeping = 0, publishing = 0;
	int want_publisher = 0;

	memset(&srv, 0, sizeof(srv));
	srv.cfg = cfg;
	srv.lg = *lg;
	eh_spool_init(&sp);
	if (fd_budget(cfg->threads, lg) != 0)
		return 1;
	if (web_servers(&srv, getenv("FCGI_WEB_SERVER_ADDRS")) != 0) {
		eh_log_msg(lg, LOG_ERR, "FCGI_WEB_SERVER_ADDRS: not a list of "
		    "at most %d IPv4 addresses", WEB_SERVERS_MAX);
		return 1;
	}
	if (FCGX_Init() != 0) {
		eh_log_msg(lg, LOG_ERR, "FCGX_Init failed");
		return 1;
	}
	/* Old tmp/ files are deliveries that died before their rename. */
	spool_ok = cfg->spool != NULL && eh_spool_open(&sp, cfg->spool) ==
	    EH_OK;
	if (spool_ok) {
		unsigned long n = eh_spool_clean_tmp(&sp,
		    EH_SPOOL_STALE_SECONDS);
		if (n > 0)
			eh_log_msg(lg, LOG_INFO, "removed %lu stale tmp/ files",
			    n);
		/* Whatever this process's own mode: a group-mode worker that
		 * died left segments, and this spool may have had one. */
		err = eh_journal_recover(&sp, &rep);
		journal_log(lg, "journal recovery", 1, err, &rep);
		if (cfg->commit == EH_COMMIT_GROUP) {
			err = eh_journal_open(&srv.journal, &sp);
			if (err != EH_OK)
				eh_log_msg(lg, LOG_ERR, "journal in %s/journal "
				    "cannot be opened (%s: %s): storing file "
				    "by file (ESIGNHOOK_SPOOL_COMMIT=file)",
				    cfg->spool, sp.sys_op ? sp.sys_op : "?",
				    eh_errno_str(sp.sys_errno));
			else if (eh_journal_set_publisher(srv.journal) ==
			    EH_OK)
				want_publisher = 1;
			else
				eh_log_msg(lg, LOG_WARNING, "journal: no "
				    "publisher (the spool cannot be opened "
				    "again): each thread writes its new/ "
				    "files");
		}
	} else
		eh_log_msg(lg, LOG_ERR, "spool %s cannot be opened: every "
		    "event will get 503%s", cfg->spool ? cfg->spool : "(unset)",
		    cfg->sandbox ? " until a restart (sandbox)" : "");
	/* Before the threads: Landlock binds this thread and its children.
	 * The rule names the inode just opened, not whatever the path is
	 * by now. */
	if (cfg->sandbox) {
		rc = eh_sandbox_enter(spool_ok ? sp.dirfd : -1, EH_SANDBOX_FCGI,
		    &landlocked, note, sizeof(note));
		eh_log_msg(lg, rc < 0 ? LOG_ERR : LOG_INFO, "%s", note);
		if (rc < 0) {
			eh_spool_close(&sp);
			(void)eh_journal_close(srv.journal, &rep);
			return 1;
		}
		srv.sandboxed_spool = spool_ok && landlocked;
	} else
		eh_log_msg(lg, LOG_INFO, "sandbox off (ESIGNHOOK_SANDBOX=off)");
	eh_spool_close(&sp);
	/* Workers take SIGUSR1 (no SA_RESTART) to leave a blocked accept,
	 * and SIGALRM from their own timers to leave a read of params past
	 * the deadline; SIGTERM and SIGINT are taken by this thread alone. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = wake;
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGALRM, &sa, NULL);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, &old);

	/* The journal's threads before the workers that need them. */
	if (srv.journal != NULL) {
		if (pthread_create(&keeper, NULL, keeper_main, &srv) != 0) {
			eh_log_msg(lg, LOG_ERR, "pthread_create failed");
			return 1;
		}
		keeping = 1;
	}
	if (want_publisher) {
		if (pthread_create(&publisher, NULL, publisher_main, &srv) !=
		    0) {
			eh_log_msg(lg, LOG_ERR, "pthread_create failed");
			return 1;
		}
		publishing = 1;
	}
	w = calloc(cfg->threads, sizeof(*w));
	if (w == NULL)
		return 1;
	for (i = 0; i < cfg->threads; i++) {
		w[i].srv = &srv;
		if (pthread_create(&w[i].tid, NULL, worker_main, &w[i]) != 0) {
			eh_log_msg(lg, LOG_ERR, "pthread_create failed");
			return 1;
		}
	}
	eh_log_msg(lg, LOG_INFO, "FastCGI ready: %u threads, pid %ld, "
	    "commit %s", cfg->threads, (long)getpid(),
	    srv.journal != NULL ? "group" : "file");
	if (sigwait(&set, &sig) != 0)
		sig = SIGTERM;
	/* Finish requests in progress (a thread reading a request's params
	 * finishes it too, within the read timeout), accept no more. */
	atomic_store(&srv.stopping, 1);
	for (;;) {
		for (i = alive = 0; i < cfg->threads; i++)
			if (!atomic_load(&w[i].done)) {
				alive++;
				pthread_kill(w[i].tid, SIGUSR1);
			}
		if (alive == 0)
			break;
		usleep(20000);
	}
	for (i = 0; i < cfg->threads; i++)
		pthread_join(w[i].tid, NULL);
	free(w);
	/* Every request is answered; what the publisher has not written,
	 * eh_journal_close writes. */
	if (publishing) {
		atomic_store(&srv.publisher_stop, 1);
		pthread_join(publisher, NULL);
	}
	if (keeping) {
		atomic_store(&srv.keeper_stop, 1);
		pthread_join(keeper, NULL);
	}
	if (srv.journal != NULL) {
		err = eh_journal_close(srv.journal, &rep);
		journal_log(lg, "journal at stop", 0, err, &rep);
	}
	if (atomic_load(&srv.restart)) {
		eh_log_msg(lg, LOG_INFO, "stopped for a restart (exit %d)",
		    EXIT_RESTART);
		return EXIT_RESTART;
	}
	eh_log_msg(lg, LOG_INFO, "stopped on signal %d", sig);
	return 0;
}

/* ---- check-config ---- */

static int
check_config(const struct eh_config *cfg)
{
	struct eh_spool sp;
	struct stat st;
	unsigned long n;
	enum eh_err err;
	int bad = 0;

	printf("config: ESIGNHOOK_CONFIG=%s\n", getenv("ESIGNHOOK_CONFIG") ?
	    getenv("ESIGNHOOK_CONFIG") : "(none)");
	printf("onespan: %zu key(s)%s\n", cfg->onespan.n, cfg->onespan.n ||
	    cfg->oauth.client_id != NULL ? "" :
	    " - OneSpan callbacks will be refused (401)");
	/* The client id is no secret (it is typed into OneSpan next to
	 * the URL); the secrets are only counted. */
	if (cfg->oauth.client_id != NULL)
		printf("oauth: client %s, %zu secret(s), token lifetime %lld s "
		    "(token endpoint: <location>/oauth/token)\n",
		    cfg->oauth.client_id, cfg->oauth.secrets.n,
		    (long long)cfg->oauth.ttl_s);
	else
		printf("oauth: no client - token requests will be refused "
		    "(401), Bearer callbacks too\n");
	printf("alphatrust: %zu token(s)%s\n", cfg->alphatrust.n,
	    cfg->alphatrust.n ? "" :
	    " - AlphaTrust callbacks will be refused (401)");
	printf("provider: %s\n", eh_provider_name(cfg->provider));
	if (geteuid() == 0 && !cfg->allow_root)
		printf("warning: running as root: the receiver refuses to "
		    "serve as root unless ESIGNHOOK_ALLOW_ROOT=1\n");
	printf("sandbox: %s\n", cfg->sandbox ? "on" : "off");
	printf("commit: %s\n", cfg->commit == EH_COMMIT_GROUP ?
	    "group (FastCGI: one journal fdatasync for many events; CGI "
	    "stores file by file)" : "file (an fsync per event)");
	printf("max body: %zu bytes\n", cfg->max_body);
	if (cfg->onespan.n == 0 && cfg->alphatrust.n == 0 &&
	    cfg->oauth.client_id == NULL) {
		printf("error: no secret configured: set "
		    "ESIGNHOOK_ONESPAN_KEYS, ESIGNHOOK_ALPHATRUST_TOKENS or "
		    "ESIGNHOOK_OAUTH_CLIENT_ID and _SECRETS\n");
		bad = 1;
	}
	if (cfg->spool == NULL) {
		printf("error: ESIGNHOOK_SPOOL is not set\n");
		return 1;
	}
	err = eh_spool_open(&sp, cfg->spool);
	if (err != EH_OK) {
		printf("error: spool %s: %s (%s: %s)\n", cfg->spool,
		    eh_strerror(err), sp.sys_op ? sp.sys_op : "?",
		    eh_errno_str(sp.sys_errno));
		return 1;
	}
	if (fstat(sp.dirfd, &st) == 0) {
		if (st.st_uid != geteuid()) {
			printf("error: spool %s is owned by uid %ld, not by "
			    "this user (uid %ld)\n", cfg->spool,
			    (long)st.st_uid, (long)geteuid());
			bad = 1;
		}
		if (st.st_mode & 077) {
			printf("warning: spool %s is mode %04o; 0700 keeps "
			    "events private\n", cfg->spool,
			    (unsigned)(st.st_mode & 07777));
		}
	}
	err = eh_spool_probe(&sp);
	if (err != EH_OK) {
		printf("error: spool %s: cannot write a file in tmp/ (%s): "
		    "%s\n", cfg->spool, sp.sys_op != NULL ? sp.sys_op : "?",
		    eh_errno_str(sp.sys_errno));
		bad = 1;
	}
	err = eh_spool_admit(&sp, cfg);
	if (err != EH_OK) {
		printf("error: spool %s: %s\n", cfg->spool, eh_strerror(err));
		bad = 1;
	}
	if (eh_spool_count(&sp, &n) == EH_OK)
		printf("spool: %s, %lu event(s) waiting in new/\n",
		    cfg->spool, n);
	eh_spool_close(&sp);
	printf("%s\n", bad ? "check-config: FAILED" : "check-config: ok");
	return bad;
}

/* ---- start ---- */

int
main(int argc, char *argv[])
{
	struct eh_config cfg;
	struct eh_log lg;
	struct rlimit core;
	char msg[512];
	int rc, cgi, fd;

	/* Requests pass secrets (an Authorization header, a URL token)
	 * through libfcgi's and libc's buffers, freed but not wiped: no
	 * core file, and no ptrace or /proc/<pid>/mem for this user (a
	 * non-dumpable process's /proc files belong to root).  The unit
	 * sets LimitCORE=0 too. */
	(void)prctl(PR_SET_DUMPABLE, 0);
	core.rlim_cur = core.rlim_max = 0;
	(void)setrlimit(RLIMIT_CORE, &core);
	if (argc > 1) {
		if (strcmp(argv[1], "--help") == 0 ||
		    strcmp(argv[1], "-h") == 0) {
			fputs(usage_text, stdout);
			return 0;
		}
		if (strcmp(argv[1], "--version") == 0 ||
		    strcmp(argv[1], "-V") == 0) {
			printf("esignhook %s\n", EH_VERSION);
			return 0;
		}
		if (strcmp(argv[1], "check-config") != 0 || argc > 2) {
			fprintf(stderr, "esignhook: unknown argument '%s'\n%s",
			    argv[1], usage_text);
			return 64;
		}
	}
	/* A closed 0-2 would be reused by a spool file, and a log line or
	 * a reply would land in it (slowcgi's start-up rule). */
	for (fd = 0; fd <= 2; fd++)
		if (fcntl(fd, F_GETFD) < 0 &&
		    open("/dev/null", O_RDWR | O_CLOEXEC) != fd)
			return 1;
	umask(077);
	signal(SIGPIPE, SIG_IGN);
	/* jansson seeds its hash from /dev/urandom on first use: now,
	 * while the sandbox still lets it. */
	json_object_seed(0);
	if (sodium_init() < 0) {
		fprintf(stderr, "esignhook: libsodium failed to start\n");
		return 1;
	}
	if (load_config(&cfg, msg, sizeof(msg)) != 0) {
		eh_config_free(&cfg);
		fprintf(stderr, "esignhook: %s\n", msg);
		if (argc == 1 && getenv("GATEWAY_INTERFACE") != NULL)
			cgi_fail("invalid configuration");
		return argc > 1 ? 1 : 78;
	}
	if (argc > 1) {
		rc = check_config(&cfg);
		eh_config_free(&cfg);
		return rc;
	}
	eh_log_init(&lg, PROG, cfg.log);

	/* libfcgi's own test (FCGX_IsCGI: fd 0 is a listening socket, its
	 * getpeername says ENOTCONN), made here when GATEWAY_INTERFACE
	 * says CGI, so that a CGI does not pay FCGX_Init's start-up. */
	cgi = getenv("GATEWAY_INTERFACE") != NULL && !listening_fd0() ?
	    1 : FCGX_IsCGI();
	if (cgi && getenv("GATEWAY_INTERFACE") == NULL) {
		fprintf(stderr, "esignhook: not started by a web server: "
		    "fd 0 is not a FastCGI socket and GATEWAY_INTERFACE is "
		    "unset (try --help, or check-config)\n");
		eh_config_free(&cfg);
		return 64;
	}
	/* A parser bug as root is a root compromise: say no unless told. */
	if (geteuid() == 0 && !cfg.allow_root) {
		eh_log_msg(&lg, LOG_ERR, "refusing to serve as root: run as a "
		    "user of its own (systemd User=, spawn-fcgi -u, Apache's "
		    "User), or set ESIGNHOOK_ALLOW_ROOT=1");
		if (getenv("GATEWAY_INTERFACE") != NULL)
			cgi_fail("refusing to run as root");
		eh_config_free(&cfg);
		return EXIT_NOPERM;
	}
	rc = cgi ? run_cgi(&cfg, &lg) : run_fcgi(&cfg, &lg);
	eh_config_free(&cfg);
	return rc;
}
