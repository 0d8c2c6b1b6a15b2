/*
 * multipart/form-data (RFC 7578 over RFC 2046 5.1.1) for token
 * requests, whose sender may call its setting "Form-Data": small,
 * strict and bounded like the form decoder, with the same result (a
 * struct eh_form) so that one path reads both kinds of body.  Strict
 * where leniency would let two programs read one body two ways: CRLF
 * line ends only (a bare LF ends no line and makes no delimiter), one
 * Content-Disposition per part, no file part, no transfer encoding, no
 * backslash in a quoted parameter, no header folding; what a delimiter
 * may carry (transport padding, a preamble, an epilogue) is skipped as
 * RFC 2046 says receivers must.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "esignhook.h"
#include "extern.h"

#define BOUNDARY_MAX 70         /* RFC 2046 5.1.1 */
#define MP_LINE_MAX 998         /* a header line less CRLF (RFC 5322 2.1.1) */
#define MP_HEADERS_MAX 8        /* header lines in one part */

struct param {
	const char *name, *value;
	size_t nlen, vlen;
};

/* RFC 9110 5.6.2 tchar. */
static int
is_tchar(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	    (c >= 'A' && c <= 'Z') || (c != '\0' &&
	    strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* RFC 2046 5.1.1 bchars (a space only inside, which the caller checks). */
static int
is_bchar(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	    (c >= 'A' && c <= 'Z') || (c != '\0' &&
	    strchr("'()+_,-./:=? ", c) != NULL);
}

static int
is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* Whether s[0..n) is want, compared case-insensitively (ASCII). */
static int
word_is(const char *s, size_t n, const char *want)
{
	return n == strlen(want) && eh__strncaseeq(s, want, n);
}

/*
 * The media type or disposition type want at the start of [*pp, e)
 * (after blanks, case-insensitive), ending there, at ';' or a blank:
 * 1 and *pp past it, else 0.
 */
static int
leading_type(const char **pp, const char *e, const char *want)
{
	const char *p = *pp;
	size_t n = strlen(want);

	while (p < e && is_blank(*p))
		p++;
	if ((size_t)(e - p) < n || !eh__strncaseeq(p, want, n))
		return 0;
	p += n;
	if (p < e && *p != ';' && !is_blank(*p))
		return 0;
	*pp = p;
	return 1;
}

/*
 * The next parameter (RFC 9110 5.6.6: OWS ";" OWS name "=" value, the
 * value a token or a quoted string) of a header value from *pp: 1 with
 * pm filled (a quoted value without its quotes), 0 at the end, -1 when
 * malformed.  A quoted value takes no backslash: form senders do not
 * escape (HTML encodes '"' as %22), so a backslash would be read two
 * ways; nor a control character.
 */
static int
next_param(const char **pp, const char *e, struct param *pm)
{
	const char *p = *pp;
	unsigned char c;

	while (p < e && is_blank(*p))
		p++;
	if (p == e) {
		*pp = p;
		return 0;
	}
	if (*p++ != ';')
		return -1;
	while (p < e && is_blank(*p))
		p++;
	pm->name = p;
	while (p < e && is_tchar((unsigned char)*p))
		p++;
	pm->nlen = (size_t)(p - pm->name);
	if (pm->nlen == 0 || p == e || *p != '=')
		return -1;
	p++;
	if (p < e && *p == '"') {
		pm->value = ++p;
		for (; p < e && *p != '"'; p++) {
			c = (unsigned char)*p;
			if (c == '\\' || (c < 0x20 && c != '\t') || c == 0x7f)
				return -1;
		}
		if (p == e)
			return -1;
		pm->vlen = (size_t)(p - pm->value);
		p++;
	} else {
		pm->value = p;
		while (p < e && is_tchar((unsigned char)*p))
			p++;
		pm->vlen = (size_t)(p - pm->value);
		if (pm->vlen == 0)
			return -1;
	}
	*pp = p;
	return 1;
}

/*
 * The boundary of a multipart/form-data content type into delim as
 * CRLF "--" boundary (the delimiter, RFC 2046 5.1.1), its length in
 * *dlen.  EH_OK or EH_ERR_MULTIPART (another type, no boundary or two,
 * one empty, over 70 characters, or with a character outside bchars).
 */
static enum eh_err
boundary(const char *ct, char delim[4 + BOUNDARY_MAX], size_t *dlen)
{
	const char *p = ct, *e = ct + strlen(ct);
	struct param pm;
	size_t i;
	int rc, seen = 0;

	if (!leading_type(&p, e, "multipart/form-data"))
		return EH_ERR_MULTIPART;
	for (;;) {
		rc = next_param(&p, e, &pm);
		if (rc != 1)
			break;
		if (!word_is(pm.name, pm.nlen, "boundary"))
			continue;
		if (seen || pm.vlen == 0 || pm.vlen > BOUNDARY_MAX ||
		    pm.value[pm.vlen - 1] == ' ')
			return EH_ERR_MULTIPART;
		seen = 1;
		for (i = 0; i < pm.vlen; i++)
			if (!is_bchar((unsigned char)pm.value[i]))
				return EH_ERR_MULTIPART;
		memcpy(delim, "\r\n--", 4);
		memcpy(delim + 4, pm.value, pm.vlen);
		*dlen = 4 + pm.vlen;
	}
	return rc == 0 && seen ? EH_OK : EH_ERR_MULTIPART;
}

/*
 * A part's Content-Disposition value: "form-data" with a non-empty
 * name (given once) and no filename (a file part, RFC 7578 4.2) and no
 * RFC 5987 "name*" (RFC 7578 4.2 says senders must not use it; a
 * reader that did would see another name).
 */
static enum eh_err
disposition(const char *p, const char *e, const char **name, size_t *nlen)
{
	struct param pm;
	int rc;

	*name = NULL;
	if (!leading_type(&p, e, "form-data"))
		return EH_ERR_MULTIPART;
	for (;;) {
		rc = next_param(&p, e, &pm);
		if (rc != 1)
			break;
		if (word_is(pm.name, pm.nlen, "filename") ||
		    word_is(pm.name, pm.nlen, "filename*") ||
		    word_is(pm.name, pm.nlen, "name*"))
			return EH_ERR_MULTIPART;
		if (!word_is(pm.name, pm.nlen, "name"))
			continue;
		if (*name != NULL || pm.vlen == 0)
			return EH_ERR_MULTIPART;
		*name = pm.value;
		*nlen = pm.vlen;
	}
	return rc == 0 && *name != NULL ? EH_OK : EH_ERR_MULTIPART;
}

/*
 * Content-Type of a part: text/plain.  A charset other than UTF-8 or
 * US-ASCII sets *ascii: the value must then be ASCII, the one text
 * every charset spells alike (Apache HttpClient writes ISO-8859-1
 * for every part by default).
 */
static enum eh_err
part_type(const char *p, const char *e, int *ascii)
{
	struct param pm;
	int rc;

	if (!leading_type(&p, e, "text/plain"))
		return EH_ERR_MULTIPART;
	for (;;) {
		rc = next_param(&p, e, &pm);
		if (rc != 1)
			break;
		if (word_is(pm.name, pm.nlen, "charset") &&
		    !word_is(pm.value, pm.vlen, "utf-8") &&
		    !word_is(pm.value, pm.vlen, "us-ascii"))
			*ascii = 1;
	}
	return rc == 0 ? EH_OK : EH_ERR_MULTIPART;
}

/*
 * The header lines of a part from *pos to the empty line (*pos then
 * past it): Content-Disposition once (the name into *name, *nlen,
 * pointing into body), Content-Type at most once and text/plain,
 * Content-Transfer-Encoding at most once and an identity one (7bit,
 * 8bit, binary: RFC 7578 4.7 deprecates the field; some senders still
 * write "8bit"), other fields ignored.  Lines end in CRLF, are at most
 * MP_LINE_MAX bytes and MP_HEADERS_MAX in number (EH_ERR_FORM_LIMIT).
 */
static enum eh_err
part_headers(const char *body, size_t len, size_t *pos, const char **name,
    size_t *nlen, int *ascii)
{
	const char *s, *e, *colon, *v, *ve;
	size_t i, rest, lines = 0;
	int cd = 0, ct = 0, cte = 0;
	enum eh_err err;

	*name = NULL;
	*ascii = 0;
	for (;;) {
		s = body + *pos;
		rest = len - *pos;
		for (i = 0; i < rest && i <= MP_LINE_MAX; i++)
			if (s[i] == '\r' || s[i] == '\n')
				break;
		if (i > MP_LINE_MAX)
			return EH_ERR_FORM_LIMIT;
		/* No line end, a bare LF, or a CR alone. */
		if (i == rest || s[i] == '\n' || i + 1 == rest ||
		    s[i + 1] != '\n')
			return EH_ERR_MULTIPART;
		*pos += i + 2;
		if (i == 0)
			break;
		if (++lines > MP_HEADERS_MAX)
			return EH_ERR_FORM_LIMIT;
		e = s + i;
		if (memchr(s, '\0', i) != NULL)
			return EH_ERR_FORM_NUL;
		/* RFC 9112 5.2: obsolete line folding is refused. */
		if (is_blank(*s))
			return EH_ERR_MULTIPART;
		colon = memchr(s, ':', i);
		if (colon == NULL || colon == s)
			return EH_ERR_MULTIPART;
		for (v = s; v < colon; v++)
			if (!is_tchar((unsigned char)*v))
				return EH_ERR_MULTIPART;
		for (v = colon + 1; v < e; v++)
			if (((unsigned char)*v < 0x20 && *v != '\t') ||
			    *v == 0x7f)
				return EH_ERR_MULTIPART;
		v = colon + 1;
		ve = e;
		eh__trim(&v, &ve, 0);
		if (word_is(s, (size_t)(colon - s), "content-disposition")) {
			err = cd ? EH_ERR_MULTIPART :
			    disposition(v, ve, name, nlen);
			cd = 1;
		} else if (word_is(s, (size_t)(colon - s), "content-type")) {
			err = ct ? EH_ERR_MULTIPART : part_type(v, ve, ascii);
			ct = 1;
		} else if (word_is(s, (size_t)(colon - s),
		    "content-transfer-encoding")) {
			err = cte || !(word_is(v, (size_t)(ve - v), "7bit") ||
			    word_is(v, (size_t)(ve - v), "8bit") ||
			    word_is(v, (size_t)(ve - v), "binary")) ?
			    EH_ERR_MULTIPART : EH_OK;
			cte = 1;
		} else
			err = EH_OK;
		if (err != EH_OK)
			return err;
	}
	return cd ? EH_OK : EH_ERR_MULTIPART;
}

/* Add name[0..nlen) = value[0..vlen) to f, under the form's rules. */
static enum eh_err
add_field(struct eh_form *f, const char *name, size_t nlen,
    const char *value, size_t vlen, int ascii)
{
	size_t i;

	if (f->n == EH_FORM_MAX_FIELDS || vlen > EH_FORM_VALUE_MAX)
		return EH_ERR_FORM_LIMIT;
	if (memchr(value, '\0', vlen) != NULL)
		return EH_ERR_FORM_NUL;
	if (!eh_utf8_valid(name, nlen) || !eh_utf8_valid(value, vlen))
		return EH_ERR_UTF8;
	for (i = 0; ascii && i < vlen; i++)
		if ((unsigned char)value[i] >= 0x80)
			return EH_ERR_MULTIPART;
	for (i = 0; i < f->n; i++)
		if (strlen(f->name[i]) == nlen &&
		    memcmp(f->name[i], name, nlen) == 0)
			return EH_ERR_FIELD_DUP;
	f->name[f->n] = eh__strndup(name, nlen);
	f->value[f->n] = eh__strndup(value, vlen);
	if (f->name[f->n] == NULL || f->value[f->n] == NULL) {
		free(f->name[f->n]);
		if (f->value[f->n] != NULL)
			sodium_memzero(f->value[f->n], vlen);
		free(f->value[f->n]);
		f->name[f->n] = f->value[f->n] = NULL;
		return EH_ERR_NOMEM;
	}
	f->n++;
	return EH_OK;
}

enum eh_err
eh_multipart_read(struct eh_form *f, const char *body, size_t len,
    const char *content_type)
{
	char delim[4 + BOUNDARY_MAX];
	const char *name, *next;
	size_t dlen, pos, nlen = 0;
	enum eh_err err;
	int first = 1, ascii = 0;

	memset(f, 0, sizeof(*f));
	if (content_type == NULL || body == NULL || len == 0)
		return EH_ERR_MULTIPART;
	err = boundary(content_type, delim, &dlen);
	if (err != EH_OK)
		return err;
	/* The first dash-boundary opens the body or ends the preamble's
	 * last line. */
	if (len >= dlen - 2 && memcmp(body, delim + 2, dlen - 2) == 0) {
		pos = dlen - 2;
	} else {
		next = memmem(body, len, delim, dlen);
		if (next == NULL)
			return EH_ERR_MULTIPART;
		pos = (size_t)(next - body) + dlen;
	}
	for (;;) {
		/* After a delimiter: "--" closes (an epilogue may follow a
		 * CRLF), else transport padding and CRLF open a part. */
		if (len - pos >= 2 && body[pos] == '-' && body[pos + 1] == '-') {
			pos += 2;
			while (pos < len && is_blank(body[pos]))
				pos++;
			if (first || (pos < len && (len - pos < 2 ||
			    body[pos] != '\r' || body[pos + 1] != '\n')))
				goto malformed;
			return EH_OK;
		}
		while (pos < len && is_blank(body[pos]))
			pos++;
		if (len - pos < 2 || body[pos] != '\r' || body[pos + 1] != '\n')
			goto malformed;
		pos += 2;
		err = part_headers(body, len, &pos, &name, &nlen, &ascii);
		if (err != EH_OK)
			goto fail;
		next = memmem(body + pos, len - pos, delim, dlen);
		if (next == NULL)
			goto malformed;
		err = add_field(f, name, nlen, body + pos,
		    (size_t)(next - (body + pos)), ascii);
		if (err != EH_OK)
			goto fail;
		pos = (size_t)(next - body) + dlen;
		first = 0;
	}
malformed:
	err = EH_ERR_MULTIPART;
fail:
	eh_form_free(f);
	return err;
}
