/*
 * esignhookctl: the operator tool.  Turns the receiver's spool into a
 * work queue (drain), looks at it (list, show, stats), repairs it
 * (retry, purge, inject) and registers the callback with OneSpan.
 * One command table; each command parses its own arguments and calls
 * lib/.  This file, cgi/ctl-view.c and cgi/ctl-nats.c are the only ones
 * that print; it is the only one that initialises libcurl.
 */
#include <sys/inotify.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>
#include <sodium.h>

#include "ctl.h"

#define PROG "esignhookctl"

static const char usage_text[] =
"usage: esignhookctl [-c FILE] COMMAND [ARGS]\n"
"\n"
"Processes the events the esignhook receiver spools, and looks after the\n"
"spool.  Configuration: -c FILE or $ESIGNHOOK_CONFIG (KEY=value lines, the\n"
"receiver's file), then the environment.\n"
"\n"
"Commands:\n"
"  drain [--once | --follow]   run the configured actions on every event due\n"
"  list [FOLDER...] [--json]   events waiting, in progress, to retry, failed\n"
"  show ID [--json]            one event: its record and its state\n"
"  stats [--json | --prometheus [--output FILE]]\n"
"                              events per folder, oldest waiting, free space\n"
"  retry ID... | --all         failed (or retry) events back to new/\n"
"  purge done|failed --older-than DUR | purge ID...\n"
"                              delete processed events\n"
"  inject onespan|alphatrust [FILE]\n"
"                              spool an event given by hand (stdin without FILE)\n"
"  register --url URL [--events E,E,...] | register --show\n"
"                              register the callback with OneSpan Sign\n"
"  nats-setup [--replicas N] [--duplicate-window DUR]\n"
"                              create (or check) the JetStream stream\n"
"  consume --exec CMD [--durable NAME] [--subject S] [--once]\n"
"                              run CMD for each event of the stream\n"
"\n"
"  esignhookctl COMMAND --help   that command's usage\n"
"  --version                     the version\n"
"\n"
"Exit status: 0 ok; 1 an event failed or an error; 64 usage; 75 the spool\n"
"is unusable; 78 the configuration is invalid.  See esignhookctl(8).\n";

static const char usage_drain[] =
"usage: esignhookctl drain [--once | --follow]\n"
"\n"
"Runs the configured actions (download, exec, forward, publish) on every\n"
"event due: orphans of a dead drainer in cur/, new/ oldest first, then\n"
"retry/ whose next attempt has come.  Each event ends in done/, retry/ or\n"
"failed/.\n"
"Also prunes done/ (ESIGNHOOK_KEEP_DONE), seen/ (ESIGNHOOK_SEEN_KEEP) and\n"
"stale tmp/ files.\n"
"\n"
"  --once     one pass, then exit (the default; for cron or a timer)\n"
"  --follow   keep running: events arriving in new/ start within a second,\n"
"             retries when due; SIGTERM, SIGINT or SIGHUP finish the event\n"
"             in progress and exit 0\n"
"\n"
"One logfmt line per event on stderr, a summary on stdout.  Exit 0, or 1\n"
"when an event went to failed/ in this run; 75 when the spool is unusable.\n";

static const char usage_inject[] =
"usage: esignhookctl inject onespan|alphatrust [FILE]\n"
"\n"
"Spools one event given by hand, through the receiver's own parser: the\n"
"JSON body of a OneSpan callback (OneSpan e-mails it to the sender when a\n"
"callback fails, and does not redeliver it), or an AlphaTrust urlencoded\n"
"form.  Reads FILE, or standard input.  A OneSpan event already received\n"
"is reported and not spooled twice.\n";

static const char usage_register[] =
"usage: esignhookctl register --url URL [--events E,E,...]\n"
"       esignhookctl register --show\n"
"\n"
"Registers URL as the account's OneSpan Sign callback, with the first key of\n"
"ESIGNHOOK_ONESPAN_KEYS (so the receiver accepts it before OneSpan uses it)\n"
"and the events given (default: every OneSpan event the receiver knows).\n"
"Needs ESIGNHOOK_ONESPAN_API_KEY (or _CLIENT_ID and _CLIENT_SECRET) and\n"
"ESIGNHOOK_ONESPAN_API.  --show prints the current registration.  The key is\n"
"masked in what is printed.\n";

/* ---- shared by the commands ---- */

int
ctl_usage(const char *usage, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", PROG);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fputs(usage, stderr);
	return CTL_EXIT_USAGE;
}

int
ctl_wants_help(int argc, char *argv[])
{
	int i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			break;
		if (strcmp(argv[i], "-h") == 0 ||
		    strcmp(argv[i], "--help") == 0)
			return 1;
	}
	return 0;
}

int
ctl_open_queue(struct ctl *ctl, struct eh_queue *q)
{
	if (ctl->rcfg.spool == NULL) {
		fprintf(stderr, "%s: ESIGNHOOK_SPOOL is not set (in %s or the "
		    "environment)\n", PROG, ctl->config_path != NULL ?
		    ctl->config_path : "no configuration file");
		return CTL_EXIT_CONFIG;
	}
	if (eh_queue_open(q, ctl->rcfg.spool) != EH_OK) {
		fprintf(stderr, "%s: spool %s: %s: %s\n", PROG,
		    ctl->rcfg.spool, q->sys_op != NULL ? q->sys_op : "open",
		    eh_errno_str(q->sys_errno));
		return CTL_EXIT_TEMPFAIL;
	}
	return 0;
}

/* ---- drain ---- */

struct drainer {
	struct ctl *ctl;
	int sigfd;                      /* SIGTERM/SIGINT, read between events */
	int stopping;
	int tty;                        /* progress line on stderr */
	int progress_shown;
};

static void
clear_progress(struct drainer *dr)
{
	if (dr->progress_shown) {
		fputs("\r\033[K", stderr);
		dr->progress_shown = 0;
	}
}

static void
report(void *ctx, const struct eh_drain_report *r)
{
	struct drainer *dr = ctx;
	char line[EH_LOG_LINE_MAX], num[32], ts[32];
	size_t len = 0;
	int prio;

	prio = r->folder == EH_F_DONE ? LOG_INFO : r->folder == EH_F_RETRY ?
	    LOG_WARNING : LOG_ERR;
	line[0] = '\0';
	eh_rfc3339(ts, sizeof(ts), eh_now_ms());
	eh_logfmt(line, sizeof(line), &len, "ts", ts);
	eh_logfmt(line, sizeof(line), &len, "prog", PROG);
	eh_logfmt(line, sizeof(line), &len, "level", eh_log_level(prio));
	eh_logfmt(line, sizeof(line), &len, "id", r->id);
	eh_logfmt(line, sizeof(line), &len, "event", r->event);
	eh_logfmt(line, sizeof(line), &len, "action", r->action);
	eh_logfmt(line, sizeof(line), &len, "result",
	    r->folder == EH_F_CUR ? "stuck" : eh_folder_name(r->folder));
	snprintf(num, sizeof(num), "%u", r->attempt);
	eh_logfmt(line, sizeof(line), &len, "attempt", num);
	snprintf(num, sizeof(num), "%ld", r->ms);
	eh_logfmt(line, sizeof(line), &len, "ms", num);
	if (r->error != NULL)
		eh_logfmt(line, sizeof(line), &len, "error", r->error);
	clear_progress(dr);
	eh_log_emit(&dr->ctl->lg, prio, line);
	if (dr->tty && r->total > 1) {
		fprintf(stderr, "drain: %zu of %zu", r->index, r->total);
		dr->progress_shown = 1;
	}
}

/*
 * SIGTERM, SIGINT and SIGHUP blocked and readable on the descriptor
 * returned (-1, the mask restored, when signalfd fails: blocked with
 * no way to read them, they would never stop us).  A signal is then
 * read between events or messages, never cutting one short; threads
 * started afterwards (libnats's) inherit the mask.
 */
int
ctl_stop_signals(void)
{
	sigset_t set;
	int fd;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
	fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "%s: signalfd: %s\n", PROG, eh_errno_str(errno));
		sigprocmask(SIG_UNBLOCK, &set, NULL);
	}
	return fd;
}

int
ctl_stop_asked(int sigfd, int *stopping)
{
	struct signalfd_siginfo si;

	if (!*stopping && read(sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
		*stopping = 1;
	return *stopping;
}

static int
should_stop(void *ctx)
{
	struct drainer *dr = ctx;

	return ctl_stop_asked(dr->sigfd, &dr->stopping);
}

/* Environment entries exec may pass on: PATH, HOME, LANG, no more. */
void
ctl_base_env(char *env[4])
{
	static const char *const names[] = { "PATH", "HOME", "LANG" };
	const char *v;
	size_t i, n = 0, sz;

	for (i = 0; i < 3; i++) {
		v = getenv(names[i]);
		if (v == NULL)
			continue;
		sz = strlen(names[i]) + strlen(v) + 2;
		env[n] = malloc(sz);
		if (env[n] == NULL)
			continue;
		snprintf(env[n], sz, "%s=%s", names[i], v);
		n++;
	}
	env[n] = NULL;
}

/* Wait for an arrival in new/, the next retry, or a signal. */
static void
follow_wait(struct drainer *dr, int ino, int64_t next_due)
{
	struct pollfd pfd[2];
	char buf[4096];
	int64_t wait = 60 * 1000;   /* orphans of dead drainers, pruning */
	struct signalfd_siginfo si;

	if (next_due > 0) {
		int64_t until = next_due - eh_now_ms();

		if (until < wait)
			wait = until < 0 ? 0 : until;
	}
	pfd[0].fd = ino;
	pfd[0].events = POLLIN;
	pfd[1].fd = dr->sigfd;
	pfd[1].events = POLLIN;
	if (poll(pfd, 2, (int)wait) <= 0)
		return;
	if (pfd[1].revents & POLLIN &&
	    read(dr->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
		dr->stopping = 1;
	/* Any number of arrivals: one pass takes them all. */
	while (pfd[0].revents & POLLIN && read(ino, buf, sizeof(buf)) > 0)
		;
}

/*
 * Replay the journal segments of group-mode receivers that died (README,
 * "Group commit"): their events are due like any other.  Logged only
 * when it did something, or failed.
 */
static void
recover_journal(struct ctl *ctl)
{
	struct eh_journal_report rep;
	struct eh_spool sp;
	enum eh_err err;
	char text[512];

	if (eh_spool_open(&sp, ctl->rcfg.spool) != EH_OK)
		return;     /* the pass says why */
	err = eh_journal_recover(&sp, &rep);
	if (err != EH_OK || rep.segments > 0) {
		eh_journal_describe(text, sizeof(text), err, &rep);
		eh_log_msg(&ctl->lg, err != EH_OK ? LOG_ERR : LOG_INFO,
		    "journal recovery: %s", text);
	}
	eh_spool_close(&sp);
}

static int
cmd_drain(struct ctl *ctl, int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "once", no_argument, NULL, 'o' },
		{ "follow", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct eh_drain_totals t;
	struct eh_queue q;
	struct eh_drain d;
	struct drainer dr;
	struct eh_http *http = NULL;
	struct eh_onespan *onespan = NULL;
	struct eh_nats *nats = NULL;
	char *env[4] = { NULL, NULL, NULL, NULL };
	int64_t t0, next_due, last_prune = 0, last_recovery = 0;
	int c, follow = 0, rc, ino = -1, i;

	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			follow = 0;
			break;
		case 'f':
			follow = 1;
			break;
		case 'h':
			fputs(usage_drain, stdout);
			return 0;
		default:
			return ctl_usage(usage_drain, "drain: bad option");
		}
	}
	if (optind < argc)
		return ctl_usage(usage_drain, "drain: unexpected '%s'",
		    argv[optind]);
	if (ctl->cfg.download_dir != NULL && ctl->cfg.onespan_api_key == NULL &&
	    (ctl->cfg.onespan_client_id == NULL ||
	    ctl->cfg.onespan_client_secret == NULL)) {
		/* Every matching event would fail: say so before taking any. */
		fprintf(stderr, "%s: ESIGNHOOK_DOWNLOAD_DIR is set but OneSpan's "
		    "API has no credentials: set ESIGNHOOK_ONESPAN_API_KEY (or "
		    "ESIGNHOOK_ONESPAN_CLIENT_ID and _CLIENT_SECRET)\n", PROG);
		return CTL_EXIT_CONFIG;
	}
	rc = ctl_open_queue(ctl, &q);
	if (rc != 0)
		return rc;
	if (ctl->cfg.forward_url != NULL || ctl->cfg.download_dir != NULL) {
		if (eh_http_new(&http, ctl->cfg.ca_file) != 0) {
			fprintf(stderr, "%s: cannot set up the HTTP client "
			    "(ESIGNHOOK_CA_FILE readable?)\n", PROG);
			eh_queue_close(&q);
			return CTL_EXIT_CONFIG;
		}
	}
	if (ctl->cfg.download_dir != NULL &&
	    eh_onespan_new(&onespan, &ctl->cfg, http) != 0) {
		fprintf(stderr, "%s: cannot set up the OneSpan API client\n",
		    PROG);
		eh_http_free(http);
		eh_queue_close(&q);
		return CTL_EXIT_CONFIG;
	}
	memset(&dr, 0, sizeof(dr));
	dr.ctl = ctl;
	dr.sigfd = ctl_stop_signals();
	if (dr.sigfd < 0) {
		rc = CTL_EXIT_TEMPFAIL;
		goto out;
	}
	dr.tty = isatty(STDERR_FILENO) && ctl->lg.target == EH_LOG_STDERR;
	/* After the mask: libnats's threads inherit it, so a signal never
	 * lands in one of them. */
	if (ctl->cfg.nats_url != NULL) {
		rc = ctl_nats_open(ctl, &nats);
		if (rc != 0)
			goto out;
	}
	if (follow) {
		char path[4200];

		/* The receiver renames into new/; retry and inject too. */
		snprintf(path, sizeof(path), "%s/new", ctl->rcfg.spool);
		ino = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
		if (ino < 0 || inotify_add_watch(ino, path,
		    IN_MOVED_TO | IN_CREATE | IN_ONLYDIR) < 0) {
			fprintf(stderr, "%s: cannot watch %s: %s\n", PROG, path,
			    eh_errno_str(errno));
			rc = CTL_EXIT_TEMPFAIL;
			goto out;
		}
		eh_log_msg(&ctl->lg, LOG_INFO, "following %s, pid %ld",
		    ctl->rcfg.spool, (long)getpid());
	}
	ctl_base_env(env);
	memset(&d, 0, sizeof(d));
	d.rcfg = &ctl->rcfg;
	d.cfg = &ctl->cfg;
	d.q = &q;
	d.http = http;
	d.onespan = onespan;
	d.nats = nats;
	d.base_env = (const char *const *)env;
	d.report = report;
	d.stop = should_stop;
	d.ctx = &dr;
	memset(&t, 0, sizeof(t));
	t0 = eh_mono_ms();
	rc = 0;
	for (;;) {
		/* As often as follow_wait wakes at the least. */
		if (last_recovery == 0 ||
		    eh_mono_ms() - last_recovery >= 60 * 1000) {
			recover_journal(ctl);
			last_recovery = eh_mono_ms();
		}
		if (last_prune == 0 || eh_mono_ms() - last_prune > 3600 * 1000) {
			unsigned long n = eh_drain_prune(&d, eh_now_ms());

			if (n > 0)
				eh_log_msg(&ctl->lg, LOG_INFO, "pruned %lu "
				    "file(s): done/, seen/, tmp/", n);
			last_prune = eh_mono_ms();
		}
		if (eh_drain_pass(&d, &t, &next_due) != 0) {
			clear_progress(&dr);
			fprintf(stderr, "%s: spool %s: %s: %s\n", PROG,
			    ctl->rcfg.spool, q.sys_op != NULL ? q.sys_op :
			    "read", eh_errno_str(q.sys_errno));
			rc = CTL_EXIT_TEMPFAIL;
			break;
		}
		if (!follow || should_stop(&dr))
			break;
		follow_wait(&dr, ino, next_due);
		if (dr.stopping)
			break;
	}
	clear_progress(&dr);
	printf("drained: %lu done, %lu to retry, %lu failed in %.1f s\n",
	    t.done, t.retry, t.failed, (double)(eh_mono_ms() - t0) / 1000.0);
	if (t.stuck > 0) {
		/* Left in cur/ for the next drainer: the spool needs a look. */
		fprintf(stderr, "%s: %lu event(s) could not be moved out of "
		    "cur/ (result=stuck above)\n", PROG, t.stuck);
		rc = CTL_EXIT_TEMPFAIL;
	}
	/* --once reports failures in its status, for cron; a follower
	 * stopped by a signal did what it was asked. */
	if (rc == 0 && t.failed > 0 && !follow)
		rc = CTL_EXIT_FAILED;
out:
	for (i = 0; env[i] != NULL; i++)
		free(env[i]);
	if (ino >= 0)
		close(ino);
	if (dr.sigfd >= 0)
		close(dr.sigfd);
	ctl_nats_close(ctl, nats);
	eh_onespan_free(onespan);
	eh_http_free(http);
	eh_queue_close(&q);
	return rc;
}

/* ---- inject ---- */

static int
cmd_inject(struct ctl *ctl, int argc, char *argv[])
{
	struct eh_spool sp;
	enum eh_provider p;
	enum eh_err err;
	char id[EH_ID_LEN + 1], *buf;
	size_t len;
	int fd = STDIN_FILENO, dup, rc, e;

	if (ctl_wants_help(argc, argv)) {
		fputs(usage_inject, stdout);
		return 0;
	}
	if (argc < 2 || argc > 3)
		return ctl_usage(usage_inject, "inject: give a provider and "
		    "at most one file");
	if (strcmp(argv[1], "onespan") == 0)
		p = EH_PROVIDER_ONESPAN;
	else if (strcmp(argv[1], "alphatrust") == 0)
		p = EH_PROVIDER_ALPHATRUST;
	else
		return ctl_usage(usage_inject, "inject: unknown provider '%s'",
		    argv[1]);
	if (ctl->rcfg.spool == NULL) {
		fprintf(stderr, "%s: ESIGNHOOK_SPOOL is not set\n", PROG);
		return CTL_EXIT_CONFIG;
	}
	if (argc == 3 && strcmp(argv[2], "-") != 0) {
		fd = open(argv[2], O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			fprintf(stderr, "%s: %s: %s\n", PROG, argv[2],
			    eh_errno_str(errno));
			return CTL_EXIT_FAILED;
		}
	}
	rc = eh_read_fd(fd, ctl->rcfg.max_body, &buf, &len);
	e = errno;
	if (fd != STDIN_FILENO)
		close(fd);
	if (rc != 0) {
		fprintf(stderr, "%s: inject: %s\n", PROG, e == EFBIG ?
		    "the event is larger than ESIGNHOOK_MAX_BODY" :
		    eh_errno_str(e));
		return CTL_EXIT_FAILED;
	}
	err = eh_spool_open(&sp, ctl->rcfg.spool);
	if (err != EH_OK) {
		fprintf(stderr, "%s: spool %s: %s: %s\n", PROG, ctl->rcfg.spool,
		    sp.sys_op != NULL ? sp.sys_op : "open",
		    eh_errno_str(sp.sys_errno));
		free(buf);
		return CTL_EXIT_TEMPFAIL;
	}
	err = eh_inject(&sp, p, buf, len, id, &dup);
	free(buf);
	if (err != EH_OK) {
		fprintf(stderr, "%s: inject: %s%s%s\n", PROG, eh_strerror(err),
		    sp.sys_op != NULL ? ": " : "",
		    sp.sys_op != NULL ? sp.sys_op : "");
		rc = eh_err_status(err) == 503 ? CTL_EXIT_TEMPFAIL :
		    CTL_EXIT_FAILED;
	} else if (dup) {
		printf("already received as %s: not spooled again\n",
		    id[0] != '\0' ? id : "an earlier event");
		rc = 0;
	} else {
		printf("spooled %s\n", id);
		rc = 0;
	}
	eh_spool_close(&sp);
	return rc;
}

/* ---- register ---- */

/*
 * Split "A,B" into names, each a known OneSpan event: the names are cut
 * out of list in place (a NUL after each), blanks around them dropped.
 */
static int
parse_events(char *list, const char **out, size_t max, size_t *n)
{
	const char *cur = list, *item;
	char *p;
	size_t len;

	*n = 0;
	while (eh_list_next(&cur, &item, &len)) {
		if (len == 0)
			continue;
		/* The cursor is past this item's comma already. */
		p = list + (item - list);
		p[len] = '\0';
		if (!eh_onespan_known(p) || *n == max) {
			fprintf(stderr, "%s: register: unknown OneSpan event "
			    "'%s'\n", PROG, p);
			return -1;
		}
		out[(*n)++] = p;
	}
	return *n > 0 ? 0 : -1;
}

/* Print OneSpan's reply with the key masked; 0, or 1 with the reason. */
static int
print_reply(const char *what, int rc, struct eh_http_resp *resp)
{
	char *masked = NULL;

	if (rc != 0) {
		fprintf(stderr, "%s: register: %s\n", PROG, resp->error);
		return CTL_EXIT_FAILED;
	}
	if (resp->status < 200 || resp->status > 299) {
		fprintf(stderr, "%s: register: OneSpan answered HTTP %ld to "
		    "%s\n", PROG, resp->status, what);
		return CTL_EXIT_FAILED;
	}
	if (resp->body_len == 0) {
		printf("registered (OneSpan sent no body)\n");
		return 0;
	}
	if (eh_register_mask(&masked, resp->body, resp->body_len) != 0) {
		fprintf(stderr, "%s: register: OneSpan's reply is not JSON\n",
		    PROG);
		return CTL_EXIT_FAILED;
	}
	printf("%s\n", masked);
	free(masked);
	return 0;
}

static int
cmd_register(struct ctl *ctl, int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "url", required_argument, NULL, 'u' },
		{ "events", required_argument, NULL, 'e' },
		{ "show", no_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *events[64], *url = NULL;
	char *list = NULL, *body = NULL;
	struct eh_http *http = NULL;
	struct eh_onespan *api = NULL;
	struct eh_http_resp resp;
	size_t n = 0;
	int c, show = 0, rc;

	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (c) {
		case 'u':
			url = optarg;
			break;
		case 'e':
			list = optarg;
			break;
		case 's':
			show = 1;
			break;
		case 'h':
			fputs(usage_register, stdout);
			return 0;
		default:
			return ctl_usage(usage_register, "register: bad option");
		}
	}
	if (optind < argc || show == (url != NULL) || (show && list != NULL))
		return ctl_usage(usage_register, "register: give --url URL "
		    "or --show");
	if (url != NULL && strncmp(url, "https://", 8) != 0 &&
	    strncmp(url, "http://", 7) != 0)
		return ctl_usage(usage_register, "register: --url must be an "
		    "http(s) URL");
	if (list != NULL) {
		if (parse_events(list, events, 64, &n) != 0)
			return ctl_usage(usage_register, "register: --events "
			    "takes OneSpan event names, comma-separated");
	} else
		for (n = 0; eh_onespan_event_names[n] != NULL && n < 64; n++)
			events[n] = eh_onespan_event_names[n];
	if (!show && ctl->cfg.register_key == NULL) {
		fprintf(stderr, "%s: register: ESIGNHOOK_ONESPAN_KEYS is empty: "
		    "add the key first, so the receiver accepts what OneSpan "
		    "sends\n", PROG);
		return CTL_EXIT_CONFIG;
	}
	if (ctl->cfg.onespan_api_key == NULL &&
	    (ctl->cfg.onespan_client_id == NULL ||
	    ctl->cfg.onespan_client_secret == NULL)) {
		fprintf(stderr, "%s: register: set ESIGNHOOK_ONESPAN_API_KEY "
		    "(or ESIGNHOOK_ONESPAN_CLIENT_ID and _CLIENT_SECRET)\n",
		    PROG);
		return CTL_EXIT_CONFIG;
	}
	if (eh_http_new(&http, ctl->cfg.ca_file) != 0 ||
	    eh_onespan_new(&api, &ctl->cfg, http) != 0) {
		fprintf(stderr, "%s: register: cannot set up the HTTP client\n",
		    PROG);
		eh_http_free(http);
		return CTL_EXIT_CONFIG;
	}
	memset(&resp, 0, sizeof(resp));
	if (show) {
		rc = print_reply("GET /callback", eh_register_show(api, &resp),
		    &resp);
	} else if (eh_register_body(&body, url, ctl->cfg.register_key, events,
	    n) != 0) {
		fprintf(stderr, "%s: register: out of memory\n", PROG);
		rc = CTL_EXIT_FAILED;
	} else {
		rc = print_reply("POST /callback", eh_register_post(api, body,
		    strlen(body), &resp), &resp);
		sodium_memzero(body, strlen(body));
		free(body);
	}
	/* OneSpan's reply holds the callback key. */
	if (resp.body != NULL)
		sodium_memzero(resp.body, resp.body_len);
	eh_http_resp_free(&resp);
	eh_onespan_free(api);
	eh_http_free(http);
	return rc;
}

/* ---- the command table ---- */

static const struct command {
	const char *name;
	int (*run)(struct ctl *, int, char *[]);
} commands[] = {
	{ "drain", cmd_drain },
	{ "list", cmd_list },
	{ "show", cmd_show },
	{ "stats", cmd_stats },
	{ "retry", cmd_retry },
	{ "purge", cmd_purge },
	{ "inject", cmd_inject },
	{ "register", cmd_register },
	{ "nats-setup", cmd_nats_setup },
	{ "consume", cmd_consume },
	{ NULL, NULL }
};

static const char *
env_lookup(void *ctx, const char *key)
{
	(void)ctx;
	return getenv(key);
}

int
main(int argc, char *argv[])
{
	const struct command *cmd;
	const char *cfile = NULL;
	struct rlimit core;
	struct ctl ctl;
	char msg[512];
	int i, rc, fd;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-c") != 0 || i + 1 >= argc)
			break;
		cfile = argv[++i];
	}
	if (i >= argc) {
		fputs(usage_text, stderr);
		return CTL_EXIT_USAGE;
	}
	if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0 ||
	    strcmp(argv[i], "help") == 0) {
		fputs(usage_text, stdout);
		return 0;
	}
	if (strcmp(argv[i], "--version") == 0 || strcmp(argv[i], "-V") == 0) {
		printf("esignhookctl %s\n", EH_VERSION);
		return 0;
	}
	for (cmd = commands; cmd->name != NULL; cmd++)
		if (strcmp(cmd->name, argv[i]) == 0)
			break;
	if (cmd->name == NULL) {
		fprintf(stderr, "%s: unknown command '%s'\n%s", PROG, argv[i],
		    usage_text);
		return CTL_EXIT_USAGE;
	}
	memset(&ctl, 0, sizeof(ctl));
	ctl.config_path = cfile != NULL ? cfile : getenv("ESIGNHOOK_CONFIG");
	/* A closed 0-2 would be reused by a record or a download, and an
	 * exec child would get it as its stdin or stderr. */
	for (fd = 0; fd <= 2; fd++)
		if (fcntl(fd, F_GETFD) < 0 &&
		    open("/dev/null", O_RDWR | O_CLOEXEC) != fd)
			return 1;
	/* It holds API keys and secrets in memory: no core file, and no
	 * /proc/<pid>/environ or ptrace for the commands it runs (a
	 * non-dumpable process's /proc files belong to root). */
	(void)prctl(PR_SET_DUMPABLE, 0);
	core.rlim_cur = core.rlim_max = 0;
	(void)setrlimit(RLIMIT_CORE, &core);
	umask(077);
	signal(SIGPIPE, SIG_IGN);
	if (sodium_init() < 0 || curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
		fprintf(stderr, "%s: libsodium or libcurl failed to start\n",
		    PROG);
		return 1;
	}
	/* A command's --help needs no configuration. */
	if (ctl_wants_help(argc - i, argv + i)) {
		eh_config_init(&ctl.rcfg);
		eh_ctl_config_init(&ctl.cfg);
	} else if (eh_config_load(&ctl.rcfg, &ctl.cfg, ctl.config_path,
	    env_lookup, NULL, msg, sizeof(msg)) != EH_OK) {
		fprintf(stderr, "%s: %s\n", PROG, msg);
		eh_config_free(&ctl.rcfg);
		eh_ctl_config_free(&ctl.cfg);
		return CTL_EXIT_CONFIG;
	}
	eh_log_init(&ctl.lg, PROG, ctl.rcfg.log);
	/* getopt in each command sees its own argv, command name first. */
	optind = 1;
	rc = cmd->run(&ctl, argc - i, argv + i);
	eh_config_free(&ctl.rcfg);
	eh_ctl_config_free(&ctl.cfg);
	curl_global_cleanup();
	fflush(stdout);
	return rc;
}
