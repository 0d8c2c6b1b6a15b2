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

enum eh_err
eh_onespan_parse(struct eh_event *ev, const char *body, size_t len)
{
	json_t *root, *v;
	json_error_t jerr;
	enum eh_err err;
	size_t i, start, end;

	memset(ev, 0, sizeof(*ev));
	ev->provider = EH_PROVIDER_ONESPAN;
	/* jansson caps nesting depth and rejects \u0000 by default. */
	root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL)
		return EH_ERR_JSON;
	if (!json_is_object(root)) {
		err = EH_ERR_NOT_OBJECT;
		goto out;
	}
	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		v = json_object_get(root, fields[i].name);
		if (v == NULL || (json_is_null(v) && !fields[i].required))
			continue;
		if (!json_is_string(v)) {
			err = EH_ERR_FIELD_TYPE;
			goto out;
		}
		if (fields[i].required && json_string_length(v) == 0) {
			err = EH_ERR_FIELD_MISSING;
			goto out;
		}
		if (utf8_chars(json_string_value(v), json_string_length(v)) >
		    fields[i].max) {
			err = EH_ERR_FIELD_SIZE;
			goto out;
		}
	}
	if (json_object_get(root, "name") == NULL ||
	    json_object_get(root, "packageId") == NULL) {
		err = EH_ERR_FIELD_MISSING;
		goto out;
	}

	err = EH_ERR_NOMEM;
	ev->name = eh__strndup(json_string_value(json_object_get(root, "name")),
	    json_string_length(json_object_get(root, "name")));
	ev->transaction_id = eh__strndup(
	    json_string_value(json_object_get(root, "packageId")),
	    json_string_length(json_object_get(root, "packageId")));
	/* The received object unchanged: its bytes, less outer blanks. */
	for (start = 0; start < len && is_ws(body[start]); start++)
		continue;
	for (end = len; end > start && is_ws(body[end - 1]); end--)
		continue;
	ev->data = eh__strndup(body + start, end - start);
	ev->data_len = end - start;
	if (ev->name == NULL || ev->transaction_id == NULL || ev->data == NULL)
		goto out;
	ev->known = eh_onespan_known(ev->name);
	if (eh__dedupe_key(ev->dedupe_key, "onespan", root) != 0)
		goto out;
	err = EH_OK;
out:
	json_decref(root);
	if (err != EH_OK)
		eh_event_free(ev);
	return err;
}
