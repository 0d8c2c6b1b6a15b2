/*
 * The hostile corpus (tests/data/hostile/NAME.req, made by
 * tests/data/make-hostile.py) through the body reader, the handler and
 * a real spool: each case gets its expected status, nothing is stored,
 * nothing is left in tmp/, and no reply carries a secret.
 */
#include <dirent.h>
#include <stdlib.h>
#include <unistd.h>

#include "../lib/esignhook.h"
#include "t.h"

#define KEY "hostile-onespan-key-0123456789"
#define TOK "hostile-url-token-0123456789"
#define NVARS 16

struct hcase {
	int expect;
	char *key[NVARS], *val[NVARS];
	size_t n;
	const char *body;
	size_t body_len;
};

static int
hexv(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ?
	    c - 'a' + 10 : -1;
}

/* Undo make-hostile.py's escapes in place. */
static void
unescape(char *s)
{
	char *d = s;

	for (; *s != '\0'; s++) {
		if (*s != '\\' || s[1] == '\0') {
			*d++ = *s;
			continue;
		}
		s++;
		if (*s == 'r')
			*d++ = '\r';
		else if (*s == 'n')
			*d++ = '\n';
		else if (*s == 't')
			*d++ = '\t';
		else if (*s == 'x' && hexv(s[1]) >= 0 && hexv(s[2]) >= 0) {
			*d++ = (char)(hexv(s[1]) << 4 | hexv(s[2]));
			s += 2;
		} else
			*d++ = *s;
	}
	*d = '\0';
}

/* Parse buf (owned by the caller, modified) into c. */
static int
parse_case(struct hcase *c, char *buf, size_t len)
{
	char *p = buf, *end = buf + len, *nl, *eq;

	memset(c, 0, sizeof(*c));
	if (strncmp(p, "expect=", 7) != 0)
		return -1;
	c->expect = (int)strtol(p + 7, NULL, 10);
	p = strchr(p, '\n') + 1;
	while (p < end && *p != '\n') {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL ||
		    (eq = memchr(p, '=', (size_t)(nl - p))) == NULL ||
		    c->n == NVARS)
			return -1;
		*eq = *nl = '\0';
		c->key[c->n] = p;
		c->val[c->n] = eq + 1;
		unescape(c->val[c->n]);
		c->n++;
		p = nl + 1;
	}
	c->body = p + 1;
	c->body_len = p < end ? (size_t)(end - p - 1) : 0;
	return 0;
}

static const char *
var(void *ctx, const char *key)
{
	const struct hcase *c = ctx;
	size_t i;

	for (i = 0; i < c->n; i++)
		if (strcmp(c->key[i], key) == 0)
			return c->val[i];
	return NULL;
}

struct mem {
	const char *p;
	size_t left;
};

static long
mem_read(void *ctx, char *buf, size_t len)
{
	struct mem *m = ctx;

	if (len > m->left)
		len = m->left;
	memcpy(buf, m->p, len);
	m->p += len;
	m->left -= len;
	return (long)len;
}

static int
run_case(const char *path, const struct eh_config *cfg,
    struct eh_spool *sp, const char *spool)
{
	struct hcase c;
	struct eh_request req;
	struct eh_decision d;
	struct eh_outcome out;
	struct mem m;
	char *buf, *body = NULL, dir[512];
	size_t len;
	int bad = t_failed;

	if ((buf = t_read_file(path, &len)) == NULL || parse_case(&c, buf,
	    len) != 0) {
		fprintf(stderr, "  %s: unreadable case\n", path);
		free(buf);
		return ++t_failed;
	}
	memset(&req, 0, sizeof(req));
	req.method = var(&c, "REQUEST_METHOD");
	req.request_uri = var(&c, "REQUEST_URI");
	req.query = var(&c, "QUERY_STRING");
	req.content_type = var(&c, "CONTENT_TYPE");
	req.content_length = var(&c, "CONTENT_LENGTH");
	req.authorization = var(&c, "HTTP_AUTHORIZATION");
	req.remote_addr = var(&c, "REMOTE_ADDR");
	m.p = c.body;
	m.left = c.body_len;
	if (req.method != NULL && strcmp(req.method, "POST") == 0)
		T_EQ_INT(eh_read_body(&req, &body, cfg->max_body, mem_read, &m),
		    EH_OK);
	eh_serve(&d, &out, &req, cfg, sp);
	T_EQ_INT(d.resp.status, c.expect);
	T_CHECK(out.id[0] == '\0');
	T_CHECK(strstr(d.resp.body, KEY) == NULL);
	T_CHECK(strstr(d.resp.body, TOK) == NULL);
	T_CHECK(strpbrk(d.resp.body, "\r") == NULL);
	snprintf(dir, sizeof(dir), "%s/new", spool);
	T_EQ_INT(t_count_files(dir), 0);
	snprintf(dir, sizeof(dir), "%s/tmp", spool);
	T_EQ_INT(t_count_files(dir), 0);
	if (t_failed != bad)
		fprintf(stderr, "  case %s\n", path);
	eh_decision_free(&d);
	free(body);
	free(buf);
	return t_failed != bad;
}

static void
corpus(void)
{
	struct eh_config cfg;
	struct eh_spool sp;
	struct eh_conffile cf;
	DIR *dp;
	struct dirent *de;
	char *tmp = t_tmpdir(), text[512], path[512];
	size_t line, n = 0;

	snprintf(text, sizeof(text), "ESIGNHOOK_SPOOL=%s\n"
	    "ESIGNHOOK_ONESPAN_KEYS=" KEY "\nESIGNHOOK_ALPHATRUST_TOKENS=" TOK
	    "\nESIGNHOOK_SPOOL_MIN_FREE=0\n", tmp);
	eh_config_init(&cfg);
	T_EQ_INT(eh_conffile_parse(&cf, text, strlen(text), &line), EH_OK);
	T_EQ_INT(eh_config_apply(&cfg, eh_conffile_lookup, &cf, NULL), EH_OK);
	eh_conffile_free(&cf);
	/* Opened ahead, so that new/ and tmp/ exist to be counted. */
	T_EQ_INT(eh_spool_open(&sp, tmp), EH_OK);
	T_CHECK((dp = opendir("tests/data/hostile")) != NULL);
	while (dp != NULL && (de = readdir(dp)) != NULL) {
		if (strstr(de->d_name, ".req") == NULL)
			continue;
		snprintf(path, sizeof(path), "tests/data/hostile/%s",
		    de->d_name);
		run_case(path, &cfg, &sp, tmp);
		n++;
	}
	if (dp != NULL)
		closedir(dp);
	/* The issue asks for at least 100; the corpus must not shrink. */
	T_CHECK(n >= 100);
	printf("     hostile cases run: %zu\n", n);
	eh_spool_close(&sp);
	eh_config_free(&cfg);
	t_rmtree(tmp);
	free(tmp);
}

const struct t_case t_hostile[] = {
	{ "every hostile case: its status, nothing stored", corpus },
	{ NULL, NULL }
};
