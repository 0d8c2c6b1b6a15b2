/*
 * The HTTP client of the operator tool: the only file that includes
 * <curl/curl.h>.  One easy handle per client, reset and set up again
 * for each request, so that libcurl's connection, DNS and TLS session
 * caches (which curl_easy_reset keeps) carry from one call to the next.
 *
 * Fixed on every request, whatever the caller asks: TLS peer and host
 * verification; http and https only, for the request and any redirect;
 * redirects never followed (a 3xx is returned as it is); no signals
 * (the drainer may run threads); User-Agent esignhook/<version>.
 *
 * Proxies: libcurl's own handling of http_proxy, https_proxy and
 * no_proxy in the environment is left on, as curl(1) users expect.
 *
 * libcurl's global initialisation is the caller's (cgi/esignhookctl.c
 * calls curl_global_init once, before any thread): lib/ keeps no
 * global state.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#include "esignhook.h"
#include "extern.h"

/* Where Debian's ca-certificates puts the system bundle. */
#define SYSTEM_CA_BUNDLE "/etc/ssl/certs/ca-certificates.crt"
/* A CA bundle larger than this is a mistake, not a bundle. */
#define CA_FILE_MAX (16 * 1024 * 1024)
/* Connecting may take at most this long (or the whole timeout). */
#define CONNECT_TIMEOUT_MS 10000
/* Retry-After values are clamped here (the drainer caps them anyway). */
#define RETRY_AFTER_MAX 1000000000L
/* The shortest piece of a URL's userinfo or query kept out of errors. */
#define PIECE_MIN 4

struct eh_http {
	CURL *curl;
	/*
	 * With ESIGNHOOK_CA_FILE: the system bundle followed by that file,
	 * in memory, given to libcurl as CURLOPT_CAINFO_BLOB.  CURLOPT_CAINFO
	 * would replace the system bundle rather than add to it; a blob
	 * built once keeps "system CAs plus these" true whatever libcurl's
	 * compiled-in default is.  NULL: libcurl's defaults (system CAs).
	 */
	char *ca;
	size_t ca_len;
};

/* One transfer's state, seen by the callbacks. */
struct xfer {
	const struct eh_http_req *req;
	struct eh_http_resp *resp;
	size_t cap;                     /* allocated size of resp->body */
	int too_large;                  /* the body passed req->max_body */
	int write_errno;                /* writing to out_fd failed */
};

/*
 * Append the regular file at path to *buf (of *len bytes, malloc'd):
 * 0, or -1 with errno set.  The result stays NUL-terminated.
 */
static int
append_file(char **buf, size_t *len, const char *path)
{
	struct stat st;
	char *file, *p;
	size_t n;
	int fd, rc, e;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	/* Not a FIFO or a device, which could hang or never end. */
	if (fstat(fd, &st) != 0)
		rc = -1;
	else if (!S_ISREG(st.st_mode)) {
		errno = EINVAL;
		rc = -1;
	} else
		rc = eh_read_fd(fd, CA_FILE_MAX, &file, &n);
	e = errno;
	close(fd);
	errno = e;
	if (rc != 0)
		return -1;
	/* One byte for a '\n' between two files, one for the NUL. */
	p = realloc(*buf, *len + n + 2);
	if (p == NULL) {
		free(file);
		errno = ENOMEM;
		return -1;
	}
	*buf = p;
	memcpy(p + *len, file, n);
	free(file);
	*len += n;
	if (*len > 0 && p[*len - 1] != '\n')
		p[(*len)++] = '\n';
	p[*len] = '\0';
	return 0;
}

/*
 * A client.  ca_file (NULL or "": none) is read now, so that a missing
 * or unreadable file is found at start-up: 0, or -1 (errno set when the
 * file was the cause).
 */
int
eh_http_new(struct eh_http **hp, const char *ca_file)
{
	struct eh_http *h;
	const curl_version_info_data *vi;
	const char *sys;
	int e;

	*hp = NULL;
	h = calloc(1, sizeof(*h));
	if (h == NULL)
		return -1;
	if (ca_file != NULL && *ca_file != '\0') {
		vi = curl_version_info(CURLVERSION_NOW);
		sys = vi != NULL && vi->cainfo != NULL ? vi->cainfo :
		    SYSTEM_CA_BUNDLE;
		/* No system bundle at all: the given file alone. */
		if (append_file(&h->ca, &h->ca_len, sys) != 0 &&
		    errno != ENOENT)
			goto fail;
		if (append_file(&h->ca, &h->ca_len, ca_file) != 0)
			goto fail;
	}
	h->curl = curl_easy_init();
	if (h->curl == NULL)
		goto fail;
	*hp = h;
	return 0;
fail:
	e = errno;
	eh_http_free(h);
	errno = e;
	return -1;
}

void
eh_http_free(struct eh_http *h)
{
	if (h == NULL)
		return;
	if (h->curl != NULL)
		curl_easy_cleanup(h->curl);
	free(h->ca);
	free(h);
}

void
eh_http_resp_free(struct eh_http_resp *resp)
{
	free(resp->body);
	resp->body = NULL;
	resp->body_len = 0;
}

enum eh_result
eh_http_classify(long status)
{
	if (status >= 200 && status <= 299)
		return EH_RES_OK;
	/* Timeout, too early, too many requests: the server says "later". */
	if (status == 408 || status == 425 || status == 429)
		return EH_RES_TEMP;
	/* Redirects are not followed; the target may be moved back. */
	if (status >= 300 && status <= 399)
		return EH_RES_TEMP;
	if (status >= 500 && status <= 599)
		return EH_RES_TEMP;
	if (status >= 400 && status <= 499)
		return EH_RES_PERM;
	/* 0 (no response), 1xx as final, nonsense: try again. */
	return EH_RES_TEMP;
}

/*
 * Retry-After as delta-seconds (RFC 9110 10.2.3): digits only, with
 * optional blanks around; an HTTP-date or anything else is -1.
 */
static long
retry_after(const char *v, size_t n)
{
	const char *s = v, *e = v + n;
	long secs = 0;

	while (e > s && (e[-1] == '\r' || e[-1] == '\n'))
		e--;
	eh__trim(&s, &e, 0);
	if (s == e)
		return -1;
	for (; s < e; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		if (secs < RETRY_AFTER_MAX)
			secs = secs * 10 + (*s - '0');
	}
	return secs < RETRY_AFTER_MAX ? secs : RETRY_AFTER_MAX;
}

/* One header line; each new status line (1xx, then the final) resets. */
static size_t
on_header(char *buf, size_t size, size_t nitems, void *arg)
{
	struct xfer *x = arg;
	size_t n = size * nitems;
	static const char name[] = "retry-after:";

	if (n >= 5 && memcmp(buf, "HTTP/", 5) == 0)
		x->resp->retry_after_s = -1;
	else if (n >= sizeof(name) - 1 &&
	    eh__strncaseeq(buf, name, sizeof(name) - 1))
		x->resp->retry_after_s = retry_after(buf + sizeof(name) - 1,
		    n - (sizeof(name) - 1));
	return n;
}

/* Body bytes: to out_fd, into the capture buffer, or nowhere. */
static size_t
on_body(char *buf, size_t size, size_t nmemb, void *arg)
{
	struct xfer *x = arg;
	struct eh_http_resp *resp = x->resp;
	size_t n = size * nmemb, off = 0, cap, need;
	ssize_t w;
	char *p;

	if (x->req->out_fd >= 0) {
		if (x->req->max_body > 0 &&
		    n > x->req->max_body - resp->written) {
			x->too_large = 1;
			return 0;
		}
		while (off < n) {
			w = write(x->req->out_fd, buf + off, n - off);
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0) {
				x->write_errno = w < 0 ? errno : EIO;
				return 0;
			}
			off += (size_t)w;
			resp->written += (size_t)w;
		}
		return n;
	}
	if (x->req->max_body == 0)
		return n;
	if (n > x->req->max_body - resp->body_len) {
		x->too_large = 1;
		return 0;
	}
	/* need <= max_body + 1: the check above. */
	need = resp->body_len + n + 1;
	if (need > x->cap) {
		cap = x->cap < SIZE_MAX / 2 ? x->cap * 2 : SIZE_MAX;
		if (cap < 4096)
			cap = 4096;
		if (cap < need)
			cap = need;
		if (x->req->max_body < SIZE_MAX && cap > x->req->max_body + 1)
			cap = x->req->max_body + 1;
		p = realloc(resp->body, cap);
		if (p == NULL) {
			x->write_errno = ENOMEM;
			return 0;
		}
		resp->body = p;
		x->cap = cap;
	}
	memcpy(resp->body + resp->body_len, buf, n);
	resp->body_len += n;
	resp->body[resp->body_len] = '\0';
	return n;
}

/*
 * Whether s contains part, or one of part's pieces between the bytes of
 * seps (a query's names and values one by one).  Pieces shorter than
 * PIECE_MIN are no credential, and would match almost any message.
 */
static int
contains(const char *s, const char *part, const char *seps)
{
	const char *p, *e;
	char *piece;
	int found = 0;

	if (part == NULL || strlen(part) < PIECE_MIN)
		return 0;
	if (strstr(s, part) != NULL)
		return 1;
	for (p = part; !found && *p != '\0'; p = *e != '\0' ? e + 1 : e) {
		e = p + strcspn(p, seps);
		if (e - p < PIECE_MIN)
			continue;
		piece = eh__strndup(p, (size_t)(e - p));
		/* Out of memory: assume the worst. */
		found = piece == NULL || strstr(s, piece) != NULL;
		free(piece);
	}
	return found;
}

/*
 * resp->error from libcurl's message for code, on one line.  libcurl
 * names hosts and ports, never a URL's userinfo or query; should a
 * message ever hold one of them (they may carry credentials), the
 * constant curl_easy_strerror text is used instead.
 */
static void
set_error(struct eh_http_resp *resp, CURLcode code, const char *msg,
    const char *url)
{
	static const CURLUPart secret[] = { CURLUPART_USER,
	    CURLUPART_PASSWORD, CURLUPART_OPTIONS, CURLUPART_QUERY,
	    CURLUPART_FRAGMENT };
	CURLU *u;
	char *part, *p;
	size_t i;
	int safe = 1;

	if (msg == NULL || *msg == '\0')
		msg = curl_easy_strerror(code);
	else {
		u = curl_url();
		if (u == NULL || curl_url_set(u, CURLUPART_URL, url,
		    CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK)
			safe = 0;
		for (i = 0; safe && i < sizeof(secret) / sizeof(secret[0]);
		    i++) {
			part = NULL;
			if (curl_url_get(u, secret[i], &part, 0) == CURLUE_OK &&
			    contains(msg, part, "&=;"))
				safe = 0;
			curl_free(part);
		}
		curl_url_cleanup(u);
		if (!safe)
			msg = curl_easy_strerror(code);
	}
	snprintf(resp->error, sizeof(resp->error), "%s", msg);
	for (p = resp->error; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	while (p > resp->error && p[-1] == ' ')
		*--p = '\0';
}

/* Whether header line s is one line of the form "Name: value". */
static int
header_ok(const char *s)
{
	return strpbrk(s, "\r\n") == NULL && strchr(s, ':') != NULL;
}

/* Whether the caller's headers set name (a "Name:" prefix). */
static int
has_header(const char *const *hs, const char *name)
{
	size_t n = strlen(name);

	for (; hs != NULL && *hs != NULL; hs++)
		if (eh__strncaseeq(*hs, name, n))
			return 1;
	return 0;
}

/* Every option of one request, after curl_easy_reset. */
static CURLcode
setup(struct eh_http *h, const struct eh_http_req *req, struct xfer *x,
    struct curl_slist *hdrs, char *errbuf)
{
	CURL *c = h->curl;
	struct curl_blob blob;
	long timeout, connect;
	CURLcode rc;

	timeout = req->timeout_ms > 0 && req->timeout_ms < LONG_MAX ?
	    (long)req->timeout_ms : 0;
	connect = timeout > 0 && timeout < CONNECT_TIMEOUT_MS ? timeout :
	    CONNECT_TIMEOUT_MS;

	rc = curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(c, CURLOPT_URL, req->url);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR,
		    "http,https");
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	if (rc == CURLE_OK && h->ca != NULL) {
		blob.data = h->ca;
		blob.len = h->ca_len;
		/* h->ca lives as long as the handle. */
		blob.flags = CURL_BLOB_NOCOPY;
		rc = curl_easy_setopt(c, CURLOPT_CAINFO_BLOB, &blob);
	}
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, connect);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(c, CURLOPT_USERAGENT,
		    "esignhook/" EH_VERSION);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(c, CURLOPT_HEADERDATA, x);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(c, CURLOPT_WRITEDATA, x);
	if (rc != CURLE_OK)
		return rc;

	if (strcmp(req->method, "GET") == 0)
		return curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
	if (strcmp(req->method, "POST") == 0) {
		rc = curl_easy_setopt(c, CURLOPT_POST, 1L);
		if (rc == CURLE_OK)
			rc = curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
			    (curl_off_t)req->body_len);
		/* Not copied: req->body outlives the transfer. */
		if (rc == CURLE_OK)
			rc = curl_easy_setopt(c, CURLOPT_POSTFIELDS,
			    req->body != NULL ? req->body : "");
		return rc;
	}
	return curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, req->method);
}

/*
 * One request.  resp is filled in whatever happens (free it with
 * eh_http_resp_free).  0: a response arrived, resp->status holds its
 * status whatever it is (and its body, whatever the status, went to
 * out_fd or the capture).  -1: no whole response (refused, timeout, TLS,
 * a body write that failed, a body over max_body); resp->status is 0,
 * resp->transport libcurl's non-zero CURLcode, resp->error why.
 */
int
eh_http_do(struct eh_http *h, const struct eh_http_req *req,
    struct eh_http_resp *resp)
{
	struct curl_slist *hdrs = NULL, *t;
	const char *const *hp;
	struct xfer x;
	char errbuf[CURL_ERROR_SIZE];
	CURLcode rc;
	long status = 0;

	memset(resp, 0, sizeof(*resp));
	resp->retry_after_s = -1;
	memset(&x, 0, sizeof(x));
	x.req = req;
	x.resp = resp;
	errbuf[0] = '\0';

	for (hp = req->headers; hp != NULL && *hp != NULL; hp++) {
		if (!header_ok(*hp)) {
			snprintf(resp->error, sizeof(resp->error),
			    "invalid request header");
			resp->transport = CURLE_BAD_FUNCTION_ARGUMENT;
			goto fail;
		}
		t = curl_slist_append(hdrs, *hp);
		if (t == NULL)
			goto nomem;
		hdrs = t;
	}
	/* No "Expect: 100-continue" wait on a large POST. */
	if (!has_header(req->headers, "expect:")) {
		t = curl_slist_append(hdrs, "Expect:");
		if (t == NULL)
			goto nomem;
		hdrs = t;
	}

	curl_easy_reset(h->curl);
	rc = setup(h, req, &x, hdrs, errbuf);
	if (rc == CURLE_OK)
		rc = curl_easy_perform(h->curl);
	if (rc == CURLE_OK)
		rc = curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE,
		    &status);
	/* No pointer into this frame may outlive the call. */
	curl_easy_setopt(h->curl, CURLOPT_ERRORBUFFER, NULL);
	curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, NULL);
	curl_slist_free_all(hdrs);
	hdrs = NULL;

	if (rc == CURLE_OK && status == 0) {
		rc = CURLE_WEIRD_SERVER_REPLY;
		errbuf[0] = '\0';
	}
	if (rc != CURLE_OK) {
		resp->transport = (int)rc;
		resp->too_large = x.too_large;
		if (x.too_large)
			snprintf(resp->error, sizeof(resp->error),
			    "response too large");
		else if (x.write_errno != 0)
			snprintf(resp->error, sizeof(resp->error),
			    "write: %s", eh_errno_str(x.write_errno));
		else
			set_error(resp, rc, errbuf, req->url);
		goto fail;
	}
	resp->status = status;
	/* A capture that got no byte still gives a (empty) string. */
	if (req->out_fd < 0 && req->max_body > 0 && resp->body == NULL) {
		resp->body = calloc(1, 1);
		if (resp->body == NULL)
			goto nomem;
	}
	return 0;
nomem:
	snprintf(resp->error, sizeof(resp->error), "out of memory");
	resp->transport = CURLE_OUT_OF_MEMORY;
fail:
	curl_slist_free_all(hdrs);
	eh_http_resp_free(resp);
	resp->status = 0;
	return -1;
}
