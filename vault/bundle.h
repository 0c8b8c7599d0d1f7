/*
 * bundle — transfer bundles (FS §11): writing (custos_bundle) and importing into a replica
 * (custos_import), in bundle.c. The header parser is exposed for the fuzz target.
 */
#ifndef CUSTOS_BUNDLE_H
#define CUSTOS_BUNDLE_H

#include "common.h"

typedef struct bheader {
	char vault[33];
	custos_pubkey owner;
	uint64_t from, to;
	bool has_base;
	uint8_t base[20], head[20];
} bheader;

/* Parse a bundle's BUNDLE member (FS §11.1). */
int bundle_header_parse(bheader *h, const uint8_t *text, size_t n);

#endif
