/* lib/body.c and eh_content_length: reading bodies with bounds. */
#include <stdlib.h>

#include "../lib/esignhook.h"
#include "t.h"

struct src {
	const char *data;
	size_t len, pos, step;
	int fail_at_end;
};

static long
src_read(void *ctx, char *buf, size_t len)
{
	struct src *s = ctx;
	size_t n = s->len - s->pos;

	if (n == 0)
		return s->fail_at_end ? -1 : 0;
	if (n > len)
		n = len;
	if (s->step && n > s->step)
		n = s->step;
	memcpy(buf, s->data + s->pos, n);
	s->pos += n;
	return (long)n;
}

static const struct {
	const char *s;
	enum eh_err err;
	size_t v;
	int known;
} clens[] = {
	{ NULL, EH_OK, 0, 0 },
	{ "", EH_OK, 0, 0 },
	{ "0", EH_OK, 0, 1 },
	{ "65536", EH_OK, 65536, 1 },
	{ "0065536", EH_OK, 65536, 1 },
	{ "65537", EH_ERR_TOO_LARGE, 65537, 1 },
	{ "+5", EH_ERR_CLEN, 0, 0 },
	{ "-5", EH_ERR_CLEN, 0, 0 },
	{ " 5", EH_ERR_CLEN, 0, 0 },
	{ "5 ", EH_ERR_CLEN, 0, 0 },
	{ "5x", EH_ERR_CLEN, 0, 0 },
	{ "0x10", EH_ERR_CLEN, 0, 0 },
	{ "1e3", EH_ERR_CLEN, 0, 0 },
	{ "18446744073709551615", EH_ERR_TOO_LARGE, 18446744073709551615UL, 1 },
	{ "18446744073709551616", EH_ERR_CLEN, 0, 0 },
	{ "99999999999999999999999", EH_ERR_CLEN, 0, 0 },
};

static void
content_length(void)
{
	size_t i, v;
	int known;
	enum eh_err err;

	for (i = 0; i < sizeof(clens) / sizeof(clens[0]); i++) {
		err = eh_content_length(clens[i].s, 65536, &v, &known);
		if (err != clens[i].err)
			fprintf(stderr, "  case \"%s\"\n", clens[i].s ?
			    clens[i].s : "(null)");
		T_EQ_INT(err, clens[i].err);
		if (err != EH_ERR_CLEN) {
			T_EQ_INT(v, clens[i].v);
			T_EQ_INT(known, clens[i].known);
		}
	}
}

static enum eh_body_state
read_with(const char *clen, const char *data, size_t len, size_t max,
    size_t step, int fail, size_t *got)
{
	struct eh_request req;
	struct src s = { data, len, 0, step, fail };
	char *buf;

	memset(&req, 0, sizeof(req));
	req.content_length = clen;
	T_EQ_INT(eh_read_body(&req, &buf, max, src_read, &s), EH_OK);
	*got = req.body_len;
	if (buf != NULL && req.body_state == EH_BODY_OK)
		T_CHECK(memcmp(buf, data, req.body_len) == 0);
	free(buf);
	return req.body_state;
}

static void
reading(void)
{
	size_t got;
	char big[300];

	memset(big, 'a', sizeof(big));
	T_EQ_INT(read_with("5", "hello", 5, 100, 0, 0, &got), EH_BODY_OK);
	T_EQ_INT(got, 5);
	/* Bytes past CONTENT_LENGTH are not ours to read. */
	T_EQ_INT(read_with("3", "hello", 5, 100, 0, 0, &got), EH_BODY_OK);
	T_EQ_INT(got, 3);
	T_EQ_INT(read_with("5", "hel", 3, 100, 0, 0, &got), EH_BODY_SHORT);
	T_EQ_INT(read_with("5", "hello", 5, 100, 1, 0, &got), EH_BODY_OK);
	T_EQ_INT(read_with("101", big, 101, 100, 0, 0, &got), EH_BODY_UNREAD);
	T_EQ_INT(got, 0);
	T_EQ_INT(read_with("5x", "hello", 5, 100, 0, 0, &got), EH_BODY_UNREAD);
	T_EQ_INT(read_with("5", "hel", 3, 100, 0, 1, &got), EH_BODY_IOERR);
	/* No CONTENT_LENGTH: to the end, bounded. */
	T_EQ_INT(read_with(NULL, big, 100, 100, 7, 0, &got), EH_BODY_OK);
	T_EQ_INT(got, 100);
	T_EQ_INT(read_with("", big, 101, 100, 0, 0, &got), EH_BODY_OVER);
	T_EQ_INT(read_with(NULL, big, 300, 100, 0, 0, &got), EH_BODY_OVER);
	T_EQ_INT(read_with(NULL, "", 0, 100, 0, 0, &got), EH_BODY_OK);
	T_EQ_INT(got, 0);
	T_EQ_INT(read_with(NULL, big, 300, 5000, 13, 0, &got), EH_BODY_OK);
	T_EQ_INT(got, 300);
	T_EQ_INT(read_with(NULL, big, 10, 100, 0, 1, &got), EH_BODY_IOERR);
}

const struct t_case t_body[] = {
	{ "CONTENT_LENGTH is plain decimal", content_length },
	{ "reading with and without CONTENT_LENGTH", reading },
	{ NULL, NULL }
};
