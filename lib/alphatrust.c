/*
 * AlphaTrust e-Sign event subscriptions: form fields POSTed as
 * application/x-www-form-urlencoded or sent as a GET query (specs/
 * alphatrust-transaction-event-subscriptions.txt and -participant-).
 * ps_securitytoken is a per-transaction token for calling AlphaTrust
 * back, not a shared secret: it is kept in the record like any field.
 */
#include <string.h>

#include <jansson.h>

#include "esignhook.h"
#include "extern.h"

static const char *const known[] = {
	"transaction", "participant", "participant-session-begin",
	"session-begin", /* the spelling of the documents' own examples */
	"participant-auth-failure-notify", "participant-reassigned",
	"participant-victim-statement-notify", NULL
};

/* Fields documented as "standard 10 digit" IDs or one-digit codes. */
static const char *const digit_fields[] = {
	"TransID", "PartID", "ReassignedPartID", "TXStatus", "PartStatus",
	NULL
};

#define DIGITS_MAX 20
#define EVENTTYPE_MAX 255

static const struct {
	const char *code;
	const char *name;
} tx_status[] = {
	{ "2", "Pending" }, { "4", "Complete" }, { "7", "Closed" },
	{ "8", "Cancelled" }, { "9", "Expired" }, { "10", "Voided" },
	{ NULL, NULL }
}, part_status[] = {
	{ "2", "Pending" }, { "4", "Complete" }, { "6", "Email sent" },
	{ "7", "Closed" }, { "8", "Cancelled" }, { "9", "Expired" },
	{ NULL, NULL }
};

int
eh_alphatrust_known(const char *event_type)
{
	size_t i;

	for (i = 0; known[i] != NULL; i++)
		if (strcmp(known[i], event_type) == 0)
			return 1;
	return 0;
}

const char *
eh_alphatrust_tx_status(const char *code)
{
	size_t i;

	for (i = 0; tx_status[i].code != NULL; i++)
		if (strcmp(tx_status[i].code, code) == 0)
			return tx_status[i].name;
	return NULL;
}

const char *
eh_alphatrust_part_status(const char *code)
{
	size_t i;

	for (i = 0; part_status[i].code != NULL; i++)
		if (strcmp(part_status[i].code, code) == 0)
			return part_status[i].name;
	return NULL;
}

static int
all_digits(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > DIGITS_MAX)
		return 0;
	return strspn(s, "0123456789") == n;
}

/* Add name=value to obj unless the sender already sent a field name. */
static int
add_derived(json_t *obj, const char *name, const char *value)
{
	if (value == NULL || json_object_get(obj, name) != NULL)
		return 0;
	return json_object_set_new(obj, name, json_string(value));
}

/*
 * Every field is kept; what does not fit the documents is a problem: a
 * missing or empty EventType or a missing TransID, an EventType over its
 * bound, an ID or status that is not digits (the event or transaction id
 * is then null in the record).
 */
enum eh_err
eh_alphatrust_read(struct eh_event *ev, const struct eh_form *form,
    const char *skip)
{
	struct eh_problems *pr = &ev->problems;
	const char *type, *trans, *v;
	json_t *data = NULL;
	enum eh_err err;
	size_t i;
	int type_ok = 1, trans_ok = 1;

	memset(ev, 0, sizeof(*ev));
	ev->provider = EH_PROVIDER_ALPHATRUST;
	type = eh_form_get(form, "EventType");
	trans = eh_form_get(form, "TransID");
	if (type == NULL || *type == '\0') {
		eh_problem_add(pr, EH_ERR_FIELD_MISSING, "EventType is %s",
		    type == NULL ? "missing" : "empty");
		type_ok = 0;
	}
	if (trans == NULL) {
		eh_problem_add(pr, EH_ERR_FIELD_MISSING, "TransID is missing");
		trans_ok = 0;
	}
	if (type_ok && strlen(type) > EVENTTYPE_MAX) {
		eh_problem_add(pr, EH_ERR_FIELD_SIZE, "EventType is over %d "
		    "bytes", EVENTTYPE_MAX);
		type_ok = 0;
	}
	for (i = 0; digit_fields[i] != NULL; i++) {
		v = eh_form_get(form, digit_fields[i]);
		if (v == NULL || all_digits(v))
			continue;
		eh_problem_add(pr, EH_ERR_FIELD_DIGITS, "%s is not 1 to %d "
		    "digits", digit_fields[i], DIGITS_MAX);
		if (strcmp(digit_fields[i], "TransID") == 0)
			trans_ok = 0;
	}

	err = EH_ERR_NOMEM;
	data = json_object();
	if (data == NULL)
		goto out;
	for (i = 0; i < form->n; i++) {
		if (skip != NULL && strcmp(form->name[i], skip) == 0)
			continue;
		/* The decoder has checked UTF-8, so json_string cannot refuse. */
		if (json_object_set_new(data, form->name[i],
		    json_string(form->value[i])) != 0)
			goto out;
	}
	v = eh_form_get(form, "TXStatus");
	if (v != NULL &&
	    add_derived(data, "TXStatusName", eh_alphatrust_tx_status(v)) != 0)
		goto out;
	v = eh_form_get(form, "PartStatus");
	if (v != NULL && add_derived(data, "PartStatusName",
	    eh_alphatrust_part_status(v)) != 0)
		goto out;

	if (type_ok)
		ev->name = eh__strndup(type, strlen(type));
	if (trans_ok)
		ev->transaction_id = eh__strndup(trans, strlen(trans));
	ev->data = json_dumps(data, JSON_COMPACT);
	if ((type_ok && ev->name == NULL) ||
	    (trans_ok && ev->transaction_id == NULL) || ev->data == NULL)
		goto out;
	ev->data_len = strlen(ev->data);
	ev->known = pr->n == 0 && eh_alphatrust_known(type);
	if (eh__dedupe_key(ev->dedupe_key, "alphatrust", data) != 0)
		goto out;
	err = EH_OK;
out:
	json_decref(data);
	if (err != EH_OK)
		eh_event_free(ev);
	return err;
}

enum eh_err
eh_alphatrust_parse(struct eh_event *ev, const struct eh_form *form,
    const char *skip)
{
	enum eh_err err;

	err = eh_alphatrust_read(ev, form, skip);
	if (err == EH_OK && (ev->problems.n > 0 || ev->problems.dropped > 0)) {
		err = ev->problems.first;
		eh_event_free(ev);
	}
	return err;
}
