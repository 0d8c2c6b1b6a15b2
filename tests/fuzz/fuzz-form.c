/*
 * The form decoder: any bytes in, a form or an error out, no crash;
 * strictly, and with a problem list (an authenticated delivery), as a
 * body and as a query.  What it keeps is well-formed: named, UTF-8, no
 * name twice, and each problem one bounded UTF-8 line.
 */
#include <string.h>

#include "../../lib/esignhook.h"
#include "fuzz.h"

static void
check_form(const struct eh_form *f)
{
	size_t i, k;

	if (f->n > EH_FORM_MAX_FIELDS)
		__builtin_trap();
	for (i = 0; i < f->n; i++) {
		if (!eh_utf8_valid(f->value[i], strlen(f->value[i])) ||
		    !eh_utf8_valid(f->name[i], strlen(f->name[i])) ||
		    *f->name[i] == '\0')
			__builtin_trap();
		for (k = 0; k < i; k++)
			if (strcmp(f->name[k], f->name[i]) == 0)
				__builtin_trap();
	}
}

static void
check_problems(const struct eh_problems *pr)
{
	size_t i, k, n;

	if (pr->n > EH_PROBLEMS_MAX || (pr->dropped > 0 &&
	    pr->n != EH_PROBLEMS_MAX))
		__builtin_trap();
	for (i = 0; i < pr->n; i++) {
		n = strlen(pr->line[i]);
		if (n == 0 || n >= EH_PROBLEM_MAX ||
		    !eh_utf8_valid(pr->line[i], n))
			__builtin_trap();
		for (k = 0; k < n; k++)
			if ((unsigned char)pr->line[i][k] < 0x20)
				__builtin_trap();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct eh_form f, g;
	struct eh_problems pr;
	enum eh_err strict, err;
	unsigned flags;

	strict = eh_form_parse(&f, (const char *)data, size);
	if (strict == EH_OK) {
		check_form(&f);
		eh_form_free(&f);
	} else if (f.n != 0)
		__builtin_trap();
	for (flags = 0; flags <= EH_FORM_QUERY; flags += EH_FORM_QUERY) {
		memset(&pr, 0, sizeof(pr));
		err = eh_form_read(&g, (const char *)data, size, flags, &pr);
		check_problems(&pr);
		if (err == EH_OK)
			check_form(&g);
		else if (err != EH_ERR_NOMEM && (g.n != 0 || pr.n == 0))
			/* A body refused says why. */
			__builtin_trap();
		/* Strictly accepted as a body: no problem with a list. */
		if (flags == 0 && strict == EH_OK && (err != EH_OK || pr.n != 0))
			__builtin_trap();
		eh_form_free(&g);
	}
	return 0;
}
