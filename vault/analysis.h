/*
 * analysis — what the vault's analysis events are made of (FS §13), for fsck: the DKIM keys
 * a dkim-key event adds, and one item's analysis done again, so a recorded analysis can be
 * checked against the bytes it speaks of. (The public side is in custos.h: dkim-key add,
 * analyse, analyses of an item.)
 */
#ifndef CUSTOS_ANALYSIS_H
#define CUSTOS_ANALYSIS_H

#include "dkimkeys.h"
#include "evidence.h"
#include "record.h"

/* The records of a dkim-key event, added to ks as an analysis finds them. */
int analysis_keys_add_event(dkim_keyset *ks, const event *ev);

/* The lines (item line first) an analysis at time now with these keys writes for the item;
 * none when it is not analysable. Free with line_list_free. */
int analysis_redo(custos_vault *v, const dkim_keyset *keys, int64_t now,
		  const uint8_t id[CUSTOS_ITEM_ID_LEN], line_list *out);

#endif
