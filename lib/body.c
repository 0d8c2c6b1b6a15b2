/*
 * Reading a request body through a callback (read(2) on stdin for CGI,
 * FCGX_GetStr for FastCGI), bounded by ESIGNHOOK_MAX_BODY before a byte
 * is read.
 */
#include <stdlib.h>
#include <string.h>

#include "esignhook.h"
#include "extern.h"

#define CHUNK 4096

/* Read up to want bytes into buf; returns how many, or -1 on error. */
static long
read_upto(char *buf, size_t want, eh_read_fn read_fn, void *ctx)
{
	size_t got = 0;
	long n;

	while (got < want) {
		n = read_fn(ctx, buf + got, want - got);
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (long)got;
}

enum eh_err
eh_read_body(struct eh_request *req, char **buf, size_t max_body,
    eh_read_fn read_fn, void *ctx)
{
	size_t declared, cap, len = 0, want;
	char *p, *np;
	long n;
	int known;

	*buf = NULL;
	req->body = NULL;
	req->body_len = 0;
	if (eh_content_length(req->content_length, max_body, &declared,
	    &known) != EH_OK) {
		/* Refused before reading: the handler says why. */
		req->body_state = EH_BODY_UNREAD;
		return EH_OK;
	}
	if (known) {
		p = malloc(declared + 1);
		if (p == NULL)
			return EH_ERR_NOMEM;
		n = read_upto(p, declared, read_fn, ctx);
		req->body_state = n < 0 ? EH_BODY_IOERR :
		    (size_t)n < declared ? EH_BODY_SHORT : EH_BODY_OK;
		len = n < 0 ? 0 : (size_t)n;
	} else {
		/* No length: read to the end, but never past max_body + 1. */
		cap = CHUNK < max_body + 1 ? CHUNK : max_body + 1;
		p = malloc(cap + 1);
		if (p == NULL)
			return EH_ERR_NOMEM;
		req->body_state = EH_BODY_OK;
		for (;;) {
			if (len == cap) {
				if (cap == max_body + 1) {
					req->body_state = EH_BODY_OVER;
					break;
				}
				cap = cap * 2 < max_body + 1 ? cap * 2 :
				    max_body + 1;
				np = realloc(p, cap + 1);
				if (np == NULL) {
					free(p);
					return EH_ERR_NOMEM;
				}
				p = np;
			}
			want = cap - len;
			n = read_fn(ctx, p + len, want);
			if (n < 0) {
				req->body_state = EH_BODY_IOERR;
				break;
			}
			if (n == 0)
				break;
			len += (size_t)n;
		}
		if (len > max_body)
			req->body_state = EH_BODY_OVER;
	}
	p[len] = '\0';
	*buf = p;
	req->body = p;
	req->body_len = len;
	return EH_OK;
}
