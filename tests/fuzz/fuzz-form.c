/* The form decoder: any bytes in, a form or an error out, no crash. */
#include <string.h>

#include "../../lib/esignhook.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct eh_form f;
	size_t i;

	if (eh_form_parse(&f, (const char *)data, size) == EH_OK) {
		for (i = 0; i < f.n; i++)
			if (!eh_utf8_valid(f.value[i], strlen(f.value[i])) ||
			    !eh_utf8_valid(f.name[i], strlen(f.name[i])) ||
			    *f.name[i] == '\0')
				__builtin_trap();
		eh_form_free(&f);
	}
	return 0;
}
