/*
 * cmd_package.c — custos export ITEM... -o FILE.tar [--no-content] (an exhibit package,
 * FS §10) and custos verify-package FILE.tar --trust KEY (checks one with no vault).
 */
#include "cli.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

typedef struct export_out {
	bool json, first;
} export_out;

static void on_exported(const custos_item *item, const char *payload, void *ud)
{
	export_out *o = ud;
	if (o->json) {
		printf("%s{\"item\":\"%s\",\"payload\":", o->first ? "" : ",", item->id_hex);
		if (payload)
			json_str(stdout, payload);
		else
			fputs("null", stdout);
		fputs(",\"name\":", stdout);
		json_bytes(stdout, item->rec.name.p, item->rec.name.n);
		printf(",\"size\":%llu}", (unsigned long long)item->rec.size);
		o->first = false;
		return;
	}
	printf("%s  ", item->id_hex);
	print_bytes(stdout, item->rec.name.p, item->rec.name.n);
	printf("  -> %s\n", payload ? payload : "(proofs only)");
}

int cmd_export(cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{"output", required_argument, NULL, 'o'},
		{"no-content", no_argument, NULL, 'n'},
		{"json", no_argument, NULL, 'j'},
		{NULL, 0, NULL, 0},
	};
	const char *out = NULL;
	export_out eo = {.first = true};
	custos_export_opts o = {.on_exhibit = on_exported, .ud = &eo};
	int ch;
	while ((ch = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
		if (ch == 'o')
			out = optarg;
		else if (ch == 'n')
			o.no_content = 1;
		else if (ch == 'j')
			eo.json = true;
		else
			return usage_error("export", "bad option");
	}
	if (argc - optind < 1)
		return usage_error("export", "expected at least one ITEM");
	if (!out)
		return usage_error("export", "-o FILE.tar is required");
	custos_vault *v = NULL;
	custos_key *key = NULL;
	int st = open_vault(c, &v, CUSTOS_OPEN_READ);
	if (st)
		return st;
	if ((st = load_key(c, &key)) != 0) {
		custos_vault_close(v);
		return st;
	}
	custos_export_summary sum;
	if (eo.json)
		fputs("{\"exhibits\":[", stdout);
	int rc = custos_export(v, key, (const char *const *)argv + optind, (size_t)(argc - optind),
			       out, &o, &sum);
	if (rc < 0) {
		if (eo.json)
			puts("]}");
		st = fail(rc, "cannot export to %s", out);
	} else if (eo.json) {
		fputs("],\"package\":", stdout);
		json_str(stdout, out);
		printf(",\"files\":%llu,\"payload_files\":%llu,\"payload_bytes\":%llu,"
		       "\"tree_size\":%llu,\"events_left_out\":%llu}\n",
		       (unsigned long long)sum.files, (unsigned long long)sum.payload_files,
		       (unsigned long long)sum.payload_bytes, (unsigned long long)sum.tree_size,
		       (unsigned long long)sum.events_left_out);
	} else {
		printf("package %s: %llu exhibit(s), %llu bytes of content, %llu files; proven "
		       "against the checkpoint of tree size %llu\n",
		       out, (unsigned long long)sum.exhibits, (unsigned long long)sum.payload_bytes,
		       (unsigned long long)sum.files, (unsigned long long)sum.tree_size);
		if (sum.events_left_out)
			printf("  %llu ingest event(s) over 64 KiB left out (the proofs carry the "
			       "records; the events stay in the vault)\n",
			       (unsigned long long)sum.events_left_out);
	}
	custos_key_free(key);
	custos_vault_close(v);
	return st;
}

typedef struct vp_out {
	problem_out po;
	FILE *ex; /* JSON: the exhibits, printed after the problems */
	char *ex_text;
	size_t ex_len;
} vp_out;

static void on_checked(const custos_package_exhibit *e, void *ud)
{
	vp_out *o = ud;
	if (!o->po.json) {
		printf("exhibit %s: %s%s", e->item,
		       e->content_ok > 0   ? "content matches its record"
		       : e->content_ok < 0 ? "no content in the package"
					   : "CONTENT DOES NOT MATCH",
		       e->proof_ok ? "; proof verifies" : "; PROOF FAILS");
		if (e->held)
			printf("; %s is this exhibit", e->held);
		putchar('\n');
		return;
	}
	fprintf(o->ex, "%s{\"item\":\"%s\",\"payload\":", ftell(o->ex) ? "," : "", e->item);
	if (e->payload)
		json_str(o->ex, e->payload);
	else
		fputs("null", o->ex);
	fprintf(o->ex, ",\"content_ok\":%s,\"proof_ok\":%s,\"held\":",
		e->content_ok < 0 ? "null" : e->content_ok ? "true" : "false",
		e->proof_ok ? "true" : "false");
	if (e->held)
		json_str(o->ex, e->held);
	else
		fputs("null", o->ex);
	if (e->rec) {
		fputs(",\"name\":", o->ex);
		json_bytes(o->ex, e->rec->name.p, e->rec->name.n);
		fprintf(o->ex, ",\"size\":%llu", (unsigned long long)e->rec->size);
	}
	fputc('}', o->ex);
}

int cmd_verify_package(cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		TRUST_OPTIONS,
		{"exhibit", required_argument, NULL, 'e'},
		{"json", no_argument, NULL, 'j'},
		{NULL, 0, NULL, 0},
	};
	(void)c;
	trust_args ta;
	const char **held = calloc((size_t)argc + 1, sizeof *held);
	vp_out vo = {.po = {.first = true}};
	size_t n_held = 0;
	int ch, st = trust_args_init(&ta, argc);
	if (st == 0 && !held)
		st = fail(CUSTOS_ERROR, "out of memory");
	while (st == 0 && (ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		int taken = trust_args_option(&ta, "verify-package", ch, optarg);
		if (taken > 1)
			st = taken;
		else if (!taken && ch == 'e')
			held[n_held++] = optarg;
		else if (!taken && ch == 'j')
			vo.po.json = true;
		else if (!taken)
			st = usage_error("verify-package", "bad option");
	}
	if (st == 0 && argc - optind != 1)
		st = usage_error("verify-package", "expected one FILE.tar");
	if (st == 0)
		st = trust_args_finish(&ta, "verify-package");
	custos_package_opts o = {.trust = &ta.trust, .witnesses = (const char *const *)ta.witnesses,
				 .n_witnesses = ta.n_witnesses, .min_witnesses = ta.min_witnesses,
				 .exhibits = held, .n_exhibits = n_held, .on_problem = print_problem,
				 .on_exhibit = on_checked, .ud = &vo};
	if (st == 0) {
		custos_package_result r;
		if (vo.po.json) {
			fputs("{\"problems\":[", stdout);
			if (!(vo.ex = open_memstream(&vo.ex_text, &vo.ex_len)))
				vo.po.json = false;
		}
		int rc = custos_package_verify(argv[optind], &o, &r);
		if (rc < 0 && rc != CUSTOS_EINTEGRITY) {
			if (vo.po.json)
				puts("]}");
			st = fail(rc, "cannot verify %s", argv[optind]);
		} else if (vo.po.json) {
			printf("],\"ok\":%s,\"vault\":\"%s\",\"exhibits\":%llu,\"files\":%llu,"
			       "\"payload_files\":%llu,\"payload_bytes\":%llu,\"tree_size\":%llu,"
			       "\"witnesses_ok\":%zu",
			       r.problems ? "false" : "true", r.vault, (unsigned long long)r.exhibits,
			       (unsigned long long)r.files, (unsigned long long)r.payload_files,
			       (unsigned long long)r.payload_bytes, (unsigned long long)r.tree_size,
			       r.witnesses_ok);
			fclose(vo.ex);
			vo.ex = NULL;
			printf(",\"exhibit_results\":[%s]}\n", vo.ex_text ? vo.ex_text : "");
			st = r.problems ? EXIT_CHECK : EXIT_OK;
		} else {
			if (r.problems)
				printf("FAILED: %llu problem%s in %s\n", (unsigned long long)r.problems,
				       r.problems == 1 ? "" : "s", argv[optind]);
			else
				printf("ok: %s: %llu exhibit(s) of vault %s, bag complete and valid, "
				       "signed by the trusted custodian key, proven against the "
				       "checkpoint of tree size %llu%s\n",
				       argv[optind], (unsigned long long)r.exhibits, r.vault,
				       (unsigned long long)r.tree_size,
				       o.n_witnesses ? " with the given witnesses' cosignatures"
						     : " (no --witness given: cosignatures not checked)");
			st = r.problems ? EXIT_CHECK : EXIT_OK;
		}
	}
	if (vo.ex)
		fclose(vo.ex);
	free(vo.ex_text);
	trust_args_free(&ta);
	free(held);
	return st;
}
