#!/usr/bin/python3
"""Write the signed-note and proof vectors of FS §9 from first principles
(pyca/cryptography, no custos code): a checkpoint of a two-leaf log (leaf 0 =
item-record.txt, leaf 1 = event-ingest.txt) signed by the vector key, the same note
cosigned by a witness vector key, and an exhibit proof of the item against it.
tests/unit/test_note.c rebuilds the notes with custos and compares bytes;
tests/unit/test_proof.c has custos verify the proof.

    /usr/bin/python3 format-spec/vectors/make-note-vectors.py   (run in any directory)
"""
import base64
import hashlib
import os
import struct

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

HERE = os.path.dirname(os.path.abspath(__file__))
VAULT = "00112233445566778899aabbccddeeff"
ORIGIN = "custos.invalid/" + VAULT
WITNESS = "witness.example/custos-w1"
COSIGN_TIME = 1795867700  # 2026-11-28T12:08:20Z


def key(first_byte, name, type_byte):
    sk = Ed25519PrivateKey.from_private_bytes(bytes(range(first_byte, first_byte + 32)))
    pk = sk.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    keyid = hashlib.sha256(name.encode() + b"\n" + bytes([type_byte]) + pk).digest()[:4]
    vkey = "%s+%s+%s" % (name, keyid.hex(), base64.b64encode(bytes([type_byte]) + pk).decode())
    return sk, keyid, vkey


def leaf(data):
    return hashlib.sha256(b"\x00" + data).digest()


def node(left, right):
    return hashlib.sha256(b"\x01" + left + right).digest()


def read(name):
    with open(os.path.join(HERE, name), "rb") as f:
        return f.read()


def write(name, data):
    with open(os.path.join(HERE, name), "wb") as f:
        f.write(data)


def sig_line(name, blob):
    return ("\u2014 %s %s\n" % (name, base64.b64encode(blob).decode())).encode()


log_sk, log_id, log_vkey = key(0xC0, ORIGIN, 0x01)
wit_sk, wit_id, wit_vkey = key(0xE0, WITNESS, 0x04)

root = node(leaf(read("item-record.txt")), leaf(read("event-ingest.txt")))
text = ("%s\n%d\n%s\n" % (ORIGIN, 2, base64.b64encode(root).decode())).encode()
note = text + b"\n" + sig_line(ORIGIN, log_id + log_sk.sign(text))
cosig_msg = b"cosignature/v1\ntime %d\n" % COSIGN_TIME + text
cosig = wit_id + struct.pack(">Q", COSIGN_TIME) + wit_sk.sign(cosig_msg)

write("checkpoint.vkey", (log_vkey + "\n").encode())
write("witness.vkey", (wit_vkey + "\n").encode())
write("checkpoint.note", note)
write("checkpoint-cosigned.note", note + sig_line(WITNESS, cosig))

record = read("item-record.txt")
item = hashlib.sha256(record).hexdigest()[:32]
proof = "custos-proof 1\nitem %s\nleaf 0\nrecord %s\nrecord-signature %s\ninclusion %s\n\n" % (
    item,
    base64.b64encode(record).decode(),
    base64.b64encode(log_sk.sign(record)).decode(),
    base64.b64encode(leaf(read("event-ingest.txt"))).decode(),
)
write("proof.txt", proof.encode() + note + sig_line(WITNESS, cosig))
