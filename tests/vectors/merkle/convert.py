#!/usr/bin/env python3
"""Convert the transparency-dev/merkle proof test data (JSON, Apache-2.0; a copy lives in
../shared/testvectors/merkle) into cases.txt, one case per line, for tests/unit/test_merkle.c:

  inclusion   <file> <leafIdx> <treeSize> <leafHash> <root> <n> <proof...> <wantErr 0|1>
  consistency <file> <size1> <size2> <root1> <root2> <n> <proof...> <wantErr 0|1>

Hashes are hex as decoded from the JSON's base64, whatever their length ("-" for none or
empty), so hashes of the wrong length reach the verifier as given.
Usage: convert.py SRC_DIR > cases.txt
"""
import base64, json, os, sys

def h(v):
    if not v:
        return "-"
    b = base64.b64decode(v)
    return b.hex() if b else "-"

def main(src):
    out = []
    for kind in ("inclusion", "consistency"):
        for root, _, files in sorted(os.walk(os.path.join(src, kind))):
            for f in sorted(files):
                if not f.endswith(".json"):
                    continue
                path = os.path.join(root, f)
                d = json.load(open(path))
                name = os.path.relpath(path, src).replace(" ", "_")
                proof = [h(p) for p in (d.get("proof") or [])]
                want = "1" if d.get("wantErr") else "0"
                if kind == "inclusion":
                    head = [kind, name, str(d["leafIdx"]), str(d["treeSize"]),
                            h(d.get("leafHash")), h(d.get("root"))]
                else:
                    head = [kind, name, str(d["size1"]), str(d["size2"]),
                            h(d.get("root1")), h(d.get("root2"))]
                out.append(" ".join(head + [str(len(proof))] + proof + [want]))
    sys.stdout.write("\n".join(out) + "\n")

main(sys.argv[1] if len(sys.argv) > 1 else "../shared/testvectors/merkle")
