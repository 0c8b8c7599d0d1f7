/*
 * cmd_cat.c — custos cat ITEM: the stored bytes, checked while they are written.
 */
#include "cli.h"

#include <unistd.h>

int cmd_cat(cli *c, int argc, char **argv)
{
	if (argc != 2 || argv[1][0] == '-')
		return usage_error("cat", "expected one ITEM");
	custos_vault *v = NULL;
	int st = open_vault(c, &v, CUSTOS_OPEN_READ);
	if (st)
		return st;
	custos_item *it = NULL;
	int rc = custos_item_find(&it, v, argv[1], CUSTOS_FIND_ANY_RECEIPT);
	if (rc == 0) {
		fflush(stdout);
		rc = custos_item_cat(v, it, STDOUT_FILENO);
	}
	custos_item_free(it);
	custos_vault_close(v);
	return rc < 0 ? fail_last(rc) : 0;
}
