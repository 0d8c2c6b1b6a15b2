/* lib/err.c: every cause has a status and a reason. */
#include "../lib/esignhook.h"
#include "t.h"

static void
every_error(void)
{
	int e, s;

	for (e = 0; e < EH_ERR__MAX; e++) {
		s = eh_err_status((enum eh_err)e);
		T_CHECK(s >= 200 && s <= 599);
		T_CHECK(eh_strerror((enum eh_err)e) != NULL);
		T_CHECK(strlen(eh_strerror((enum eh_err)e)) > 1);
		/* One line, no room to forge a header or a log line. */
		T_CHECK(strpbrk(eh_strerror((enum eh_err)e), "\r\n") == NULL);
		T_CHECK(strlen(eh_strerror((enum eh_err)e)) < 200);
	}
	T_EQ_INT(eh_err_status(EH_ERR_SPOOL_FULL), 503);
	T_EQ_INT(eh_err_status(EH_ERR_AUTH_WRONG), 401);
	T_EQ_INT(eh_err_status(EH_ERR_MEDIA_TYPE), 415);
	/* RFC 6749 5.2 and RFC 6750 3.1. */
	T_EQ_INT(eh_err_status(EH_ERR_OAUTH_REQUEST), 400);
	T_EQ_INT(eh_err_status(EH_ERR_OAUTH_GRANT), 400);
	T_EQ_INT(eh_err_status(EH_ERR_MULTIPART), 400);
	T_EQ_INT(eh_err_status(EH_ERR_OAUTH_NONE), 401);
	T_EQ_INT(eh_err_status(EH_ERR_OAUTH_CLIENT), 401);
	T_EQ_INT(eh_err_status(EH_ERR_OAUTH_SECRET), 401);
	T_EQ_INT(eh_err_status(EH_ERR_TOKEN_MALFORMED), 401);
	T_EQ_INT(eh_err_status(EH_ERR_TOKEN_MAC), 401);
	T_EQ_INT(eh_err_status(EH_ERR_TOKEN_EXPIRED), 401);
	T_EQ_INT(eh_err_status(EH_ERR__MAX), 500);
	T_EQ_STR(eh_strerror(EH_ERR__MAX), "unknown error");
}

const struct t_case t_err[] = {
	{ "every cause maps to a status and a one-line reason", every_error },
	{ NULL, NULL }
};
