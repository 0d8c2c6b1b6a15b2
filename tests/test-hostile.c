/*
 * The hostile corpus (tests/data/hostile/NAME.req, made by
 * tests/data/make-hostile.py) through eh_serve with a real spool and a
 * body reader: each case gets its expected status; one refused stores
 * nothing and, refused before authentication, has none of its body
 * read; one authenticated is stored with exactly the problems it
 * should have; nothing is left in tmp/, and no reply or record carries
 * a secret.
 */
#include <dirent.h>
#include <stdlib.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "../lib/esignhook.h"
#include "t.h"

#define KEY "hostile-onespan-key-0123456789"
#define TOK "hostile-url-token-0123456789"
#define CID "hostile-client"
#define SEC "hostile-oauth-secret-0123456789"
#define NVARS 16
#define NEXPECT 16

struct hcase {
	int expect;
	char *key[NVARS], *val[NVARS];
	size_t n;
	char *ekey[NEXPECT], *eval[NEXPECT];  /* the expect-* lines */
	size_t ne;
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
		    c->n == NVARS || c->ne == NEXPECT)
			return -1;
		*eq = *nl = '\0';
		if (strncmp(p, "expect-", 7) == 0) {
			c->ekey[c->ne] = p + 7;
			c->eval[c->ne] = eq + 1;
			unescape(c->eval[c->ne]);
			c->ne++;
		} else {
			c->key[c->n] = p;
			c->val[c->n] = eq + 1;
			unescape(c->val[c->n]);
			c->n++;
		}
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

/* The value of expect-key, or NULL; with i, the i-th such line. */
static const char *
expect_n(const struct hcase *c, const char *key, size_t i)
{
	size_t k;

	for (k = 0; k < c->ne; k++)
		if (strcmp(c->ekey[k], key) == 0 && i-- == 0)
			return c->eval[k];
	return NULL;
}

static const char *
expect(const struct hcase *c, const char *key)
{
	return expect_n(c, key, 0);
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

/* Empty dir (files and directories in it), keeping dir itself. */
static void
empty_dir(const char *dir)
{
	DIR *dp;
	struct dirent *de;
	char path[1024];

	if ((dp = opendir(dir)) == NULL)
		return;
	while ((de = readdir(dp)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		t_rmtree(path);
	}
	closedir(dp);
}

/* The one record in dir: its bytes (malloc'd), or NULL. */
static char *
only_record(const char *dir, size_t *len)
{
	DIR *dp;
	struct dirent *de;
	char path[1024], *buf = NULL;

	if ((dp = opendir(dir)) == NULL)
		return NULL;
	while ((de = readdir(dp)) != NULL)
		if (de->d_name[0] != '.') {
			snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
			buf = t_read_file(path, len);
			break;
		}
	closedir(dp);
	return buf;
}

/* A record's string field against an expect- value ("null": null). */
static void
check_str(const char *got, const char *want)
{
	if (want == NULL)
		return;
	if (strcmp(want, "null") == 0)
		T_CHECK(got == NULL);
	else
		T_EQ_STR(got, want);
}

/* The stored record against the case's expect- lines. */
static void
check_record(const struct hcase *c, const struct eh_request *req,
    const char *rec, size_t len)
{
	struct eh_record r;
	const char *want, *raw;
	unsigned char *bin;
	size_t i, k, binlen, nwant = 0;
	json_t *p;
	int found;

	T_CHECK(strstr(rec, KEY) == NULL && strstr(rec, TOK) == NULL &&
	    strstr(rec, SEC) == NULL);
	T_EQ_INT(eh_record_parse(&r, rec, len), EH_OK);
	if (r.json == NULL)
		return;
	for (i = 0; (want = expect_n(c, "problem", i)) != NULL; i++) {
		nwant++;
		found = 0;
		p = r.problems;
		for (k = 0; p != NULL && k < json_array_size(p); k++)
			if (strstr(json_string_value(json_array_get(p, k)),
			    want) != NULL)
				found = 1;
		if (!found)
			fprintf(stderr, "  no problem like \"%s\"\n", want);
		T_CHECK(found);
	}
	if (nwant == 0)
		T_CHECK(r.problems == NULL);
	else
		T_EQ_INT(r.known_event, 0);
	raw = expect(c, "raw");
	if (raw != NULL) {
		const char *src = strcmp(raw, "query") == 0 ? req->query :
		    c->body;
		size_t srclen = strcmp(raw, "query") == 0 ?
		    strlen(req->query) : c->body_len;

		T_CHECK(r.data == NULL && r.raw != NULL);
		T_CHECK(r.event == NULL && r.transaction_id == NULL);
		bin = malloc(srclen + 1);
		binlen = 0;
		T_CHECK(r.raw != NULL && sodium_base642bin(bin, srclen + 1,
		    r.raw, strlen(r.raw), NULL, &binlen, NULL,
		    sodium_base64_VARIANT_ORIGINAL) == 0);
		T_EQ_INT(binlen, srclen);
		T_CHECK(binlen == srclen && memcmp(bin, src, srclen) == 0);
		free(bin);
	} else
		T_CHECK(r.data != NULL && r.raw == NULL);
	check_str(r.event, expect(c, "event"));
	check_str(r.transaction_id, expect(c, "transaction_id"));
	for (i = 0; (want = expect_n(c, "field", i)) != NULL; i++) {
		const char *eq = strchr(want, '=');
		char name[256];

		T_CHECK(eq != NULL && (size_t)(eq - want) < sizeof(name));
		if (eq == NULL || (size_t)(eq - want) >= sizeof(name))
			continue;
		memcpy(name, want, (size_t)(eq - want));
		name[eq - want] = '\0';
		T_EQ_STR(json_string_value(json_object_get(r.data, name)),
		    eq + 1);
	}
	T_CHECK(json_object_get(r.data, "token") == NULL);
	eh_record_free(&r);
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
	char *buf, *rec, dir[512];
	const char *read;
	size_t len, rlen;
	int bad = t_failed;

	if ((buf = t_read_file(path, &len)) == NULL || parse_case(&c, buf,
	    len) != 0 || (read = expect(&c, "read")) == NULL) {
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
	req.now = 1800000000;
	req.body_state = EH_BODY_UNREAD;
	m.p = c.body;
	m.left = c.body_len;
	eh_serve(&d, &out, &req, cfg, sp, mem_read, &m);
	T_EQ_INT(d.resp.status, c.expect);
	/* Refused before authentication: not a byte of the body read. */
	if (strcmp(read, "no") == 0)
		T_EQ_INT(m.left, c.body_len);
	else
		T_CHECK(m.left < c.body_len || c.body_len == 0);
	T_CHECK(strstr(d.resp.body, KEY) == NULL);
	T_CHECK(strstr(d.resp.body, TOK) == NULL);
	T_CHECK(strstr(d.resp.body, SEC) == NULL);
	/* No case is a good token request: no token handed out. */
	T_CHECK(strstr(d.resp.body, "access_token") == NULL);
	T_CHECK(strpbrk(d.resp.body, "\r") == NULL);
	T_CHECK(strstr(out.problems, KEY) == NULL &&
	    strstr(out.problems, TOK) == NULL);
	snprintf(dir, sizeof(dir), "%s/new", spool);
	if (c.expect == 200) {
		T_EQ_INT(strlen(out.id), EH_ID_LEN);
		T_EQ_INT(t_count_files(dir), 1);
		T_CHECK((out.problems[0] != '\0') ==
		    (expect(&c, "problem") != NULL));
		rec = only_record(dir, &rlen);
		T_CHECK(rec != NULL);
		if (rec != NULL)
			check_record(&c, &req, rec, rlen);
		free(rec);
	} else {
		T_CHECK(out.id[0] == '\0');
		T_EQ_INT(t_count_files(dir), 0);
	}
	empty_dir(dir);
	snprintf(dir, sizeof(dir), "%s/seen", spool);
	empty_dir(dir);
	snprintf(dir, sizeof(dir), "%s/tmp", spool);
	T_EQ_INT(t_count_files(dir), 0);
	if (t_failed != bad)
		fprintf(stderr, "  case %s\n", path);
	eh_decision_free(&d);
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
	    "\nESIGNHOOK_OAUTH_CLIENT_ID=" CID
	    "\nESIGNHOOK_OAUTH_CLIENT_SECRETS=" SEC
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
	/* The corpus must not shrink (176 cases before issue 9 added token
	 * requests, multipart bodies and Bearer headers). */
	T_CHECK(n >= 265);
	printf("     hostile cases run: %zu\n", n);
	eh_spool_close(&sp);
	eh_config_free(&cfg);
	t_rmtree(tmp);
	free(tmp);
}

const struct t_case t_hostile[] = {
	{ "every hostile case: its status, stored only when authenticated",
	  corpus },
	{ NULL, NULL }
};
