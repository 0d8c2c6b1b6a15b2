/*
 * esignhookctl's NATS JetStream commands: nats-setup (the stream) and
 * consume (a durable pull consumer running a command per event).  The
 * publish action itself runs inside drain (cgi/esignhookctl.c).
 */

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "ctl.h"

#define PROG "esignhookctl"
/* How long one fetch waits: also how soon a signal is noticed while
 * nothing arrives, and how long --once waits for nothing. */
#define FETCH_WAIT_MS 1000

const char ctl_usage_nats_setup[] =
"usage: esignhookctl nats-setup [--replicas N] [--duplicate-window DUR]\n"
"\n"
"Creates the JetStream stream ESIGNHOOK_NATS_STREAM (default ESIGNHOOK) that\n"
"the publish action writes to: subjects from ESIGNHOOK_NATS_SUBJECT's fixed\n"
"first tokens (esign.> for the default esign.{provider}.{event}), file\n"
"storage.  A stream that is there already is checked, not changed: its\n"
"subjects must take the template's and its duplicate window must be as long\n"
"as asked.\n"
"\n"
"  --replicas N            copies kept in a JetStream cluster (default 1;\n"
"                          at most 5, no more than the cluster's servers)\n"
"  --duplicate-window DUR  how long JetStream remembers a message id to drop\n"
"                          a re-publication (default: 2m, a drainer's crash\n"
"                          and restart, plus ESIGNHOOK_RETRY_SCHEDULE's\n"
"                          waits at their longest, at most 7d; a shorter\n"
"                          one is created as asked, with a warning)\n"
"\n"
"An existing stream is not fit when its window is shorter than that, its\n"
"retention is not limits (interest, work queue) or it sends no PubAck.\n"
"\n"
"Exit 0: created, or there and fit; 1: there but not fit (what differs is\n"
"printed), or an error; 78: the configuration is invalid.\n";

const char ctl_usage_consume[] =
"usage: esignhookctl consume --exec CMD [--durable NAME] [--subject S] [--once]\n"
"\n"
"Reads the events of the stream ESIGNHOOK_NATS_STREAM through a durable pull\n"
"consumer (explicit acks) and runs CMD with /bin/sh -c for each, as drain's\n"
"exec action does: the record on stdin, ESIGNHOOK_EVENT_ID, _EVENT,\n"
"_PROVIDER, _TRANSACTION_ID and _ATTEMPT (the delivery, 1 for the first) in\n"
"an environment without secrets, ESIGNHOOK_EXEC_TIMEOUT.  Exit 0 acks the\n"
"message (confirmed by the server), 100 terminates it, anything else naks it\n"
"for redelivery after ESIGNHOOK_RETRY_SCHEDULE's wait; after the schedule's\n"
"last, it is terminated and logged as failed.  Any number of consumers with\n"
"the same durable share the messages, each taken by one of them.\n"
"\n"
"  --exec CMD      the command (required)\n"
"  --durable NAME  the consumer's name (default esignhook)\n"
"  --subject S     only the stream's messages on S (wildcards allowed;\n"
"                  default: all of them)\n"
"  --once          handle what is there, exit once a second passes with\n"
"                  nothing (for tests and cron)\n"
"\n"
"SIGTERM or SIGINT: the message in hand is finished, then exit 0.  One\n"
"logfmt line per message on stderr, a summary on stdout.  Exit 0; 1 when a\n"
"message could not be settled or --once met an error; 78 the configuration\n"
"is invalid or the stream cannot be read.\n";

/* The connection for a command, with its one line of error. */
static int
open_nats(struct ctl *ctl, struct eh_nats **n)
{
	char msg[512];

	*n = NULL;
	if (ctl->cfg.nats_url == NULL) {
		fprintf(stderr, "%s: ESIGNHOOK_NATS_URL is not set\n", PROG);
		return CTL_EXIT_CONFIG;
	}
	if (eh_nats_open(n, &ctl->cfg, msg, sizeof(msg)) != EH_OK) {
		fprintf(stderr, "%s: nats: %s\n", PROG, msg);
		return CTL_EXIT_CONFIG;
	}
	return 0;
}

int
ctl_nats_open(struct ctl *ctl, struct eh_nats **n)
{
	char msg[512];
	int rc;

	rc = open_nats(ctl, n);
	/* Once, at the drain's start: a stream made before the schedule
	 * grew (or by hand) may forget ids before the last retry. */
	if (rc == 0 && eh_nats_window_warning(*n, msg, sizeof(msg)))
		eh_log_msg(&ctl->lg, LOG_WARNING, "publish: %s", msg);
	return rc;
}

void
ctl_nats_close(struct ctl *ctl, struct eh_nats *n)
{
	if (n == NULL)
		return;
	eh_nats_close(n);
	eh_nats_shutdown(&ctl->cfg);
}

/* ---- nats-setup ---- */

static void
print_line(void *ctx, const char *line)
{
	(void)ctx;
	printf("%s\n", line);
}

/* A positive decimal of at most max: 0, or -1. */
static int
parse_count(const char *s, long max, long *out)
{
	char *end;
	long v;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < 1 || v > max)
		return -1;
	*out = v;
	return 0;
}

int
cmd_nats_setup(struct ctl *ctl, int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "replicas", required_argument, NULL, 'r' },
		{ "duplicate-window", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct eh_nats *n;
	enum eh_nats_setup_result r;
	char msg[512];
	long replicas = 0;
	int64_t window = 0, need;
	char a[32], b[32];
	int c, rc, capped, asked = 0;

	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			/* JetStream's own limit. */
			if (parse_count(optarg, 5, &replicas) != 0)
				return ctl_usage(ctl_usage_nats_setup,
				    "nats-setup: --replicas takes 1 to 5");
			break;
		case 'd':
			if (eh_duration_parse(optarg, &window) != EH_OK ||
			    window < 1000)
				return ctl_usage(ctl_usage_nats_setup,
				    "nats-setup: --duplicate-window takes a "
				    "duration of at least 1s (\"2m\")");
			asked = 1;
			break;
		case 'h':
			fputs(ctl_usage_nats_setup, stdout);
			return 0;
		default:
			return ctl_usage(ctl_usage_nats_setup,
			    "nats-setup: bad option");
		}
	}
	if (optind < argc)
		return ctl_usage(ctl_usage_nats_setup,
		    "nats-setup: unexpected '%s'", argv[optind]);
	need = eh_nats_dup_window(&ctl->cfg, &capped);
	if (!asked)
		window = need;
	if (capped)
		printf("warning: ESIGNHOOK_RETRY_SCHEDULE's waits outlast the "
		    "longest duplicate window made here (168h): an event "
		    "re-published after it may be stored twice\n");
	if (asked && window < need) {
		eh_duration_format(a, sizeof(a), window);
		eh_duration_format(b, sizeof(b), need);
		printf("warning: duplicate window %s, shorter than the %s "
		    "ESIGNHOOK_RETRY_SCHEDULE needs: an event retried after "
		    "it may be stored twice\n", a, b);
	}
	rc = open_nats(ctl, &n);
	if (rc != 0)
		return rc;
	r = eh_nats_setup(n, replicas, window, print_line, NULL, msg,
	    sizeof(msg));
	if (r == EH_NATS_SETUP_ERROR)
		fprintf(stderr, "%s: nats-setup: %s\n", PROG, msg);
	ctl_nats_close(ctl, n);
	fflush(stdout);
	return r == EH_NATS_SETUP_CREATED || r == EH_NATS_SETUP_OK ? 0 :
	    CTL_EXIT_FAILED;
}

/* ---- consume ---- */

struct consumer {
	struct ctl *ctl;
	int sigfd;
	int stopping;
};

static void
consume_report(void *ctx, const struct eh_consume_report *r)
{
	struct consumer *cn = ctx;
	char line[EH_LOG_LINE_MAX], num[32], ts[32];
	size_t len = 0;
	int prio;

	if (!r->settled || (r->verdict == EH_CONSUME_TERM && r->last) ||
	    r->id == NULL)
		prio = LOG_ERR;
	else if (r->verdict == EH_CONSUME_ACK)
		prio = LOG_INFO;
	else
		prio = LOG_WARNING;
	line[0] = '\0';
	eh_rfc3339(ts, sizeof(ts), eh_now_ms());
	eh_logfmt(line, sizeof(line), &len, "ts", ts);
	eh_logfmt(line, sizeof(line), &len, "prog", PROG);
	eh_logfmt(line, sizeof(line), &len, "level", eh_log_level(prio));
	eh_logfmt(line, sizeof(line), &len, "id", r->id);
	eh_logfmt(line, sizeof(line), &len, "event", r->event);
	eh_logfmt(line, sizeof(line), &len, "provider", r->provider);
	snprintf(num, sizeof(num), "%llu", (unsigned long long)r->delivered);
	eh_logfmt(line, sizeof(line), &len, "delivery", num);
	eh_logfmt(line, sizeof(line), &len, "result",
	    eh_consume_verdict_name(r->verdict));
	if (r->verdict == EH_CONSUME_TERM && r->last)
		eh_logfmt(line, sizeof(line), &len, "failed", "yes");
	if (r->verdict == EH_CONSUME_NAK) {
		snprintf(num, sizeof(num), "%lld", (long long)r->delay_ms);
		eh_logfmt(line, sizeof(line), &len, "delay_ms", num);
	}
	snprintf(num, sizeof(num), "%ld", r->ms);
	eh_logfmt(line, sizeof(line), &len, "ms", num);
	if (r->error != NULL)
		eh_logfmt(line, sizeof(line), &len, "error", r->error);
	eh_log_emit(&cn->ctl->lg, prio, line);
}

static int
signalled(struct consumer *cn)
{
	return ctl_stop_asked(cn->sigfd, &cn->stopping);
}

int
cmd_consume(struct ctl *ctl, int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "exec", required_argument, NULL, 'e' },
		{ "durable", required_argument, NULL, 'd' },
		{ "subject", required_argument, NULL, 's' },
		{ "once", no_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct eh_consume_totals t;
	struct eh_consumer *cs = NULL;
	struct eh_consume cc;
	struct eh_nats *n = NULL;
	struct consumer cn;
	const char *cmd = NULL, *durable = NULL, *subject = NULL;
	char *env[4] = { NULL, NULL, NULL, NULL }, msg[512], *copy;
	int64_t t0;
	int c, once = 0, rc, i, warned = 0;

	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (c) {
		case 'e':
			cmd = optarg;
			break;
		case 'd':
			durable = optarg;
			break;
		case 's':
			subject = optarg;
			break;
		case 'o':
			once = 1;
			break;
		case 'h':
			fputs(ctl_usage_consume, stdout);
			return 0;
		default:
			return ctl_usage(ctl_usage_consume, "consume: bad option");
		}
	}
	if (optind < argc)
		return ctl_usage(ctl_usage_consume, "consume: unexpected '%s'",
		    argv[optind]);
	if (cmd == NULL || *cmd == '\0')
		return ctl_usage(ctl_usage_consume, "consume: give --exec CMD");
	if (durable != NULL && !eh_nats_name_ok(durable))
		return ctl_usage(ctl_usage_consume, "consume: --durable takes "
		    "a name without blanks, '.', '*', '>', '/'");
	if (subject != NULL && (*subject == '\0' ||
	    strpbrk(subject, " \t\r\n") != NULL || strlen(subject) > 255))
		return ctl_usage(ctl_usage_consume, "consume: --subject takes "
		    "a NATS subject");
	/* The command given here is the exec action's. */
	copy = strdup(cmd);
	if (copy == NULL) {
		fprintf(stderr, "%s: out of memory\n", PROG);
		return CTL_EXIT_FAILED;
	}
	free(ctl->cfg.exec);
	ctl->cfg.exec = copy;
	/* Before libnats starts its threads, which inherit the mask. */
	memset(&cn, 0, sizeof(cn));
	cn.ctl = ctl;
	cn.sigfd = ctl_stop_signals();
	if (cn.sigfd < 0)
		return CTL_EXIT_TEMPFAIL;
	rc = open_nats(ctl, &n);
	if (rc != 0)
		goto out;
	ctl_base_env(env);
	memset(&cc, 0, sizeof(cc));
	cc.rcfg = &ctl->rcfg;
	cc.cfg = &ctl->cfg;
	cc.durable = durable;
	cc.subject = subject;
	cc.base_env = (const char *const *)env;
	cc.report = consume_report;
	cc.ctx = &cn;
	/* A server that is down at start is waited for, unless --once. */
	while (eh_consume_open(&cs, n, &cc, msg, sizeof(msg)) != EH_OK) {
		if (once || strncmp(msg, "no NATS server", 14) != 0) {
			fprintf(stderr, "%s: consume: %s\n", PROG, msg);
			rc = CTL_EXIT_CONFIG;
			goto out;
		}
		if (!warned)
			eh_log_msg(&ctl->lg, LOG_WARNING, "consume: %s; "
			    "waiting", msg);
		warned = 1;
		if (signalled(&cn))
			goto out;
	}
	if (msg[0] != '\0')
		eh_log_msg(&ctl->lg, LOG_WARNING, "consume: %s", msg);
	eh_log_msg(&ctl->lg, LOG_INFO, "consuming stream %s as %s, pid %ld",
	    ctl->cfg.nats_stream != NULL ? ctl->cfg.nats_stream :
	    EH_NATS_DEFAULT_STREAM, durable != NULL ? durable :
	    EH_NATS_DEFAULT_DURABLE, (long)getpid());
	memset(&t, 0, sizeof(t));
	t0 = eh_mono_ms();
	warned = 0;
	while (!signalled(&cn)) {
		int got = eh_consume_next(cs, FETCH_WAIT_MS, &t, msg,
		    sizeof(msg));

		if (got < 0) {
			if (once || got == -2) {
				fprintf(stderr, "%s: consume: %s\n", PROG, msg);
				rc = CTL_EXIT_FAILED;
				break;
			}
			/* Once per outage, not once a second. */
			if (!warned)
				eh_log_msg(&ctl->lg, LOG_WARNING,
				    "consume: %s; retrying", msg);
			warned = 1;
			continue;
		}
		warned = 0;
		if (got == 0 && once)
			break;
	}
	printf("consumed: %lu acked, %lu naked, %lu terminated, %lu not "
	    "settled in %.1f s\n", t.acked, t.naked, t.termed, t.failed,
	    (double)(eh_mono_ms() - t0) / 1000.0);
	if (rc == 0 && t.failed > 0)
		rc = CTL_EXIT_FAILED;
out:
	eh_consume_close(cs);
	ctl_nats_close(ctl, n);
	for (i = 0; env[i] != NULL; i++)
		free(env[i]);
	close(cn.sigfd);
	fflush(stdout);
	return rc;
}
