/*
 * Causes of failure, their one-line reasons and HTTP statuses: the one
 * table that decides what a caller sees.  Reasons never carry input, so
 * no secret or forged line can reach a reply or a log through them.
 */
#include "esignhook.h"
#include "extern.h"

static const struct {
	int status;
	const char *reason;
} errs[EH_ERR__MAX] = {
	[EH_OK] = { 200, "ok" },
	[EH_ERR_NOMEM] = { 503, "out of memory" },
	[EH_ERR_METHOD] = { 405, "method not allowed" },
	[EH_ERR_CLEN] = { 400, "CONTENT_LENGTH is not a plain decimal number" },
	[EH_ERR_TOO_LARGE] = { 413, "body over ESIGNHOOK_MAX_BODY" },
	[EH_ERR_SHORT_BODY] = { 400, "body shorter than CONTENT_LENGTH" },
	/* Not proof of bad input (a dropped connection, a stream cut by
	 * a signal, no memory): the sender may retry. */
	[EH_ERR_READ] = { 503, "body could not be read" },
	[EH_ERR_MEDIA_TYPE] = { 415, "content type must be application/json or application/x-www-form-urlencoded" },
	[EH_ERR_AUTH_NONE] = { 401, "no secret configured for this provider" },
	[EH_ERR_AUTH_MISSING] = { 401, "missing credentials" },
	[EH_ERR_AUTH_WRONG] = { 401, "wrong credentials" },
	[EH_ERR_JSON] = { 400, "malformed JSON" },
	[EH_ERR_NOT_OBJECT] = { 400, "JSON body is not an object" },
	[EH_ERR_FIELD_MISSING] = { 400, "a required field is missing" },
	[EH_ERR_FIELD_TYPE] = { 400, "a field has the wrong type" },
	[EH_ERR_FIELD_SIZE] = { 400, "a field is over its documented size" },
	[EH_ERR_FIELD_DIGITS] = { 400, "an ID or status code is not digits" },
	[EH_ERR_FIELD_DUP] = { 400, "a field is given twice" },
	[EH_ERR_FORM_ESCAPE] = { 400, "malformed form encoding (bad %-escape, empty or unnamed field)" },
	[EH_ERR_FORM_NUL] = { 400, "decoded NUL byte" },
	[EH_ERR_UTF8] = { 400, "invalid UTF-8" },
	[EH_ERR_FORM_LIMIT] = { 400, "too many form fields or a field too long" },
	[EH_ERR_PROVIDER] = { 400, "request does not match the configured provider" },
	[EH_ERR_SPOOL_CONFIG] = { 503, "no spool configured" },
	[EH_ERR_SPOOL_IO] = { 503, "spool unavailable" },
	[EH_ERR_SPOOL_FULL] = { 503, "spool disk full" },
	[EH_ERR_SPOOL_BACKLOG] = { 503, "too many events waiting in the spool" },
	[EH_ERR_CONFIG] = { 500, "invalid configuration" },
	/* RFC 6749 5.2: a malformed request is 400, a client that fails
	 * to authenticate 401; RFC 6750 3.1: a bad Bearer token 401. */
	[EH_ERR_OAUTH_REQUEST] = { 400, "malformed token request (a parameter missing or repeated, or two client authentications)" },
	[EH_ERR_OAUTH_GRANT] = { 400, "grant_type is not client_credentials" },
	[EH_ERR_OAUTH_NONE] = { 401, "no OAuth client configured" },
	[EH_ERR_OAUTH_CLIENT] = { 401, "unknown OAuth client or no client authentication" },
	[EH_ERR_OAUTH_SECRET] = { 401, "wrong OAuth client secret" },
	[EH_ERR_MULTIPART] = { 400, "malformed multipart/form-data body" },
	[EH_ERR_TOKEN_MALFORMED] = { 401, "malformed Bearer token" },
	[EH_ERR_TOKEN_MAC] = { 401, "Bearer token signed by no configured secret" },
	[EH_ERR_TOKEN_EXPIRED] = { 401, "Bearer token expired" },
};

const char *
eh_strerror(enum eh_err err)
{
	if ((unsigned)err >= EH_ERR__MAX)
		return "unknown error";
	return errs[err].reason;
}

int
eh_err_status(enum eh_err err)
{
	if ((unsigned)err >= EH_ERR__MAX)
		return 500;
	return errs[err].status;
}
