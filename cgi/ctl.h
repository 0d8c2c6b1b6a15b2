/*
 * esignhookctl's commands, shared between its files: cgi/esignhookctl.c
 * (main, the command table, drain, inject, register), cgi/ctl-view.c
 * (list, show, stats, retry, purge) and cgi/ctl-nats.c (nats-setup,
 * consume).  Each command parses its own
 * arguments and returns the process's exit status.
 */
#ifndef EH_CTL_H
#define EH_CTL_H

#include "../lib/esignhook.h"

#define CTL_EXIT_FAILED 1       /* an event went to failed/, or an error */
#define CTL_EXIT_USAGE 64       /* EX_USAGE */
#define CTL_EXIT_TEMPFAIL 75    /* EX_TEMPFAIL: the spool is unusable */
#define CTL_EXIT_CONFIG 78      /* EX_CONFIG */

/* What every command gets: the configuration, loaded once. */
struct ctl {
	struct eh_config rcfg;          /* the receiver's keys (spool, ...) */
	struct eh_ctl_config cfg;       /* the tool's keys */
	struct eh_log lg;
	const char *config_path;        /* -c FILE or $ESIGNHOOK_CONFIG */
};

/*
 * Open the spool's queue; on failure print why on stderr and return
 * CTL_EXIT_TEMPFAIL (or CTL_EXIT_CONFIG when ESIGNHOOK_SPOOL is unset).
 */
int ctl_open_queue(struct ctl *ctl, struct eh_queue *q);
/* Print "esignhookctl: <msg>" and the command's usage on stderr; 64. */
int ctl_usage(const char *usage, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Whether argv[i] asks for help (-h, --help). */
int ctl_wants_help(int argc, char *argv[]);
/* PATH, HOME and LANG of the tool's environment as "NAME=value"
 * strings (malloc'd), NULL-terminated: what an exec child may get. */
void ctl_base_env(char *env[4]);
/* SIGTERM/SIGINT/SIGHUP blocked, on a signalfd (or -1, reported). */
int ctl_stop_signals(void);
/* Whether a stop signal came (sets and keeps *stopping). */
int ctl_stop_asked(int sigfd, int *stopping);

int cmd_list(struct ctl *ctl, int argc, char *argv[]);
int cmd_show(struct ctl *ctl, int argc, char *argv[]);
int cmd_stats(struct ctl *ctl, int argc, char *argv[]);
int cmd_retry(struct ctl *ctl, int argc, char *argv[]);
int cmd_purge(struct ctl *ctl, int argc, char *argv[]);

/* cgi/ctl-nats.c: NATS JetStream. */
int cmd_nats_setup(struct ctl *ctl, int argc, char *argv[]);
int cmd_consume(struct ctl *ctl, int argc, char *argv[]);
/*
 * The connection for drain's publish action: 0, or the exit status
 * after printing why.  ctl_nats_close closes it and shuts libnats down
 * (its threads gone before exit); NULL is fine.
 */
int ctl_nats_open(struct ctl *ctl, struct eh_nats **n);
void ctl_nats_close(struct ctl *ctl, struct eh_nats *n);

/* Usage texts, printed by --help and on a usage error. */
extern const char ctl_usage_list[], ctl_usage_show[], ctl_usage_stats[],
    ctl_usage_retry[], ctl_usage_purge[], ctl_usage_nats_setup[],
    ctl_usage_consume[];

#endif
