/*
 * OneSpan Sign callback events: a JSON object POSTed with
 * Content-Type: application/json (specs/onespan-callback-event-
 * notifications.txt).  We check what the documents promise (name,
 * packageId, the string fields and their sizes) and keep every other
 * field: OneSpan adds fields ("@class", "phone", ...) over time.
 */
#include <string.h>

#include <jansson.h>

#include "esignhook.h"
#include "extern.h"

/* The callback event table, plus PACKAGE_OPT_OUT ("Transaction opted
 * out of" on the admin page; PACKAGE_OPT_OUT in OneSpan's SDKs).
 * Public: esignhookctl register offers these names. */
const char *const eh_onespan_event_names[] = {
	"COBROWSE_REQUEST", "DOCUMENT_SIGNED", "DOCUMENT_VIEWED",
	"EMAIL_BOUNCE", "KBA_FAILURE", "PACKAGE_ACTIVATE", "PACKAGE_ARCHIVE",
	"PACKAGE_ATTACHMENT", "PACKAGE_COMPLETE", "PACKAGE_CREATE",
	"PACKAGE_DEACTIVATE", "PACKAGE_DECLINE", "PACKAGE_DELETE",
	"PACKAGE_EXPIRE", "PACKAGE_OPT_OUT", "PACKAGE_READY_FOR_COMPLETE",
	"PACKAGE_RESTORE", "PACKAGE_TRASH", "RECORDINGS_READY",
	"ROLE_REASSIGN", "SIGNER_COMPLETE", "SIGNER_LOCKED",
	"TEMPLATE_CREATE", NULL
};

/* Documented sizes are in characters: count code points. */
static size_t
utf8_chars(const char *s, size_t n)
{
	size_t i, c = 0;

	for (i = 0; i < n; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			c++;
	return c;
}

static const struct {
	const char *name;
	size_t max;
	int required;
} fields[] = {
	{ "name", EH_ONESPAN_ID_MAX, 1 },
	{ "packageId", EH_ONESPAN_ID_MAX, 1 },
	{ "sessionUser", EH_ONESPAN_ID_MAX, 0 },
	{ "newRoleId", EH_ONESPAN_ID_MAX, 0 },
	{ "documentId", EH_ONESPAN_DOCID_MAX, 0 },
	{ "message", EH_ONESPAN_MESSAGE_MAX, 0 },
	{ "createdDate", 64, 0 },
};

int
eh_onespan_known(const char *name)
{
	size_t i;

	for (i = 0; eh_onespan_event_names[i] != NULL; i++)
		if (strcmp(eh_onespan_event_names[i], name) == 0)
			return 1;
	return 0;
}

static int
is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* jansson's cause, for a problem line: never its text, which quotes
 * the input. */
static const char *
json_cause(const json_error_t *e)
{
	switch (json_error_code(e)) {
	case json_error_duplicate_key:
		return "a duplicate object key";
	case json_error_invalid_utf8:
		return "invalid UTF-8";
	case json_error_null_character:
		return "a \\u0000 in a string";
	case json_error_numeric_overflow:
		return "a number too large";
	case json_error_stack_overflow:
		return "nested too deeply";
	case json_error_premature_end_of_input:
		return "the body ends inside a value";
	case json_error_end_of_input_expected:
		return "bytes after the value";
	default:
		return "invalid syntax";
	}
}

static const char *
type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
	case JSON_REAL:
		return "a number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "a boolean";
	default:
		return "null";
	}
}

/* The string value of root's field if it passed its checks, or NULL. */
static enum eh_err
copy_field(char **out, json_t *root, const char *name, int ok)
{
	json_t *v = json_object_get(root, name);

	*out = NULL;
	if (!ok || !json_is_string(v))
		return EH_OK;
	*out = eh__strndup(json_string_value(v), json_string_length(v));
	return *out == NULL ? EH_ERR_NOMEM : EH_OK;
}

enum eh_err
eh_onespan_read(struct eh_event *ev, const char *body, size_t len)
{
	struct eh_problems pr;
	json_t *root, *v;
	json_error_t jerr;
	enum eh_err err;
	const char *b = body;
	size_t i, n = len, start, end;
	int bad[sizeof(fields) / sizeof(fields[0])];

	memset(ev, 0, sizeof(*ev));
	memset(&pr, 0, sizeof(pr));
	memset(bad, 0, sizeof(bad));
	ev->provider = EH_PROVIDER_ONESPAN;
	/* RFC 8259 8.1: a parser may ignore a byte order mark (.NET's
	 * StreamWriter with Encoding.UTF8 writes one). */
	if (n >= 3 && memcmp(b, "\xef\xbb\xbf", 3) == 0) {
		b += 3;
		n -= 3;
	}
	/* jansson caps nesting depth and rejects \u0000 by default. */
	root = json_loadb(b, n, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL) {
		/* The position in the body as received, mark included. */
		eh_problem_add(&pr, EH_ERR_JSON, "malformed JSON at byte %ld: "
		    "%s", (long)jerr.position + (long)(b - body),
		    json_cause(&jerr));
		return eh_event_raw(ev, EH_PROVIDER_ONESPAN, body, len, &pr);
	}
	if (!json_is_object(root)) {
		eh_problem_add(&pr, EH_ERR_NOT_OBJECT, "the JSON body is %s, "
		    "not an object", type_name(root));
		json_decref(root);
		return eh_event_raw(ev, EH_PROVIDER_ONESPAN, body, len, &pr);
	}
	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		v = json_object_get(root, fields[i].name);
		if (v == NULL || (json_is_null(v) && !fields[i].required))
			continue;
		bad[i] = 1;
		if (!json_is_string(v))
			eh_problem_add(&pr, EH_ERR_FIELD_TYPE, "%s is %s, not a "
			    "string", fields[i].name, type_name(v));
		else if (fields[i].required && json_string_length(v) == 0)
			eh_problem_add(&pr, EH_ERR_FIELD_MISSING, "%s is empty",
			    fields[i].name);
		else if (utf8_chars(json_string_value(v),
		    json_string_length(v)) > fields[i].max)
			eh_problem_add(&pr, EH_ERR_FIELD_SIZE, "%s is over %zu "
			    "characters", fields[i].name, fields[i].max);
		else
			bad[i] = 0;
	}
	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		if (fields[i].required &&
		    json_object_get(root, fields[i].name) == NULL)
			eh_problem_add(&pr, EH_ERR_FIELD_MISSING, "%s is missing",
			    fields[i].name);

	ev->problems = pr;
	/* fields[0] is name, fields[1] packageId. */
	err = copy_field(&ev->name, root, "name", !bad[0]);
	if (err == EH_OK)
		err = copy_field(&ev->transaction_id, root, "packageId",
		    !bad[1]);
	if (err != EH_OK)
		goto out;
	err = EH_ERR_NOMEM;
	/* The received object unchanged: its bytes, less outer blanks. */
	for (start = 0; start < n && is_ws(b[start]); start++)
		continue;
	for (end = n; end > start && is_ws(b[end - 1]); end--)
		continue;
	ev->data = eh__strndup(b + start, end - start);
	ev->data_len = end - start;
	if (ev->data == NULL)
		goto out;
	ev->known = pr.n == 0 && ev->name != NULL &&
	    eh_onespan_known(ev->name);
	if (eh__dedupe_key(ev->dedupe_key, "onespan", root) != 0)
		goto out;
	err = EH_OK;
out:
	json_decref(root);
	if (err != EH_OK)
		eh_event_free(ev);
	return err;
}

enum eh_err
eh_onespan_parse(struct eh_event *ev, const char *body, size_t len)
{
	enum eh_err err;

	err = eh_onespan_read(ev, body, len);
	if (err == EH_OK && (ev->problems.n > 0 || ev->problems.dropped > 0)) {
		err = ev->problems.first;
		eh_event_free(ev);
	}
	return err;
}
