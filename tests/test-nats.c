/*
 * lib/natsubj.c: subjects from the template, the stream's subjects,
 * names, consume's decision; and the ESIGNHOOK_NATS_* keys.  What needs
 * a server is in tests/e2e-nats*.sh.
 */
#include <stdlib.h>

#include "../lib/esignhook.h"
#include "t.h"

static const char long_id[] =
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
    "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

static const struct {
	const char *tmpl, *provider, *event, *txn;
	const char *want;       /* NULL: refused */
} subjects[] = {
	{ EH_NATS_DEFAULT_SUBJECT, "onespan", "PACKAGE_COMPLETE", "p1",
	    "esign.onespan.PACKAGE_COMPLETE" },
	{ "esign.{provider}.{event}.{transaction_id}", "alphatrust",
	    "TXStatus", "12345", "esign.alphatrust.TXStatus.12345" },
	{ "x.{transaction_id}", "onespan", "E", "5n4obeO8jYoPp126Cm-Y3fxdfbo=",
	    "x.5n4obeO8jYoPp126Cm-Y3fxdfbo=" },
	/* Placeholders inside a token, and a template with none. */
	{ "t.{provider}-{event}", "onespan", "E", NULL, "t.onespan-E" },
	{ "plain.subject", "onespan", "E", NULL, "plain.subject" },
	/* A value cannot add tokens or wildcards. */
	{ "e.{event}", "onespan", "a.b", NULL, "e.a_b" },
	{ "e.{event}", "onespan", "a b", NULL, "e.a_b" },
	{ "e.{event}", "onespan", "*", NULL, "e._" },
	{ "e.{event}", "onespan", ">", NULL, "e._" },
	{ "e.{event}", "onespan", "a\tb\nc\x7f", NULL, "e.a_b_c_" },
	{ "e.{transaction_id}", "onespan", "E", "a.*.>", "e.a____" },
	/* UTF-8: one '_' per character; a broken sequence, one per byte. */
	{ "e.{transaction_id}", "onespan", "E", "Z\xc3\xbcrich", "e.Z_rich" },
	{ "e.{transaction_id}", "onespan", "E", "\xe2\x82\xac!", "e._!" },
	{ "e.{transaction_id}", "onespan", "E", "a\xc3z", "e.a_z" },
	{ "e.{transaction_id}", "onespan", "E", "\xff\xfe", "e.__" },
	/* Missing values: "_", never an empty token. */
	{ "e.{event}.{transaction_id}", "onespan", NULL, NULL, "e._._" },
	{ "e.{event}", "onespan", "", NULL, "e._" },
	/* Kept: bytes a subject can hold. */
	{ "e.{event}", "onespan", "a$b{c}", NULL, "e.a$b{c}" },
	/* Bounded: 128 bytes of a long value. */
	{ "e.{transaction_id}", "onespan", "E", long_id,
	    "e.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" },
	/* Unknown or unclosed placeholders. */
	{ "e.{evnt}", "onespan", "E", NULL, NULL },
	{ "e.{event", "onespan", "E", NULL, NULL },
	{ "e.{}", "onespan", "E", NULL, NULL },
	{ "e.{Event}", "onespan", "E", NULL, NULL },
};

static void
subject_table(void)
{
	struct eh_record rec;
	char *s;
	size_t i;

	for (i = 0; i < sizeof(subjects) / sizeof(subjects[0]); i++) {
		memset(&rec, 0, sizeof(rec));
		rec.id = "20261122T113204.123456Z-0123456789abcdef";
		rec.provider = subjects[i].provider;
		rec.event = subjects[i].event;
		rec.transaction_id = subjects[i].txn;
		s = eh_nats_subject(subjects[i].tmpl, &rec);
		if (subjects[i].want == NULL)
			T_CHECK(s == NULL);
		else
			T_EQ_STR(s, subjects[i].want);
		if (s != NULL && subjects[i].want == NULL)
			fprintf(stderr, "  row %zu: got %s\n", i, s);
		free(s);
	}
	/* No record at all: every value missing. */
	s = eh_nats_subject("e.{provider}.{event}", NULL);
	T_EQ_STR(s, "e._._");
	free(s);
}

static const struct {
	const char *tmpl;
	const char *stream;     /* NULL: none (first token has one) */
	const char *pattern;    /* NULL: not a template */
} streams[] = {
	{ EH_NATS_DEFAULT_SUBJECT, "esign.>", "esign.*.*" },
	{ "esign.{provider}.{event}.{transaction_id}", "esign.>",
	    "esign.*.*.*" },
	{ "a.b.{event}", "a.b.>", "a.b.*" },
	{ "a.b-{event}.c", "a.>", "a.*.c" },
	{ "plain.subject", "plain.subject", "plain.subject" },
	{ "{provider}.events", NULL, "*.events" },
	{ "x{provider}.events", NULL, "*.events" },
	{ "", NULL, NULL },
	{ "a..b", NULL, NULL },
	{ ".a", NULL, NULL },
	{ "a.", NULL, NULL },
	{ "a.*", NULL, NULL },
	{ "a.>", NULL, NULL },
	{ "a b.c", NULL, NULL },
	{ "a.{nope}", NULL, NULL },
	{ "a.}", NULL, NULL },
	{ "a.\x01", NULL, NULL },
	{ "a.\xc3\xbc", NULL, NULL },
};

static void
stream_subjects(void)
{
	char *s, *p;
	size_t i;

	for (i = 0; i < sizeof(streams) / sizeof(streams[0]); i++) {
		s = eh_nats_stream_subject(streams[i].tmpl);
		p = eh_nats_subject_pattern(streams[i].tmpl);
		if (streams[i].stream == NULL)
			T_CHECK(s == NULL);
		else
			T_EQ_STR(s, streams[i].stream);
		if (streams[i].pattern == NULL)
			T_CHECK(p == NULL);
		else
			T_EQ_STR(p, streams[i].pattern);
		/* What nats-setup creates takes what the template makes. */
		if (s != NULL && p != NULL)
			T_CHECK(eh_nats_subject_covers(s, p));
		free(s);
		free(p);
	}
}

static const struct {
	const char *filter, *pattern;
	int covers;
} covers[] = {
	{ "esign.>", "esign.*.*", 1 },
	{ ">", "esign.*.*", 1 },
	{ "*.>", "esign.*.*", 1 },
	{ "esign.*.*", "esign.*.*", 1 },
	{ "esign.*.>", "esign.*.*", 1 },
	{ "esign.onespan.*", "esign.*.*", 0 },
	{ "esign.*", "esign.*.*", 0 },
	{ "esign.*.*.*", "esign.*.*", 0 },
	{ "other.>", "esign.*.*", 0 },
	{ "esign", "esign.*.*", 0 },
	{ "esign.*.*", "esign.>", 0 },
	{ "esign.>", "esign.>", 1 },
	{ "plain.subject", "plain.subject", 1 },
	{ "plain.subjects", "plain.subject", 0 },
	{ "plain", "plain.subject", 0 },
};

static void
covers_table(void)
{
	size_t i;

	for (i = 0; i < sizeof(covers) / sizeof(covers[0]); i++)
		if (eh_nats_subject_covers(covers[i].filter,
		    covers[i].pattern) != covers[i].covers) {
			fprintf(stderr, "  %s covers %s: expected %d\n",
			    covers[i].filter, covers[i].pattern,
			    covers[i].covers);
			t_failed++;
		}
}

static void
names(void)
{
	char big[EH_NATS_NAME_MAX + 2];

	T_CHECK(eh_nats_name_ok("ESIGNHOOK"));
	T_CHECK(eh_nats_name_ok("tenant-1_events"));
	T_CHECK(!eh_nats_name_ok(""));
	T_CHECK(!eh_nats_name_ok("a b"));
	T_CHECK(!eh_nats_name_ok("a.b"));
	T_CHECK(!eh_nats_name_ok("a*"));
	T_CHECK(!eh_nats_name_ok("a>"));
	T_CHECK(!eh_nats_name_ok("a/b"));
	T_CHECK(!eh_nats_name_ok("a\\b"));
	T_CHECK(!eh_nats_name_ok("a\tb"));
	T_CHECK(!eh_nats_name_ok("\xc3\xbc"));
	memset(big, 'a', sizeof(big) - 1);
	big[EH_NATS_NAME_MAX] = '\0';
	T_CHECK(eh_nats_name_ok(big));
	big[EH_NATS_NAME_MAX] = 'a';
	big[EH_NATS_NAME_MAX + 1] = '\0';
	T_CHECK(!eh_nats_name_ok(big));
}

/* schedule 5s,5m,30m: MaxDeliver 4. */
static const struct {
	enum eh_result r;
	int parsed;
	uint64_t delivered;
	enum eh_consume_verdict verdict;
	int64_t delay_ms;
	int last;
} decisions[] = {
	{ EH_RES_OK, 1, 1, EH_CONSUME_ACK, 0, 0 },
	{ EH_RES_OK, 1, 4, EH_CONSUME_ACK, 0, 0 },
	{ EH_RES_PERM, 1, 1, EH_CONSUME_TERM, 0, 0 },
	{ EH_RES_PERM, 1, 3, EH_CONSUME_TERM, 0, 0 },
	{ EH_RES_TEMP, 1, 1, EH_CONSUME_NAK, 5000, 0 },
	{ EH_RES_TEMP, 1, 2, EH_CONSUME_NAK, 300000, 0 },
	{ EH_RES_TEMP, 1, 3, EH_CONSUME_NAK, 1800000, 0 },
	{ EH_RES_TEMP, 1, 4, EH_CONSUME_TERM, 0, 1 },
	{ EH_RES_TEMP, 1, 9, EH_CONSUME_TERM, 0, 1 },
	/* No metadata: taken as the first delivery. */
	{ EH_RES_TEMP, 1, 0, EH_CONSUME_NAK, 5000, 0 },
	/* No record: never again, whatever the exec would say. */
	{ EH_RES_OK, 0, 1, EH_CONSUME_TERM, 0, 0 },
	{ EH_RES_TEMP, 0, 1, EH_CONSUME_TERM, 0, 0 },
};

static void
decide_table(void)
{
	struct eh_consume_decision d;
	struct eh_ctl_config c;
	size_t i;

	eh_ctl_config_init(&c);
	T_EQ_INT(eh_schedule_parse(&c, "5s,5m,30m"), EH_OK);
	for (i = 0; i < sizeof(decisions) / sizeof(decisions[0]); i++) {
		eh_consume_decide(&d, &c, decisions[i].r, decisions[i].parsed,
		    decisions[i].delivered, 1.0);
		T_EQ_INT(d.verdict, decisions[i].verdict);
		T_EQ_INT(d.delay_ms, decisions[i].delay_ms);
		T_EQ_INT(d.last, decisions[i].last);
	}
	/* Jitter scales the wait. */
	eh_consume_decide(&d, &c, EH_RES_TEMP, 1, 1, 1.2);
	T_EQ_INT(d.delay_ms, 6000);
	eh_consume_decide(&d, &c, EH_RES_TEMP, 1, 1, 0.8);
	T_EQ_INT(d.delay_ms, 4000);
	/* No retries at all: the first failure is the last. */
	T_EQ_INT(eh_schedule_parse(&c, ""), EH_OK);
	eh_consume_decide(&d, &c, EH_RES_TEMP, 1, 1, 1.0);
	T_EQ_INT(d.verdict, EH_CONSUME_TERM);
	T_EQ_INT(d.last, 1);
	T_EQ_STR(eh_consume_verdict_name(EH_CONSUME_ACK), "ack");
	T_EQ_STR(eh_consume_verdict_name(EH_CONSUME_TERM), "term");
	T_EQ_STR(eh_consume_verdict_name(EH_CONSUME_NAK), "nak");
	eh_ctl_config_free(&c);
}

static void
config_keys(void)
{
	struct t_kv kv[] = {
		{ "ESIGNHOOK_NATS_URL",
		    " nats://127.0.0.1:4222 , tls://u:p@nats.example.com:4222" },
		{ "ESIGNHOOK_NATS_EVENTS", "PACKAGE_COMPLETE, transaction" },
		{ "ESIGNHOOK_NATS_SUBJECT", "tenant1.{provider}.{event}" },
		{ "ESIGNHOOK_NATS_STREAM", "TENANT1" },
		{ "ESIGNHOOK_NATS_USER", "drainer" },
		{ "ESIGNHOOK_NATS_PASSWORD", "s3cret pass" },
		{ "ESIGNHOOK_NATS_CA", "/etc/nats/ca.pem" },
		{ "ESIGNHOOK_NATS_TIMEOUT", "750ms" },
		{ NULL, NULL }
	};
	struct eh_ctl_config c;
	const char *bad;
	char msg[256];

	eh_ctl_config_init(&c);
	T_EQ_INT(c.nats_timeout_ms, 5000);
	T_CHECK(c.nats_url == NULL && c.nats_subject == NULL &&
	    c.nats_stream == NULL);
	T_EQ_INT(eh_ctl_config_apply(&c, t_kv_lookup, kv, &bad), EH_OK);
	T_EQ_STR(c.nats_url,
	    "nats://127.0.0.1:4222,tls://u:p@nats.example.com:4222");
	T_EQ_STR(c.nats_events, "PACKAGE_COMPLETE,transaction");
	T_EQ_STR(c.nats_subject, "tenant1.{provider}.{event}");
	T_EQ_STR(c.nats_stream, "TENANT1");
	T_EQ_STR(c.nats_user, "drainer");
	T_EQ_STR(c.nats_password, "s3cret pass");
	T_EQ_STR(c.nats_ca, "/etc/nats/ca.pem");
	T_EQ_INT(c.nats_timeout_ms, 750);
	T_EQ_INT(eh_ctl_config_check(&c, msg, sizeof(msg)), EH_OK);
	eh_ctl_config_free(&c);
	T_CHECK(c.nats_url == NULL && c.nats_password == NULL);
}

static const struct {
	const char *key, *value;
} invalid[] = {
	{ "ESIGNHOOK_NATS_URL", "127.0.0.1:4222" },
	{ "ESIGNHOOK_NATS_URL", "http://127.0.0.1:4222" },
	{ "ESIGNHOOK_NATS_URL", "nats://" },
	{ "ESIGNHOOK_NATS_URL", "nats://a:1,,nats://b:2" },
	{ "ESIGNHOOK_NATS_URL", "nats://a:1," },
	{ "ESIGNHOOK_NATS_URL", "nats://a b:1" },
	{ "ESIGNHOOK_NATS_URL", "nats://a:1\n" },
	{ "ESIGNHOOK_NATS_EVENTS", "" },
	{ "ESIGNHOOK_NATS_EVENTS", "A B" },
	{ "ESIGNHOOK_NATS_SUBJECT", "esign.{evnt}" },
	{ "ESIGNHOOK_NATS_SUBJECT", "esign.{event" },
	{ "ESIGNHOOK_NATS_SUBJECT", "esign..{event}" },
	{ "ESIGNHOOK_NATS_SUBJECT", "esign.*" },
	{ "ESIGNHOOK_NATS_SUBJECT", "esign.>" },
	{ "ESIGNHOOK_NATS_SUBJECT", "esign {event}" },
	{ "ESIGNHOOK_NATS_SUBJECT", "esign.{event}." },
	{ "ESIGNHOOK_NATS_STREAM", "MY STREAM" },
	{ "ESIGNHOOK_NATS_STREAM", "MY.STREAM" },
	{ "ESIGNHOOK_NATS_STREAM", "MY*" },
	{ "ESIGNHOOK_NATS_STREAM", "MY>" },
	{ "ESIGNHOOK_NATS_STREAM", "a/b" },
	{ "ESIGNHOOK_NATS_CREDS", "user.creds" },
	{ "ESIGNHOOK_NATS_CA", "ca.pem" },
	{ "ESIGNHOOK_NATS_TOKEN", "two\nlines" },
	{ "ESIGNHOOK_NATS_TIMEOUT", "0" },
	{ "ESIGNHOOK_NATS_TIMEOUT", "soon" },
};

static void
config_invalid(void)
{
	struct eh_ctl_config c;
	struct t_kv kv[2];
	const char *bad;
	size_t i;

	for (i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++) {
		kv[0].k = invalid[i].key;
		kv[0].v = invalid[i].value;
		kv[1].k = kv[1].v = NULL;
		eh_ctl_config_init(&c);
		if (eh_ctl_config_apply(&c, t_kv_lookup, kv, &bad) !=
		    EH_ERR_CONFIG) {
			fprintf(stderr, "  %s=%s accepted\n", invalid[i].key,
			    invalid[i].value);
			t_failed++;
		} else
			T_EQ_STR(bad, invalid[i].key);
		eh_ctl_config_free(&c);
	}
}

/* The keys together: one way to authenticate, user with password. */
static const struct {
	const char *creds, *token, *user, *password;
	const char *msg;        /* NULL: fine */
} auth[] = {
	{ NULL, NULL, NULL, NULL, NULL },
	{ "/etc/nats/u.creds", NULL, NULL, NULL, NULL },
	{ NULL, "s3cr3t-tok-9f1e", NULL, NULL, NULL },
	{ NULL, NULL, "u", "s3cr3t-pw-7c2a", NULL },
	{ NULL, NULL, "u", NULL, "ESIGNHOOK_NATS_USER is set without "
	    "ESIGNHOOK_NATS_PASSWORD" },
	{ NULL, NULL, NULL, "s3cr3t-pw-7c2a", "ESIGNHOOK_NATS_PASSWORD is "
	    "set without ESIGNHOOK_NATS_USER" },
	{ NULL, "s3cr3t-tok-9f1e", "u", "s3cr3t-pw-7c2a", "set one of ESIGNHOOK_NATS_CREDS, "
	    "ESIGNHOOK_NATS_TOKEN, ESIGNHOOK_NATS_USER (with _PASSWORD), "
	    "not 2" },
	{ "/etc/nats/u.creds", "s3cr3t-tok-9f1e", NULL, NULL, "set one of "
	    "ESIGNHOOK_NATS_CREDS, ESIGNHOOK_NATS_TOKEN, ESIGNHOOK_NATS_USER "
	    "(with _PASSWORD), not 2" },
};

static void
config_auth(void)
{
	struct eh_ctl_config c;
	struct t_kv kv[5];
	char msg[256];
	size_t i, k;

	for (i = 0; i < sizeof(auth) / sizeof(auth[0]); i++) {
		k = 0;
		if (auth[i].creds != NULL) {
			kv[k].k = "ESIGNHOOK_NATS_CREDS";
			kv[k++].v = auth[i].creds;
		}
		if (auth[i].token != NULL) {
			kv[k].k = "ESIGNHOOK_NATS_TOKEN";
			kv[k++].v = auth[i].token;
		}
		if (auth[i].user != NULL) {
			kv[k].k = "ESIGNHOOK_NATS_USER";
			kv[k++].v = auth[i].user;
		}
		if (auth[i].password != NULL) {
			kv[k].k = "ESIGNHOOK_NATS_PASSWORD";
			kv[k++].v = auth[i].password;
		}
		kv[k].k = kv[k].v = NULL;
		eh_ctl_config_init(&c);
		T_EQ_INT(eh_ctl_config_apply(&c, t_kv_lookup, kv, NULL), EH_OK);
		if (auth[i].msg == NULL)
			T_EQ_INT(eh_ctl_config_check(&c, msg, sizeof(msg)),
			    EH_OK);
		else {
			T_EQ_INT(eh_ctl_config_check(&c, msg, sizeof(msg)),
			    EH_ERR_CONFIG);
			T_EQ_STR(msg, auth[i].msg);
		}
		/* Never the secret itself (values no message could hold
		 * but for the secret). */
		T_CHECK(strstr(msg, "s3cr3t") == NULL);
		eh_ctl_config_free(&c);
	}
}

/* eh_config_load applies the check once file and environment are in:
 * a user in the file, the password in the environment, is fine. */
static void
config_load_auth(void)
{
	struct t_kv env_ok[] = {
		{ "ESIGNHOOK_NATS_USER", "u" },
		{ "ESIGNHOOK_NATS_PASSWORD", "hunter2" },
		{ NULL, NULL }
	};
	struct t_kv env_bad[] = {
		{ "ESIGNHOOK_NATS_PASSWORD", "hunter2" },
		{ NULL, NULL }
	};
	struct eh_config r;
	struct eh_ctl_config c;
	char msg[256];

	T_EQ_INT(eh_config_load(&r, &c, NULL, t_kv_lookup, env_ok, msg,
	    sizeof(msg)), EH_OK);
	eh_config_free(&r);
	eh_ctl_config_free(&c);
	T_EQ_INT(eh_config_load(&r, &c, NULL, t_kv_lookup, env_bad, msg,
	    sizeof(msg)), EH_ERR_CONFIG);
	T_EQ_STR(msg, "ESIGNHOOK_NATS_PASSWORD is set without "
	    "ESIGNHOOK_NATS_USER");
	T_CHECK(strstr(msg, "hunter2") == NULL);
	eh_config_free(&r);
	eh_ctl_config_free(&c);
	/* The receiver does not load the tool's keys: no check there. */
	T_EQ_INT(eh_config_load(&r, NULL, NULL, t_kv_lookup, env_bad, msg,
	    sizeof(msg)), EH_OK);
	eh_config_free(&r);
}

/* The action's row: after forward, on while ESIGNHOOK_NATS_URL is set. */
static void
action_row(void)
{
	struct eh_ctl_config c;
	size_t k;

	for (k = 0; eh_actions[k].name != NULL; k++)
		if (strcmp(eh_actions[k].name, "publish") == 0)
			break;
	T_EQ_STR(eh_actions[k].name, "publish");
	T_CHECK(k > 0 && strcmp(eh_actions[k - 1].name, "forward") == 0);
	if (eh_actions[k].name == NULL)
		return;
	eh_ctl_config_init(&c);
	T_CHECK(eh_actions[k].events(&c) == NULL);
	c.nats_url = strdup("nats://127.0.0.1:4222");
	T_EQ_STR(eh_actions[k].events(&c), "*");
	c.nats_events = strdup("PACKAGE_COMPLETE");
	T_EQ_STR(eh_actions[k].events(&c), "PACKAGE_COMPLETE");
	eh_ctl_config_free(&c);
}

/* With no connection, publishing is a temporary failure, at once. */
static void
publish_unconnected(void)
{
	struct eh_ctl_config c;
	struct eh_record rec;
	struct eh_job job;

	eh_ctl_config_init(&c);
	memset(&rec, 0, sizeof(rec));
	rec.id = "20261122T113204.123456Z-0123456789abcdef";
	rec.provider = "onespan";
	memset(&job, 0, sizeof(job));
	job.cfg = &c;
	job.rec = &rec;
	job.record = "{}\n";
	job.record_len = 3;
	T_EQ_INT(eh_publish_run(&job), EH_RES_TEMP);
	T_CHECK(strstr(job.error, "publish: ") == job.error);
	eh_ctl_config_free(&c);
}

/* The duplicate window a schedule needs: 2m + the waits * 1.2, whole
 * seconds, at most 7d. */
static void
dup_window_table(void)
{
	static const struct {
		const char *schedule;
		int64_t ms;
		int capped;
	} tab[] = {
		{ "", 120000, 0 },
		{ "1s,1s,1s", 124000, 0 },                   /* 123.6s up */
		{ "5s", 126000, 0 },
		{ "1m,1m", 264000, 0 },
		/* the default: 75h35m05s * 1.2 + 2m = 90h44m06s */
		{ "5s,5m,30m,2h,5h,10h,14h,20h,24h", 326646000, 0 },
		{ "6d", EH_NATS_DUP_WINDOW_MAX_MS, 1 },      /* 7.2d + 2m */
		{ "7d,7d,7d", EH_NATS_DUP_WINDOW_MAX_MS, 1 },
		{ "5d,18h", 596280000, 0 },                  /* 6.9d + 2m */
	};
	struct eh_ctl_config c;
	size_t i;
	int capped;

	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		eh_ctl_config_init(&c);
		T_EQ_INT(eh_schedule_parse(&c, tab[i].schedule), EH_OK);
		T_EQ_INT(eh_nats_dup_window(&c, &capped), tab[i].ms);
		T_EQ_INT(capped, tab[i].capped);
		eh_ctl_config_free(&c);
	}
}

/* consume: what a parse failure means for the message. */
static void
unreadable_table(void)
{
	static const struct {
		enum eh_err e;
		int unreadable;
	} tab[] = {
		{ EH_OK, 0 },
		{ EH_ERR_NOMEM, 0 },            /* ours: nak, another try */
		{ EH_ERR_JSON, 1 },
		{ EH_ERR_FIELD_MISSING, 1 },
		{ EH_ERR_FIELD_TYPE, 1 },
		{ EH_ERR_UTF8, 1 },
	};
	size_t i;

	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
		T_EQ_INT(eh_consume_unreadable(tab[i].e), tab[i].unreadable);
}

const struct t_case t_nats[] = {
	{ "subjects from the template (table)", subject_table },
	{ "the stream's subjects and the template's pattern",
	    stream_subjects },
	{ "a stream's subject covers a pattern (table)", covers_table },
	{ "stream and consumer names", names },
	{ "consume: exit status and delivery -> ack, term, nak (table)",
	    decide_table },
	{ "ESIGNHOOK_NATS_* keys applied", config_keys },
	{ "ESIGNHOOK_NATS_* invalid values refused, naming the key",
	    config_invalid },
	{ "credentials: one way, user with password", config_auth },
	{ "credentials checked after file and environment", config_load_auth },
	{ "the publish action's row", action_row },
	{ "publish without a connection: temporary", publish_unconnected },
	{ "the duplicate window for a schedule (table)", dup_window_table },
	{ "consume: a parse failure terminates, no memory naks (table)",
	    unreadable_table },
	{ NULL, NULL }
};
