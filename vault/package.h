/*
 * package — exhibit packages (FS §10): writing them (package.c) and checking them with no
 * vault (package_verify.c).
 */
#ifndef CUSTOS_PACKAGE_H
#define CUSTOS_PACKAGE_H

#include "common.h"

/* At most this many bytes of an original name go into a payload file name, so that
 * "data/<id>_<name>" stays within a plain ustar header. */
#define PACKAGE_NAME_MAX 60
/* An exhibit's ingest event goes into its package only up to this size (an ingest of about
 * 1,400 items): the package of one exhibit of a huge ingest stays O(log n) (FS §10.1). */
#define PACKAGE_EVENT_MAX ((size_t)64 << 10)

/* Append name bytes made safe for every BagIt validator and file system: letters, digits,
 * '-', '_' and '.' (not first); anything else becomes '_'. */
void package_safe_name(buf *b, const uint8_t *p, size_t n, size_t max);

/* The custodian key's files in a package's tag directory, one per public key form. */
typedef struct package_key_file {
	const char *path;
	enum custos_pubkey_form form;
} package_key_file;
extern const package_key_file package_key_files[3];

/* Check a package held in memory (the fuzz target's entry; custos_package_verify reads a
 * file). */
int package_verify_mem(const uint8_t *p, size_t n, const custos_package_opts *o,
		       custos_package_result *out);

#endif
