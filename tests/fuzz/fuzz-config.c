/* The configuration file parser and every key's value parser. */
#include "../../lib/esignhook.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct eh_conffile cf;
	struct eh_config cfg, copy;
	size_t line;

	if (eh_conffile_parse(&cf, (const char *)data, size, &line) != EH_OK)
		return 0;
	eh_config_init(&cfg);
	(void)eh_config_apply(&cfg, eh_conffile_lookup, &cf, NULL);
	if (eh_config_copy(&copy, &cfg) == EH_OK)
		eh_config_free(&copy);
	eh_config_free(&cfg);
	eh_conffile_free(&cf);
	return 0;
}
