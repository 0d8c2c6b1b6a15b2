/*
 * logfmt fields.  A value is quoted when it is empty or holds a blank,
 * '=' or '"'; control bytes and '\\' are escaped, so one request can
 * never end the line or forge another field or line.
 */
#include <stdio.h>
#include <string.h>

#include "esignhook.h"
#include "extern.h"

static void
put(char *buf, size_t cap, size_t *len, const char *s, size_t n)
{
	if (cap == 0 || *len >= cap - 1)
		return;
	if (n > cap - 1 - *len)
		n = cap - 1 - *len;
	memcpy(buf + *len, s, n);
	*len += n;
	buf[*len] = '\0';
}

void
eh_logfmt(char *buf, size_t cap, size_t *len, const char *key,
    const char *value)
{
	const unsigned char *p;
	char esc[8];
	int quote;

	if (value == NULL)
		value = "-";
	quote = *value == '\0' || strpbrk(value, " =\"") != NULL;
	if (*len > 0)
		put(buf, cap, len, " ", 1);
	put(buf, cap, len, key, strlen(key));
	put(buf, cap, len, "=", 1);
	if (quote)
		put(buf, cap, len, "\"", 1);
	for (p = (const unsigned char *)value; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\') {
			esc[0] = '\\';
			esc[1] = (char)*p;
			put(buf, cap, len, esc, 2);
		} else if (*p == '\n') {
			put(buf, cap, len, "\\n", 2);
		} else if (*p < 0x20 || *p == 0x7f) {
			snprintf(esc, sizeof(esc), "\\x%02x", *p);
			put(buf, cap, len, esc, 4);
		} else
			put(buf, cap, len, (const char *)p, 1);
	}
	if (quote)
		put(buf, cap, len, "\"", 1);
}
