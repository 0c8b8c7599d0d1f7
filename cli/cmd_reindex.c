/*
 * cmd_reindex.c — custos reindex: rebuild the derived index.
 */
#include "cli.h"

int cmd_reindex(cli *c, int argc, char **argv)
{
	(void)argv;
	if (argc != 1)
		return usage_error("reindex", "takes no arguments");
	custos_vault *v = NULL;
	int st = open_vault(c, &v, CUSTOS_OPEN_WRITE);
	if (st)
		return st;
	int rc = custos_vault_reindex(v);
	if (rc == 0)
		printf("index rebuilt: %llu events\n",
		       (unsigned long long)custos_vault_get_info(v)->events);
	custos_vault_close(v);
	return rc < 0 ? fail(rc, "reindex failed") : 0;
}
