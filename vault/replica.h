/*
 * replica — a vault that mirrors another custodian's log (FS §11.4). Its `REPLICA` file
 * names the origin's key and the replica's own custodian; its custody log is the origin's,
 * commit for commit, taken in by imports (bundle.c); its imports are events of its own log,
 * the branch refs/heads/imports of custody.git, signed by the replica's custodian.
 */
#ifndef CUSTOS_REPLICA_H
#define CUSTOS_REPLICA_H

#include "common.h"
#include "record.h"

#define REPLICA_FILE "REPLICA"

typedef struct replica_info {
	custos_pubkey of;        /* the origin's custodian key */
	custos_pubkey custodian; /* the replica's own key: it signs import events */
	int64_t created;
} replica_info;

int replica_parse(replica_info *r, const uint8_t *text, size_t n);
/* Read dir/REPLICA: 0, CUSTOS_ENOTFOUND when the vault is not a replica. */
int replica_read(const char *dir, replica_info *r);
/* The vault's identity as its init event states it (the marker a replica writes). */
int vault_info_from_init(custos_vault_info *info, const event *ev);

#endif
