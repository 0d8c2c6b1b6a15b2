/* lib/alphatrust.c: AlphaTrust e-Sign form fields. */
#include <stdlib.h>

#include <jansson.h>

#include "../lib/esignhook.h"
#include "t.h"

static enum eh_err
parse(const char *body, struct eh_event *ev, const char *skip)
{
	struct eh_form f;
	enum eh_err err;

	memset(ev, 0, sizeof(*ev));
	if ((err = eh_form_parse(&f, body, strlen(body))) != EH_OK)
		return err;
	err = eh_alphatrust_parse(ev, &f, skip);
	eh_form_free(&f);
	return err;
}

static void
transaction(void)
{
	struct eh_event ev;
	json_t *d;

	T_EQ_INT(parse("TransID=1234567890&TXStatus=4&EventType=transaction"
	    "&ps_securitytoken=4bf44fb0-f695-40b5-821d-c22273e11c30", &ev,
	    NULL), EH_OK);
	T_EQ_STR(ev.name, "transaction");
	T_EQ_STR(ev.transaction_id, "1234567890");
	T_EQ_INT(ev.known, 1);
	d = json_loads(ev.data, 0, NULL);
	T_CHECK(d != NULL);
	T_EQ_STR(json_string_value(json_object_get(d, "TXStatusName")),
	    "Complete");
	T_EQ_STR(json_string_value(json_object_get(d, "ps_securitytoken")),
	    "4bf44fb0-f695-40b5-821d-c22273e11c30");
	T_EQ_STR(json_string_value(json_object_get(d, "TXStatus")), "4");
	T_CHECK(json_object_get(d, "PartStatusName") == NULL);
	json_decref(d);
	eh_event_free(&ev);
}

static void
participant_email_sent(void)
{
	struct eh_event ev;
	json_t *d;

	T_EQ_INT(parse("TransID=1&PartID=2&TXStatus=2&PartStatus=6&"
	    "EventType=participant&token=abc", &ev, "token"), EH_OK);
	d = json_loads(ev.data, 0, NULL);
	T_EQ_STR(json_string_value(json_object_get(d, "PartStatusName")),
	    "Email sent");
	T_EQ_STR(json_string_value(json_object_get(d, "TXStatusName")),
	    "Pending");
	T_CHECK(json_object_get(d, "token") == NULL);
	T_EQ_INT(json_object_size(d), 7);
	json_decref(d);
	eh_event_free(&ev);
}

static void
event_types(void)
{
	T_CHECK(eh_alphatrust_known("transaction"));
	T_CHECK(eh_alphatrust_known("participant"));
	T_CHECK(eh_alphatrust_known("session-begin"));
	T_CHECK(eh_alphatrust_known("participant-session-begin"));
	T_CHECK(eh_alphatrust_known("participant-auth-failure-notify"));
	T_CHECK(eh_alphatrust_known("participant-reassigned"));
	T_CHECK(eh_alphatrust_known("participant-victim-statement-notify"));
	T_CHECK(!eh_alphatrust_known("Transaction"));
}

static void
unknown_kept(void)
{
	struct eh_event ev;

	T_EQ_INT(parse("TransID=1&EventType=participant-teleported&New=x",
	    &ev, NULL), EH_OK);
	T_EQ_INT(ev.known, 0);
	T_CHECK(strstr(ev.data, "\"New\":\"x\"") != NULL);
	eh_event_free(&ev);
}

static const struct {
	const char *body;
	enum eh_err err;
} bad[] = {
	{ "TransID=1", EH_ERR_FIELD_MISSING },
	{ "EventType=transaction", EH_ERR_FIELD_MISSING },
	{ "EventType=&TransID=1", EH_ERR_FIELD_MISSING },
	{ "EventType=transaction&TransID=12a", EH_ERR_FIELD_DIGITS },
	{ "EventType=transaction&TransID=", EH_ERR_FIELD_DIGITS },
	{ "EventType=transaction&TransID=-1", EH_ERR_FIELD_DIGITS },
	{ "EventType=transaction&TransID=1&TXStatus=4+", EH_ERR_FIELD_DIGITS },
	{ "EventType=participant&TransID=1&PartID=x", EH_ERR_FIELD_DIGITS },
	{ "EventType=participant&TransID=1&PartStatus=%EF%BC%94", EH_ERR_FIELD_DIGITS },
	{ "EventType=participant-reassigned&TransID=1&ReassignedPartID=1.0", EH_ERR_FIELD_DIGITS },
	{ "EventType=transaction&TransID=123456789012345678901", EH_ERR_FIELD_DIGITS },
};

static void
bad_fields(void)
{
	struct eh_event ev;
	size_t i;
	enum eh_err err;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err = parse(bad[i].body, &ev, NULL);
		if (err != bad[i].err)
			fprintf(stderr, "  case %s\n", bad[i].body);
		T_EQ_INT(err, bad[i].err);
		eh_event_free(&ev);
	}
}

static void
status_names(void)
{
	T_EQ_STR(eh_alphatrust_tx_status("10"), "Voided");
	T_EQ_STR(eh_alphatrust_tx_status("8"), "Cancelled");
	T_CHECK(eh_alphatrust_tx_status("6") == NULL);
	T_EQ_STR(eh_alphatrust_part_status("6"), "Email sent");
	T_EQ_STR(eh_alphatrust_part_status("9"), "Expired");
	T_CHECK(eh_alphatrust_part_status("10") == NULL);
}

static void
sender_field_wins(void)
{
	struct eh_event ev;

	T_EQ_INT(parse("TransID=1&EventType=transaction&TXStatus=4&"
	    "TXStatusName=Theirs", &ev, NULL), EH_OK);
	T_CHECK(strstr(ev.data, "\"TXStatusName\":\"Theirs\"") != NULL);
	eh_event_free(&ev);
}

static void
repeats_same_key(void)
{
	struct eh_event a, b;

	T_EQ_INT(parse("TransID=1&PartID=2&PartStatus=6&EventType=participant",
	    &a, NULL), EH_OK);
	T_EQ_INT(parse("EventType=participant&PartStatus=6&PartID=2&TransID=1",
	    &b, NULL), EH_OK);
	T_EQ_STR(a.dedupe_key, b.dedupe_key);
	eh_event_free(&a);
	eh_event_free(&b);
}

static const struct {
	const char *body;
	const char *problem;        /* first problem */
	const char *name, *tid;     /* NULL: null */
} readable[] = {
	{ "TransID=1", "EventType is missing", NULL, "1" },
	{ "EventType=&TransID=1", "EventType is empty", NULL, "1" },
	{ "EventType=transaction", "TransID is missing", "transaction", NULL },
	{ "EventType=transaction&TransID=12a", "TransID is not 1 to 20 digits",
	  "transaction", NULL },
	{ "EventType=transaction&TransID=", "TransID is not 1 to 20 digits",
	  "transaction", NULL },
	{ "EventType=participant&TransID=1&PartID=x",
	  "PartID is not 1 to 20 digits", "participant", "1" },
	{ "EventType=transaction&TransID=1&TXStatus=4+",
	  "TXStatus is not 1 to 20 digits", "transaction", "1" },
};

/* An authenticated delivery keeps every field; what does not fit the
 * documents is a problem, and the event or transaction id is null when
 * it could not be read. */
static void
read_with_problems(void)
{
	struct eh_form f;
	struct eh_event ev;
	json_t *d;
	size_t i;

	for (i = 0; i < sizeof(readable) / sizeof(readable[0]); i++) {
		T_EQ_INT(eh_form_parse(&f, readable[i].body,
		    strlen(readable[i].body)), EH_OK);
		T_EQ_INT(eh_alphatrust_read(&ev, &f, NULL), EH_OK);
		T_CHECK(ev.problems.n > 0);
		T_EQ_STR(ev.problems.line[0], readable[i].problem);
		T_EQ_INT(ev.known, 0);
		if (readable[i].name == NULL)
			T_CHECK(ev.name == NULL);
		else
			T_EQ_STR(ev.name, readable[i].name);
		if (readable[i].tid == NULL)
			T_CHECK(ev.transaction_id == NULL);
		else
			T_EQ_STR(ev.transaction_id, readable[i].tid);
		/* Every field is in data, as sent. */
		d = json_loads(ev.data, 0, NULL);
		T_EQ_INT(json_object_size(d), f.n);
		json_decref(d);
		eh_event_free(&ev);
		eh_form_free(&f);
	}
	T_EQ_INT(eh_form_parse(&f, "EventType=" "e" "&TransID=x&PartID=y", 29),
	    EH_OK);
	T_EQ_INT(eh_alphatrust_read(&ev, &f, NULL), EH_OK);
	T_EQ_INT(ev.problems.n, 2);
	T_EQ_STR(ev.problems.line[1], "PartID is not 1 to 20 digits");
	eh_event_free(&ev);
	eh_form_free(&f);
}

const struct t_case t_alphatrust[] = {
	{ "transaction event", transaction },
	{ "participant email sent, URL token left out", participant_email_sent },
	{ "documented EventTypes are known", event_types },
	{ "unknown EventType kept with its fields", unknown_kept },
	{ "missing and non-digit fields", bad_fields },
	{ "status code names", status_names },
	{ "a sender's own field is not overwritten", sender_field_wins },
	{ "same fields, any order, same dedupe key", repeats_same_key },
	{ "authenticated: problems, not refusals", read_with_problems },
	{ NULL, NULL }
};
