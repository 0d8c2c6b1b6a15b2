/*
 * The log: logfmt fields, and one place that emits a line, to stderr
 * or syslog, for every executable.  A value is quoted when it is empty
 * or holds a blank, '=' or '"'; control bytes and '\\' are escaped, so
 * one request can never end the line or forge another field or line.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

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

/* A byte a value holds as it is. */
static int
plain(unsigned char c)
{
	return c >= 0x20 && c != 0x7f && c != '"' && c != '\\';
}

void
eh_logfmt(char *buf, size_t cap, size_t *len, const char *key,
    const char *value)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p;
	char esc[4];
	size_t run;
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
	/* Runs of plain bytes are copied at once, escapes one by one. */
	p = (const unsigned char *)value;
	for (;;) {
		for (run = 0; plain(p[run]); run++)
			continue;
		if (run > 0)
			put(buf, cap, len, (const char *)p, run);
		p += run;
		if (*p == '\0')
			break;
		esc[0] = '\\';
		if (*p == '"' || *p == '\\') {
			esc[1] = (char)*p;
			put(buf, cap, len, esc, 2);
		} else if (*p == '\n') {
			esc[1] = 'n';
			put(buf, cap, len, esc, 2);
		} else {
			esc[1] = 'x';
			esc[2] = hex[*p >> 4];
			esc[3] = hex[*p & 0xf];
			put(buf, cap, len, esc, 4);
		}
		p++;
	}
	if (quote)
		put(buf, cap, len, "\"", 1);
}

void
eh_log_init(struct eh_log *lg, const char *prog, enum eh_log_target target)
{
	lg->prog = prog;
	lg->target = target;
	if (target == EH_LOG_SYSLOG)
		openlog(prog, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void
eh_log_emit(const struct eh_log *lg, int prio, const char *line)
{
	char buf[EH_LOG_LINE_MAX + 2];
	size_t n;

	if (lg->target == EH_LOG_SYSLOG) {
		syslog(prio, "%s", line);
		return;
	}
	/* One write(2) per line, so lines from threads never interleave. */
	n = strnlen(line, EH_LOG_LINE_MAX);
	memcpy(buf, line, n);
	buf[n++] = '\n';
	(void)!write(STDERR_FILENO, buf, n);
}

const char *
eh_log_level(int prio)
{
	return prio <= LOG_ERR ? "error" : prio == LOG_WARNING ? "warn" :
	    "info";
}

void
eh_log_msg(const struct eh_log *lg, int prio, const char *fmt, ...)
{
	char text[512], line[EH_LOG_LINE_MAX];
	size_t len = 0;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	line[0] = '\0';
	eh_logfmt(line, sizeof(line), &len, "prog", lg->prog);
	eh_logfmt(line, sizeof(line), &len, "level", eh_log_level(prio));
	eh_logfmt(line, sizeof(line), &len, "msg", text);
	eh_log_emit(lg, prio, line);
}
