/*
 * cmd_prove.c — custos prove ITEM -o FILE (an exhibit proof against the latest checkpoint)
 * and custos verify-proof FILE [EXHIBIT] (checks one with no vault at all).
 */
#include "cli.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#define PROOF_FILE_MAX (4 << 20)

int cmd_prove(cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{"output", required_argument, NULL, 'o'},
		{NULL, 0, NULL, 0},
	};
	const char *out = NULL;
	int ch;
	while ((ch = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
		if (ch != 'o')
			return usage_error("prove", "bad option");
		out = optarg;
	}
	if (argc - optind != 1)
		return usage_error("prove", "expected one ITEM");
	custos_vault *v = NULL;
	custos_item *item = NULL;
	char *proof = NULL;
	size_t n = 0;
	int st = open_vault(c, &v, CUSTOS_OPEN_READ);
	if (st)
		return st;
	int rc = custos_item_find(&item, v, argv[optind], CUSTOS_FIND_EXACT);
	if (rc == 0)
		rc = custos_prove(v, item, &proof, &n);
	if (rc < 0)
		st = fail(rc, "cannot prove %s", argv[optind]);
	else if (!out)
		fwrite(proof, 1, n, stdout);
	else if ((rc = custos_file_write(out, proof, n)) < 0)
		st = fail(rc, "cannot write the proof");
	else
		printf("proof of item %s written to %s (%zu bytes)\n", item->id_hex, out, n);
	free(proof);
	custos_item_free(item);
	custos_vault_close(v);
	return st;
}

static void print_result(const custos_proof_result *r, const custos_proof_opts *o, bool json)
{
	char sha[65];
	custos_hex(sha, r->rec.sha256, 32);
	if (json) {
		printf("],\"ok\":%s,\"item\":\"%s\",\"sha256\":\"%s\",\"size\":%llu,\"leaf\":%llu,"
		       "\"tree_size\":%llu,\"origin\":",
		       r->problems ? "false" : "true", r->item, sha, (unsigned long long)r->rec.size,
		       (unsigned long long)r->leaf, (unsigned long long)r->tree_size);
		json_str(stdout, r->origin);
		printf(",\"witnesses_ok\":%zu,\"exhibit\":%s}\n", r->witnesses_ok,
		       r->exhibit_ok < 0 ? "null" : r->exhibit_ok ? "true" : "false");
		return;
	}
	if (r->problems) {
		printf("FAILED: %llu problem%s\n", (unsigned long long)r->problems,
		       r->problems == 1 ? "" : "s");
		return;
	}
	printf("ok: item %s (sha256 %s, %llu bytes)\n", r->item, sha, (unsigned long long)r->rec.size);
	printf("  record signed by the trusted custodian key; leaf %llu of %s at tree size %llu\n",
	       (unsigned long long)r->leaf, r->origin, (unsigned long long)r->tree_size);
	if (o->n_witnesses)
		printf("  checkpoint signed by the custodian; %zu of %zu given witness%s cosigned it\n",
		       r->witnesses_ok, o->n_witnesses, o->n_witnesses == 1 ? "" : "es");
	else
		printf("  checkpoint signed by the custodian (no --witness given: cosignatures not "
		       "checked)\n");
	if (r->exhibit_ok > 0)
		printf("  %s is this exhibit, byte for byte\n", o->exhibit);
}

int cmd_verify_proof(cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		TRUST_OPTIONS,
		{"json", no_argument, NULL, 'j'},
		{NULL, 0, NULL, 0},
	};
	(void)c;
	trust_args ta;
	problem_out vo = {.first = true};
	int ch, st = trust_args_init(&ta, argc);
	while (st == 0 && (ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		int taken = trust_args_option(&ta, "verify-proof", ch, optarg);
		if (taken > 1)
			st = taken;
		else if (!taken && ch == 'j')
			vo.json = true;
		else if (!taken)
			st = usage_error("verify-proof", "bad option");
	}
	if (st == 0 && (argc - optind < 1 || argc - optind > 2))
		st = usage_error("verify-proof", "expected FILE [EXHIBIT]");
	if (st == 0)
		st = trust_args_finish(&ta, "verify-proof");
	custos_proof_opts o = {.trust = &ta.trust, .witnesses = (const char *const *)ta.witnesses,
			       .n_witnesses = ta.n_witnesses, .min_witnesses = ta.min_witnesses,
			       .on_problem = print_problem, .ud = &vo};
	uint8_t *proof = NULL;
	size_t n = 0;
	int rc = 0;
	if (st == 0 && (rc = custos_file_read(argv[optind], PROOF_FILE_MAX, &proof, &n)) < 0)
		st = fail(rc, "cannot read the proof");
	if (st == 0) {
		custos_proof_result r;
		o.exhibit = argc - optind == 2 ? argv[optind + 1] : NULL;
		if (vo.json)
			fputs("{\"problems\":[", stdout);
		rc = custos_proof_verify(proof, n, &o, &r);
		if (rc < 0 && rc != CUSTOS_EINTEGRITY)
			st = fail(rc, "cannot verify");
		else {
			print_result(&r, &o, vo.json);
			st = r.problems ? EXIT_CHECK : EXIT_OK;
		}
		custos_proof_result_clear(&r);
	}
	trust_args_free(&ta);
	free(proof);
	return st;
}
