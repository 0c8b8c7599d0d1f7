/*
 * checkpoint — the vault side of the Merkle log (FS §9): checkpoints and cosignatures as
 * custody events, consistency and exhibit proofs. Shared with fsck, which re-derives
 * every checkpoint note from the log.
 */
#ifndef CUSTOS_CHECKPOINT_H
#define CUSTOS_CHECKPOINT_H

#include "common.h"
#include "note.h"

/* "custos.invalid/<vault id>": origin and note key name of a vault. */
void checkpoint_origin(char out[NOTE_NAME_MAX + 1], const char *vault_id);
int checkpoint_vkey(note_vkey *out, const char *vault_id, const custos_pubkey *pub);
/* The checkpoint text (FS §9.2) of a tree of this vault. */
void checkpoint_text_of(buf *b, const char *vault_id, uint64_t size, const uint8_t root[32]);
/* The custodian-signed note of a checkpoint event (without cosignatures). */
void checkpoint_note(buf *b, const char *vault_id, uint64_t size, const uint8_t root[32],
		     const uint8_t sig[68]);
/* Parse a checkpoint note from outside and check its origin and custodian signature. */
int checkpoint_open(note *nt, checkpoint_text *ct, const uint8_t *p, size_t n,
		    const char *vault_id, const custos_pubkey *custodian);
/* Does the log extend the checkpoint? 0, or CUSTOS_EINTEGRITY naming rollback or fork. */
int checkpoint_against_log(custos_vault *v, const checkpoint_text *ct);
/* Append the exhibit proof (FS §9.5) of an item against checkpoint cp to b. */
int proof_make(custos_vault *v, const custos_item *item, const custos_checkpoint *cp, buf *b);
/* Check the cosignatures on a checkpoint note of each witness verifier key given; reports
 * bad-witness-key, bad-cosignature and (fewer than min valid) missing-cosignature.
 * Returns the number of valid ones. */
size_t proof_check_witnesses(const note *nt, const char *const *witnesses, size_t n, size_t min,
			     const char *where, problem_fn on_problem, void *ud, uint64_t *problems);

#endif
