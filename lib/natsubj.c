/*
 * NATS subjects and names, and consume's one decision: pure functions,
 * no libnats.  They live apart from lib/nats.c so that the
 * configuration (lib/ctlconfig.c, which the receiver links too) can
 * check a subject template without pulling libnats into the receiver.
 *
 * A subject is tokens separated by '.'; a token is never empty and
 * holds no blank; '*' and '>' are wildcards
 * (https://docs.nats.io/nats-concepts/subjects).
 */
#include <stdlib.h>
#include <string.h>

#include "esignhook.h"
#include "extern.h"

/* At most this much of one value goes into a subject: subjects are for
 * filtering, the record itself says everything in full. */
#define SUBJECT_VALUE_MAX 128
/* A template's own length, and so a subject's with its values. */
#define TEMPLATE_MAX 255

enum ph {
	PH_NONE = -1,
	PH_PROVIDER = 0,
	PH_EVENT,
	PH_TRANSACTION_ID
};

static const char *const ph_names[] = { "provider", "event",
    "transaction_id" };

/* The placeholder named p[0..n), or PH_NONE. */
static enum ph
ph_lookup(const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < sizeof(ph_names) / sizeof(ph_names[0]); i++)
		if (strlen(ph_names[i]) == n && memcmp(ph_names[i], p, n) == 0)
			return (enum ph)i;
	return PH_NONE;
}

/*
 * At *s a '{': the placeholder it opens, *s moved past its '}'.
 * PH_NONE (and *s unmoved) for an unknown name or no '}'.
 */
static enum ph
ph_take(const char **s)
{
	const char *e;
	enum ph ph;

	e = strchr(*s + 1, '}');
	if (e == NULL)
		return PH_NONE;
	ph = ph_lookup(*s + 1, (size_t)(e - *s - 1));
	if (ph != PH_NONE)
		*s = e + 1;
	return ph;
}

/* A byte a template may hold outside placeholders: printable ASCII
 * but blank, the wildcards and the braces. */
static int
literal_ok(unsigned char c)
{
	return c > 0x20 && c < 0x7f && c != '*' && c != '>' && c != '{' &&
	    c != '}';
}

int
eh__nats_template_ok(const char *t)
{
	const char *p = t;
	int token_len = 0;

	if (strlen(t) == 0 || strlen(t) > TEMPLATE_MAX)
		return 0;
	while (*p != '\0') {
		if (*p == '{') {
			if (ph_take(&p) == PH_NONE)
				return 0;
			token_len++;
		} else if (*p == '.') {
			if (token_len == 0)
				return 0;
			token_len = 0;
			p++;
		} else if (literal_ok((unsigned char)*p)) {
			token_len++;
			p++;
		} else
			return 0;
	}
	return token_len > 0;
}

/* The length of the UTF-8 sequence at s (of at most n bytes), or 0
 * when it is not a valid one. */
static size_t
utf8_len(const char *s, size_t n)
{
	unsigned char c = (unsigned char)*s;
	size_t k;

	k = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 0;
	if (k == 0 || k > n || !eh_utf8_valid(s, k))
		return 0;
	return k;
}

/*
 * Append v (NULL or "": "_") to out[*len], at most SUBJECT_VALUE_MAX
 * bytes of it, each character a token cannot hold as '_': a blank, a
 * control, '.', '*', '>', and anything not ASCII (one '_' for a whole
 * UTF-8 character, one per byte of an invalid sequence).
 */
static void
put_value(char *out, size_t *len, const char *v)
{
	size_t i = 0, n, k, used = 0;
	unsigned char c;

	if (v == NULL || *v == '\0') {
		out[(*len)++] = '_';
		return;
	}
	n = strlen(v);
	while (i < n && used < SUBJECT_VALUE_MAX) {
		c = (unsigned char)v[i];
		if (c >= 0x80) {
			k = utf8_len(v + i, n - i);
			i += k > 0 ? k : 1;
			out[(*len)++] = '_';
		} else {
			out[(*len)++] = c <= 0x20 || c == 0x7f || c == '.' ||
			    c == '*' || c == '>' ? '_' : (char)c;
			i++;
		}
		used++;
	}
}

char *
eh_nats_subject(const char *tmpl, const struct eh_record *rec)
{
	const char *p = tmpl, *v;
	char *out;
	size_t len = 0, cap, nph = 0;
	enum ph ph;

	for (p = tmpl; *p != '\0'; p++)
		if (*p == '{')
			nph++;
	cap = strlen(tmpl) + nph * SUBJECT_VALUE_MAX + 1;
	out = malloc(cap);
	if (out == NULL)
		return NULL;
	p = tmpl;
	while (*p != '\0') {
		if (*p != '{') {
			out[len++] = *p++;
			continue;
		}
		ph = ph_take(&p);
		if (ph == PH_NONE) {
			free(out);
			return NULL;
		}
		v = NULL;
		if (rec != NULL)
			v = ph == PH_PROVIDER ? rec->provider :
			    ph == PH_EVENT ? rec->event : rec->transaction_id;
		put_value(out, &len, v);
	}
	out[len] = '\0';
	return out;
}

/*
 * Copy the template's tokens into a new string: with wild, each token
 * holding a placeholder as "*" (the pattern of every subject the
 * template makes); without, only the tokens before the first such
 * token, then ">" (NULL when the first token holds one).
 */
static char *
template_tokens(const char *tmpl, int wild)
{
	const char *p = tmpl, *start;
	char *out;
	size_t len = 0;
	int has_ph;

	out = malloc(strlen(tmpl) + 3);
	if (out == NULL)
		return NULL;
	while (*p != '\0') {
		start = p;
		has_ph = 0;
		while (*p != '\0' && *p != '.') {
			if (*p == '{')
				has_ph = 1;
			p++;
		}
		if (has_ph && !wild) {
			if (len == 0) {
				free(out);
				return NULL;
			}
			memcpy(out + len, ">", 1);
			len++;
			break;
		}
		if (has_ph)
			out[len++] = '*';
		else {
			memcpy(out + len, start, (size_t)(p - start));
			len += (size_t)(p - start);
		}
		if (*p == '.') {
			out[len++] = '.';
			p++;
		}
	}
	out[len] = '\0';
	return out;
}

char *
eh_nats_stream_subject(const char *tmpl)
{
	if (!eh__nats_template_ok(tmpl))
		return NULL;
	return template_tokens(tmpl, 0);
}

char *
eh_nats_subject_pattern(const char *tmpl)
{
	if (!eh__nats_template_ok(tmpl))
		return NULL;
	return template_tokens(tmpl, 1);
}

/* The next token of *s (moved past it and its '.'): its length. */
static size_t
next_token(const char **s, const char **tok)
{
	const char *e;
	size_t n;

	*tok = *s;
	e = strchr(*s, '.');
	if (e == NULL) {
		n = strlen(*s);
		*s += n;
	} else {
		n = (size_t)(e - *s);
		*s = e + 1;
	}
	return n;
}

int
eh_nats_subject_covers(const char *filter, const char *pattern)
{
	const char *f = filter, *p = pattern, *ft, *pt;
	size_t fn, pn;

	while (*f != '\0' && *p != '\0') {
		fn = next_token(&f, &ft);
		pn = next_token(&p, &pt);
		if (fn == 1 && *ft == '>')
			return 1;
		if (pn == 1 && *pt == '>')
			return 0;       /* only '>' takes every tail */
		if (fn == 1 && *ft == '*')
			continue;
		if (pn == 1 && *pt == '*')
			return 0;       /* a literal takes one value only */
		if (fn != pn || memcmp(ft, pt, fn) != 0)
			return 0;
	}
	return *f == '\0' && *p == '\0';
}

int
eh_nats_name_ok(const char *name)
{
	size_t i;

	for (i = 0; name[i] != '\0'; i++)
		if ((unsigned char)name[i] <= 0x20 ||
		    (unsigned char)name[i] >= 0x7f || name[i] == '.' ||
		    name[i] == '*' || name[i] == '>' || name[i] == '/' ||
		    name[i] == '\\' || i >= EH_NATS_NAME_MAX)
			return 0;
	return i > 0;
}

void
eh_consume_decide(struct eh_consume_decision *d,
    const struct eh_ctl_config *cfg, enum eh_result r, int parsed,
    uint64_t delivered, double jitter)
{
	int64_t ms;

	memset(d, 0, sizeof(*d));
	if (delivered == 0)
		delivered = 1;
	if (!parsed || r == EH_RES_PERM) {
		d->verdict = EH_CONSUME_TERM;
		return;
	}
	if (r == EH_RES_OK) {
		d->verdict = EH_CONSUME_ACK;
		return;
	}
	/* The schedule's waits are between deliveries 1-2, 2-3, ...: after
	 * the last delivery there is none, MaxDeliver would drop it. */
	if (delivered > cfg->schedule_n) {
		d->verdict = EH_CONSUME_TERM;
		d->last = 1;
		return;
	}
	d->verdict = EH_CONSUME_NAK;
	ms = cfg->schedule_ms[delivered - 1];
	if (jitter > 0)
		ms = (int64_t)((double)ms * jitter);
	d->delay_ms = ms;
}

const char *
eh_consume_verdict_name(enum eh_consume_verdict v)
{
	switch (v) {
	case EH_CONSUME_ACK:
		return "ack";
	case EH_CONSUME_TERM:
		return "term";
	case EH_CONSUME_NAK:
		return "nak";
	}
	return "?";
}

int64_t
eh_nats_dup_window(const struct eh_ctl_config *cfg, int *capped)
{
	int64_t total = 0, ms;
	size_t i;

	*capped = 0;
	for (i = 0; i < cfg->schedule_n; i++) {
		total += cfg->schedule_ms[i];
		if (total > EH_NATS_DUP_WINDOW_MAX_MS)
			break;
	}
	/* The drainer's jitter stretches a wait by up to a fifth. */
	if (total > EH_NATS_DUP_WINDOW_MAX_MS) {
		*capped = 1;
		return EH_NATS_DUP_WINDOW_MAX_MS;
	}
	ms = total + total / 5 + EH_NATS_DUP_WINDOW_MIN_MS;
	/* Whole seconds: JetStream shows it so, and so do we. */
	ms = (ms + 999) / 1000 * 1000;
	if (ms > EH_NATS_DUP_WINDOW_MAX_MS) {
		*capped = 1;
		ms = EH_NATS_DUP_WINDOW_MAX_MS;
	}
	return ms;
}

int
eh_consume_unreadable(enum eh_err e)
{
	/* Out of memory, say, is this consumer's trouble, not the
	 * message's: it goes back for another try. */
	return e != EH_OK && e != EH_ERR_NOMEM;
}
