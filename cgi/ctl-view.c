/*
 * esignhookctl's commands that look at the spool and move events by
 * hand: list, show, stats, retry, purge.  Each parses its own
 * arguments (argv[0] is the command's name) and returns the exit
 * status; what they print is made by lib/view.c.  Postfix's postqueue
 * and postsuper are the model: a table for people, a JSON object per
 * line for scripts, and a requeue / delete by id or by folder.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"

const char ctl_usage_list[] =
    "usage: esignhookctl list [FOLDER...] [--json]\n"
    "  One line per event in the FOLDERs (new cur retry done failed;\n"
    "  default: new cur retry failed): id, age, folder, provider, event,\n"
    "  transaction id, attempts, next attempt, last error.\n"
    "  --json   one JSON object per line instead of a table\n";
const char ctl_usage_show[] =
    "usage: esignhookctl show ID [--json]\n"
    "  The event's state and its record, pretty-printed.\n"
    "  --json   {\"folder\", \"record\", \"attempts\", \"next_attempt_at\",\n"
    "           \"last_error\", \"actions_done\"} on one line\n";
const char ctl_usage_stats[] =
    "usage: esignhookctl stats [--json | --prometheus [--output FILE]]\n"
    "  Events per folder, the age of the oldest event waiting in new/\n"
    "  or retry/, free bytes on the spool's file system.\n"
    "  --json         one JSON object\n"
    "  --prometheus   the text format for node exporter's textfile\n"
    "                 collector\n"
    "  --output FILE  write FILE atomically instead of standard output\n";
const char ctl_usage_retry[] =
    "usage: esignhookctl retry ID... | --all\n"
    "  Move events from failed/ or retry/ back to new/, with a fresh\n"
    "  count of attempts.  --all: every event in failed/ and retry/.\n";
const char ctl_usage_purge[] =
    "usage: esignhookctl purge done|failed --older-than DUR\n"
    "       esignhookctl purge ID...\n"
    "  Delete events (record and state): those in done/ or failed/ that\n"
    "  came there at least DUR ago (250ms, 30s, 5m, 1h, 7d), or the ones\n"
    "  named, from any folder but new/ and cur/.\n";

/* Print a whole string made by lib/view.c and free it: 0, or 1. */
static int
put(char *text)
{
	int rc = 0;

	if (fputs(text, stdout) == EOF)
		rc = 1;
	free(text);
	return rc;
}

/* Standard output, flushed: the status to exit with on a write error. */
static int
flushed(const char *cmd, int rc)
{
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "esignhookctl: %s: writing the output: %s\n",
		    cmd, eh_errno_str(errno));
		return CTL_EXIT_FAILED;
	}
	return rc;
}

/* A command's --help: its usage on standard output, exit 0. */
static int
help(const char *cmd, const char *usage)
{
	fputs(usage, stdout);
	return flushed(cmd, 0);
}

/* Say why cmd failed on the spool and close q: the status to exit with. */
static int
spool_error(const char *cmd, struct eh_queue *q, enum eh_err err)
{
	int rc = CTL_EXIT_TEMPFAIL;

	if (err == EH_ERR_NOMEM) {
		fprintf(stderr, "esignhookctl: %s: out of memory\n", cmd);
		rc = CTL_EXIT_FAILED;
	} else
		fprintf(stderr, "esignhookctl: %s: %s: %s: %s\n", cmd, q->path,
		    q->sys_op != NULL ? q->sys_op : "read",
		    eh_errno_str(q->sys_errno));
	eh_queue_close(q);
	return rc;
}

/* The folder of the event named id; 0, or 1 after saying there is none. */
static int
find_event(struct eh_queue *q, const char *cmd, const char *id,
    enum eh_folder *f)
{
	if (eh_queue_find(q, id, f) == EH_OK)
		return 0;
	fprintf(stderr, "esignhookctl: %s: %s: no such event in the spool\n",
	    cmd, id);
	return 1;
}

/* ---- list ---- */

int
cmd_list(struct ctl *ctl, int argc, char *argv[])
{
	static const enum eh_folder dflt[] = {
		EH_F_NEW, EH_F_CUR, EH_F_RETRY, EH_F_FAILED
	};
	enum eh_folder folders[EH_F__MAX];
	struct eh_view_entry *ents = NULL, *ne;
	struct eh_queue q;
	enum eh_err err = EH_OK;
	size_t nf = 0, ne_n = 0, cap = 0, n, i, k;
	unsigned seen = 0;
	char **ids, *text;
	int json = 0, opts = 1, rc = 0, f;

	if (ctl_wants_help(argc, argv))
		return help("list", ctl_usage_list);
	for (i = 1; i < (size_t)argc; i++) {
		if (opts && strcmp(argv[i], "--") == 0)
			opts = 0;
		else if (opts && strcmp(argv[i], "--json") == 0)
			json = 1;
		else if (opts && argv[i][0] == '-')
			return ctl_usage(ctl_usage_list,
			    "list: unknown option %s", argv[i]);
		else if ((f = eh_folder_parse(argv[i])) < 0)
			return ctl_usage(ctl_usage_list,
			    "list: unknown folder %s", argv[i]);
		else if (!(seen & (1u << f))) {
			seen |= 1u << f;
			folders[nf++] = (enum eh_folder)f;
		}
	}
	if (nf == 0) {
		memcpy(folders, dflt, sizeof(dflt));
		nf = sizeof(dflt) / sizeof(dflt[0]);
	}
	rc = ctl_open_queue(ctl, &q);
	if (rc != 0)
		return rc;
	for (k = 0; k < nf && err == EH_OK; k++) {
		err = eh_queue_ids(&q, folders[k], &ids, &n);
		if (err != EH_OK)
			break;
		for (i = 0; i < n && err == EH_OK; i++) {
			if (ne_n == cap) {
				cap = cap ? cap * 2 : 64;
				ne = realloc(ents, cap * sizeof(*ents));
				if (ne == NULL) {
					err = EH_ERR_NOMEM;
					break;
				}
				ents = ne;
			}
			err = eh_view_entry_load(&ents[ne_n], &q, folders[k],
			    ids[i]);
			if (err == EH_ERR_FIELD_MISSING) {
				err = EH_OK;    /* moved on meanwhile */
				continue;
			}
			if (err != EH_OK)
				break;
			/* Scripts get each line as soon as it is known. */
			if (json) {
				err = eh_view_entry_json(&text, &ents[ne_n]);
				if (err == EH_OK && put(text) != 0)
					rc = CTL_EXIT_FAILED;
				eh_view_entry_free(&ents[ne_n]);
				continue;
			}
			ne_n++;
		}
		eh_ids_free(ids, n);
	}
	if (err == EH_OK && !json) {
		/* People get aligned columns: every width first. */
		err = eh_view_table(&text, ents, ne_n, eh_now_ms());
		if (err == EH_OK && put(text) != 0)
			rc = CTL_EXIT_FAILED;
	}
	for (i = 0; i < ne_n; i++)
		eh_view_entry_free(&ents[i]);
	free(ents);
	if (err != EH_OK)
		rc = spool_error("list", &q, err);
	else
		eh_queue_close(&q);
	return flushed("list", rc);
}

/* ---- show ---- */

int
cmd_show(struct ctl *ctl, int argc, char *argv[])
{
	struct eh_queue q;
	struct eh_qstate st;
	enum eh_folder f;
	enum eh_err err;
	const char *id = NULL;
	char *rec = NULL, *text;
	size_t len = 0;
	int json = 0, opts = 1, rc, i, tries;

	if (ctl_wants_help(argc, argv))
		return help("show", ctl_usage_show);
	for (i = 1; i < argc; i++) {
		if (opts && strcmp(argv[i], "--") == 0)
			opts = 0;
		else if (opts && strcmp(argv[i], "--json") == 0)
			json = 1;
		else if (opts && argv[i][0] == '-')
			return ctl_usage(ctl_usage_show,
			    "show: unknown option %s", argv[i]);
		else if (id != NULL)
			return ctl_usage(ctl_usage_show,
			    "show: one id only");
		else
			id = argv[i];
	}
	if (id == NULL)
		return ctl_usage(ctl_usage_show,
		    "show: which event? (an id)");
	rc = ctl_open_queue(ctl, &q);
	if (rc != 0)
		return rc;
	/* A drainer may move the event between finding and reading it. */
	for (tries = 0; tries < 5; tries++) {
		err = eh_queue_find(&q, id, &f);
		if (err != EH_OK) {
			fprintf(stderr, "esignhookctl: show: no event %s in "
			    "the spool\n", id);
			eh_queue_close(&q);
			return CTL_EXIT_FAILED;
		}
		err = eh_queue_record(&q, f, id, &rec, &len);
		if (err != EH_ERR_FIELD_MISSING)
			break;
	}
	if (err == EH_ERR_FIELD_MISSING) {
		fprintf(stderr, "esignhookctl: show: %s keeps moving between "
		    "folders; try again\n", id);
		eh_queue_close(&q);
		return CTL_EXIT_FAILED;
	}
	if (err == EH_ERR_SPOOL_IO)
		rec = NULL;     /* shown as unreadable, with its state */
	else if (err != EH_OK)
		return spool_error("show", &q, err);
	if (eh_queue_state(&q, f, id, &st) != EH_OK)
		memset(&st, 0, sizeof(st));
	if (json)
		err = eh_view_show_json(&text, f, rec, len, &st);
	else
		err = eh_view_show_text(&text, id, f, rec, len, &st,
		    eh_now_ms());
	free(rec);
	if (err != EH_OK)
		return flushed("show", spool_error("show", &q, err));
	eh_queue_close(&q);
	return flushed("show", put(text) != 0 ? CTL_EXIT_FAILED : 0);
}

/* ---- stats ---- */

int
cmd_stats(struct ctl *ctl, int argc, char *argv[])
{
	struct eh_view_stats s;
	struct eh_queue q;
	enum eh_err err;
	const char *output = NULL, *op;
	char *text;
	int json = 0, prom = 0, rc, i;

	if (ctl_wants_help(argc, argv))
		return help("stats", ctl_usage_stats);
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			json = 1;
		else if (strcmp(argv[i], "--prometheus") == 0)
			prom = 1;
		else if (strcmp(argv[i], "--output") == 0) {
			if (++i == argc)
				return ctl_usage(ctl_usage_stats,
				    "stats: --output needs a file name");
			output = argv[i];
		} else if (strncmp(argv[i], "--output=", 9) == 0)
			output = argv[i] + 9;
		else if (argv[i][0] == '-')
			return ctl_usage(ctl_usage_stats,
			    "stats: unknown option %s", argv[i]);
		else
			return ctl_usage(ctl_usage_stats,
			    "stats: unexpected argument %s", argv[i]);
	}
	if (json && prom)
		return ctl_usage(ctl_usage_stats,
		    "stats: --json or --prometheus, not both");
	if (output != NULL && !prom)
		return ctl_usage(ctl_usage_stats,
		    "stats: --output goes with --prometheus");
	if (output != NULL && *output == '\0')
		return ctl_usage(ctl_usage_stats,
		    "stats: --output needs a file name");
	rc = ctl_open_queue(ctl, &q);
	if (rc != 0)
		return rc;
	err = eh_view_stats(&s, &q, eh_now_ms());
	if (err != EH_OK)
		return spool_error("stats", &q, err);
	eh_queue_close(&q);
	if (prom)
		err = eh_view_stats_prom(&text, &s);
	else if (json)
		err = eh_view_stats_json(&text, &s);
	else
		err = eh_view_stats_text(&text, &s);
	if (err != EH_OK) {
		fprintf(stderr, "esignhookctl: stats: out of memory\n");
		return CTL_EXIT_FAILED;
	}
	if (output == NULL)
		return flushed("stats", put(text) != 0 ? CTL_EXIT_FAILED : 0);
	rc = 0;
	if (eh_view_write_file(output, text, strlen(text), &op) != 0) {
		fprintf(stderr, "esignhookctl: stats: %s: %s: %s\n", output,
		    op, eh_errno_str(errno));
		rc = CTL_EXIT_FAILED;
	}
	free(text);
	return rc;
}

/* ---- retry ---- */

/* Move id from folder f to new/; 0, or 1 after saying why not. */
static int
retry_one(struct eh_queue *q, const char *id, enum eh_folder f)
{
	int r = eh_queue_move(q, id, f, EH_F_NEW);

	if (r == 1) {
		printf("%s: %s/ -> new/\n", id, eh_folder_name(f));
		return 0;
	}
	if (r == 0)
		fprintf(stderr, "esignhookctl: retry: %s: busy or gone from "
		    "%s/, not moved\n", id, eh_folder_name(f));
	else
		fprintf(stderr, "esignhookctl: retry: %s: %s: %s\n", id,
		    q->sys_op, eh_errno_str(q->sys_errno));
	return 1;
}

int
cmd_retry(struct ctl *ctl, int argc, char *argv[])
{
	static const enum eh_folder from[] = { EH_F_FAILED, EH_F_RETRY };
	struct eh_queue q;
	enum eh_folder f;
	enum eh_err err;
	unsigned long moved = 0, bad = 0;
	char **ids;
	size_t n, i, k;
	int all = 0, nids = 0, opts = 1, rc, a;

	if (ctl_wants_help(argc, argv))
		return help("retry", ctl_usage_retry);
	for (a = 1; a < argc; a++) {
		if (opts && strcmp(argv[a], "--") == 0)
			opts = 0;
		else if (opts && strcmp(argv[a], "--all") == 0)
			all = 1;
		else if (opts && argv[a][0] == '-')
			return ctl_usage(ctl_usage_retry,
			    "retry: unknown option %s", argv[a]);
		else
			nids++;
	}
	if (all && nids > 0)
		return ctl_usage(ctl_usage_retry,
		    "retry: ids or --all, not both");
	if (!all && nids == 0)
		return ctl_usage(ctl_usage_retry,
		    "retry: which events? (ids, or --all)");
	rc = ctl_open_queue(ctl, &q);
	if (rc != 0)
		return rc;
	if (all) {
		for (k = 0; k < sizeof(from) / sizeof(from[0]); k++) {
			err = eh_queue_ids(&q, from[k], &ids, &n);
			if (err != EH_OK)
				return spool_error("retry", &q, err);
			for (i = 0; i < n; i++) {
				if (retry_one(&q, ids[i], from[k]) == 0)
					moved++;
				else
					bad++;
			}
			eh_ids_free(ids, n);
		}
	} else {
		opts = 1;
		for (a = 1; a < argc; a++) {
			if (opts && strcmp(argv[a], "--") == 0) {
				opts = 0;
				continue;
			}
			if (find_event(&q, "retry", argv[a], &f) != 0)
				bad++;
			else if (f != EH_F_FAILED && f != EH_F_RETRY) {
				fprintf(stderr, "esignhookctl: retry: %s: in "
				    "%s/, not in failed/ or retry/\n",
				    argv[a], eh_folder_name(f));
				bad++;
			} else if (retry_one(&q, argv[a], f) == 0)
				moved++;
			else
				bad++;
		}
	}
	eh_queue_close(&q);
	printf("retry: %lu event(s) moved to new/\n", moved);
	return flushed("retry", bad ? CTL_EXIT_FAILED : 0);
}

/* ---- purge ---- */

/*
 * Delete id from folder f: 1 removed; 0 busy or gone (said unless
 * quiet); -1 an error, said.
 */
static int
purge_one(struct eh_queue *q, const char *id, enum eh_folder f, int quiet)
{
	int r = eh_queue_remove(q, id, f);

	if (r < 0)
		fprintf(stderr, "esignhookctl: purge: %s: %s: %s\n", id,
		    q->sys_op, eh_errno_str(q->sys_errno));
	else if (r == 0 && !quiet)
		fprintf(stderr, "esignhookctl: purge: %s: busy or gone from "
		    "%s/, not removed\n", id, eh_folder_name(f));
	return r;
}

int
cmd_purge(struct ctl *ctl, int argc, char *argv[])
{
	struct eh_queue q;
	enum eh_folder f;
	enum eh_err err;
	const char *older = NULL, *folder = NULL;
	unsigned long removed = 0, bad = 0;
	int64_t min_age = 0;
	char **ids;
	size_t n, i;
	int nids = 0, opts = 1, rc, a, fi;

	if (ctl_wants_help(argc, argv))
		return help("purge", ctl_usage_purge);
	for (a = 1; a < argc; a++) {
		if (opts && strcmp(argv[a], "--") == 0)
			opts = 0;
		else if (opts && strcmp(argv[a], "--older-than") == 0) {
			if (++a == argc)
				return ctl_usage(ctl_usage_purge,
				    "purge: --older-than needs a duration");
			older = argv[a];
		} else if (opts && strncmp(argv[a], "--older-than=", 13) == 0)
			older = argv[a] + 13;
		else if (opts && argv[a][0] == '-')
			return ctl_usage(ctl_usage_purge,
			    "purge: unknown option %s", argv[a]);
		else if (eh_folder_parse(argv[a]) >= 0) {
			if (folder != NULL)
				return ctl_usage(ctl_usage_purge,
				    "purge: one folder only");
			folder = argv[a];
		} else
			nids++;
	}
	if (folder != NULL && nids > 0)
		return ctl_usage(ctl_usage_purge,
		    "purge: a folder or ids, not both");
	if (folder != NULL) {
		fi = eh_folder_parse(folder);
		if (fi != EH_F_DONE && fi != EH_F_FAILED)
			return ctl_usage(ctl_usage_purge, "purge: by age "
			    "only done or failed, not %s", folder);
		if (older == NULL)
			return ctl_usage(ctl_usage_purge,
			    "purge: %s needs --older-than DUR", folder);
		if (eh_duration_parse(older, &min_age) != EH_OK)
			return ctl_usage(ctl_usage_purge,
			    "purge: not a duration: %s", older);
	} else if (nids == 0)
		return ctl_usage(ctl_usage_purge,
		    "purge: what to purge? (done, failed, or ids)");
	else if (older != NULL)
		return ctl_usage(ctl_usage_purge,
		    "purge: --older-than goes with done or failed, not ids");
	rc = ctl_open_queue(ctl, &q);
	if (rc != 0)
		return rc;
	if (folder != NULL) {
		f = (enum eh_folder)eh_folder_parse(folder);
		err = eh_view_older(&q, f, min_age, eh_now_ms(), &ids, &n);
		if (err != EH_OK)
			return spool_error("purge", &q, err);
		/* One busy or gone meanwhile is no error: it moved on. */
		for (i = 0; i < n; i++) {
			rc = purge_one(&q, ids[i], f, 1);
			if (rc == 1)
				removed++;
			else if (rc < 0)
				bad++;
		}
		eh_ids_free(ids, n);
		eh_queue_close(&q);
		printf("purge: %lu event(s) removed from %s/\n", removed,
		    folder);
		return flushed("purge", bad ? CTL_EXIT_FAILED : 0);
	}
	opts = 1;
	for (a = 1; a < argc; a++) {
		if (opts && strcmp(argv[a], "--") == 0) {
			opts = 0;
			continue;
		}
		if (find_event(&q, "purge", argv[a], &f) != 0)
			bad++;
		else if (f == EH_F_NEW || f == EH_F_CUR) {
			fprintf(stderr, "esignhookctl: purge: %s: in %s/, "
			    "not processed yet: not purged\n", argv[a],
			    eh_folder_name(f));
			bad++;
		} else if (purge_one(&q, argv[a], f, 0) == 1)
			removed++;
		else
			bad++;
	}
	eh_queue_close(&q);
	printf("purge: %lu event(s) removed\n", removed);
	return flushed("purge", bad ? CTL_EXIT_FAILED : 0);
}
