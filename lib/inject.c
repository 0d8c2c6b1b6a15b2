/*
 * An event given by hand (esignhookctl inject): OneSpan does not
 * redeliver a callback that failed, it e-mails the payload to the
 * sender, and this is how an operator puts it back.  It goes through
 * the receiver's own parsers, record and spool code; only the
 * authentication is the operator's, who can write the spool anyway.
 */
#include <string.h>

#include "esignhook.h"
#include "extern.h"

enum eh_err
eh_inject(struct eh_spool *sp, enum eh_provider provider, const char *buf,
    size_t len, char id[EH_ID_LEN + 1], int *dup)
{
	struct eh_event ev;
	struct eh_form form;
	enum eh_err err;

	*dup = 0;
	id[0] = '\0';
	memset(&ev, 0, sizeof(ev));
	if (provider == EH_PROVIDER_ONESPAN) {
		err = eh_onespan_parse(&ev, buf, len);
	} else if (provider == EH_PROVIDER_ALPHATRUST) {
		/* A form copied from a file often ends in a newline. */
		while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
			len--;
		err = eh_form_parse(&form, buf, len);
		if (err == EH_OK) {
			err = eh_alphatrust_parse(&ev, &form, NULL);
			eh_form_free(&form);
		}
	} else
		err = EH_ERR_PROVIDER;
	if (err == EH_OK)
		err = eh_spool_put(sp, &ev, NULL, id, dup);
	eh_event_free(&ev);
	return err;
}
