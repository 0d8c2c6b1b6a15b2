/*
 * A strict application/x-www-form-urlencoded decoder (WHATWG URL,
 * "application/x-www-form-urlencoded parsing"), stricter where being
 * lenient would let two programs read one body two ways: a bad or
 * truncated %-escape, a decoded NUL, invalid UTF-8 are errors, not
 * guesses; an empty or repeated name is an error too, or, for an
 * authenticated delivery, a problem (the first value is kept).  Empty
 * pairs are skipped as WHATWG does, and what real senders add around a
 * body (a byte order mark, a final line end) is not taken for a field.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "esignhook.h"
#include "extern.h"

static int
hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Decode s[0..n) into a new NUL-terminated string at *out.
 */
static enum eh_err
decode(char **out, const char *s, size_t n)
{
	char *p;
	size_t i, j;
	int hi, lo;

	*out = NULL;
	if (n > EH_FORM_VALUE_MAX)
		return EH_ERR_FORM_LIMIT;
	p = malloc(n + 1);
	if (p == NULL)
		return EH_ERR_NOMEM;
	for (i = j = 0; i < n; i++) {
		if (s[i] == '+') {
			p[j++] = ' ';
		} else if (s[i] == '%') {
			hi = lo = -1;
			if (n - i >= 3) {
				hi = hexval((unsigned char)s[i + 1]);
				lo = hexval((unsigned char)s[i + 2]);
			}
			if (hi < 0 || lo < 0) {
				sodium_memzero(p, j);
				free(p);
				return EH_ERR_FORM_ESCAPE;
			}
			if (hi == 0 && lo == 0) {
				sodium_memzero(p, j);
				free(p);
				return EH_ERR_FORM_NUL;
			}
			p[j++] = (char)(hi << 4 | lo);
			i += 2;
		} else if (s[i] == '\0') {
			sodium_memzero(p, j);
			free(p);
			return EH_ERR_FORM_NUL;
		} else {
			p[j++] = s[i];
		}
	}
	p[j] = '\0';
	if (!eh_utf8_valid(p, j)) {
		sodium_memzero(p, j);
		free(p);
		return EH_ERR_UTF8;
	}
	*out = p;
	return EH_OK;
}

enum eh_err
eh__form_decode(char **out, const char *s, size_t n)
{
	return decode(out, s, n);
}

/* The end of the pair starting at p: '&', with EH_FORM_QUERY also '?'. */
static const char *
pair_end(const char *p, const char *end, unsigned flags)
{
	for (; p < end; p++)
		if (*p == '&' || (*p == '?' && (flags & EH_FORM_QUERY)))
			break;
	return p;
}

/* "form" or "query": what a problem line calls a field's source. */
static const char *
source(unsigned flags)
{
	return (flags & EH_FORM_QUERY) ? "query" : "form";
}

/* The problem line for a decoding error in the k-th field (1-based). */
static void
decode_problem(struct eh_problems *pr, enum eh_err err, unsigned flags,
    size_t k)
{
	if (pr == NULL || err == EH_ERR_NOMEM)
		return;
	if (err == EH_ERR_FORM_LIMIT)
		eh_problem_add(pr, err, "%s field %zu is over %d bytes",
		    source(flags), k, EH_FORM_VALUE_MAX);
	else
		eh_problem_add(pr, err, "%s field %zu: %s", source(flags), k,
		    err == EH_ERR_FORM_NUL ? "a NUL byte" :
		    err == EH_ERR_UTF8 ? "invalid UTF-8" : "bad %-escape");
}

enum eh_err
eh_form_read(struct eh_form *form, const char *buf, size_t len,
    unsigned flags, struct eh_problems *pr)
{
	const char *seg, *end, *amp, *eq;
	char *name, *value, shown[64];
	enum eh_err err;
	size_t i, k = 0;

	memset(form, 0, sizeof(*form));
	if (len == 0)
		return EH_OK;
	if (!(flags & EH_FORM_QUERY)) {
		/* .NET's StreamWriter with Encoding.UTF8 writes EF BB BF first. */
		if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0) {
			buf += 3;
			len -= 3;
		}
		/* A body sent from a file or with WriteLine ends in a line end:
		 * it is not part of the last value (an encoded %0D%0A is). */
		while (len > 0 && (buf[len - 1] == '\r' || buf[len - 1] == '\n'))
			len--;
	}
	end = buf + len;
	for (seg = buf; seg < end; seg = amp < end ? amp + 1 : end) {
		amp = pair_end(seg, end, flags);
		/* "a=1&&b=2", a leading or a trailing '&': WHATWG skips them. */
		if (amp == seg)
			continue;
		k++;
		eq = memchr(seg, '=', (size_t)(amp - seg));
		if (eq == NULL)
			eq = amp;
		if (eq == seg) {
			if (pr == NULL) {
				err = EH_ERR_FORM_ESCAPE;
				goto fail;
			}
			eh_problem_add(pr, EH_ERR_FORM_ESCAPE,
			    "%s field %zu has no name: skipped", source(flags),
			    k);
			continue;
		}
		if (form->n == EH_FORM_MAX_FIELDS) {
			err = EH_ERR_FORM_LIMIT;
			if (pr != NULL)
				eh_problem_add(pr, err, "more than %d %s "
				    "fields", EH_FORM_MAX_FIELDS, source(flags));
			goto fail;
		}
		err = decode(&name, seg, (size_t)(eq - seg));
		if (err != EH_OK) {
			decode_problem(pr, err, flags, k);
			goto fail;
		}
		value = NULL;
		err = decode(&value, eq == amp ? eq : eq + 1,
		    eq == amp ? 0 : (size_t)(amp - eq - 1));
		if (err != EH_OK) {
			free(name);
			decode_problem(pr, err, flags, k);
			goto fail;
		}
		for (i = 0; i < form->n; i++)
			if (strcmp(form->name[i], name) == 0)
				break;
		if (i < form->n) {
			if (pr != NULL)
				eh_problem_add(pr, EH_ERR_FIELD_DUP,
				    "%s field %s given twice: the first value "
				    "kept", source(flags), eh__problem_name(shown,
				    sizeof(shown), name));
			sodium_memzero(value, strlen(value));
			free(name);
			free(value);
			if (pr == NULL) {
				err = EH_ERR_FIELD_DUP;
				goto fail;
			}
			continue;
		}
		form->name[form->n] = name;
		form->value[form->n] = value;
		form->n++;
	}
	return EH_OK;
fail:
	eh_form_free(form);
	return err;
}

enum eh_err
eh_form_parse(struct eh_form *form, const char *buf, size_t len)
{
	return eh_form_read(form, buf, len, 0, NULL);
}

const char *
eh_form_get(const struct eh_form *form, const char *name)
{
	size_t i;

	for (i = 0; i < form->n; i++)
		if (strcmp(form->name[i], name) == 0)
			return form->value[i];
	return NULL;
}

void
eh_form_free(struct eh_form *form)
{
	size_t i;

	/* A value may be a URL token: wipe before freeing. */
	for (i = 0; i < form->n; i++) {
		sodium_memzero(form->value[i], strlen(form->value[i]));
		free(form->name[i]);
		free(form->value[i]);
	}
	memset(form, 0, sizeof(*form));
}

/*
 * RFC 3629 section 4: shortest forms only, no surrogates, at most
 * U+10FFFF.
 */
int
eh_utf8_valid(const char *buf, size_t len)
{
	const unsigned char *s = (const unsigned char *)buf;
	size_t i = 0, k, n;
	unsigned long cp;

	while (i < len) {
		if (s[i] < 0x80) {
			i++;
			continue;
		}
		if (s[i] >= 0xc2 && s[i] <= 0xdf) {
			n = 1;
			cp = s[i] & 0x1f;
		} else if (s[i] >= 0xe0 && s[i] <= 0xef) {
			n = 2;
			cp = s[i] & 0x0f;
		} else if (s[i] >= 0xf0 && s[i] <= 0xf4) {
			n = 3;
			cp = s[i] & 0x07;
		} else
			return 0;
		if (len - i - 1 < n)
			return 0;
		for (k = 1; k <= n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += n + 1;
	}
	return 1;
}
