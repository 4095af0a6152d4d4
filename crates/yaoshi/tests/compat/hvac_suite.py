#!/usr/bin/env python3
"""Transit compatibility suite driven through the `hvac` client library.

Usage: hvac_suite.py ADDR TOKEN --flavor openbao|yaoshi

Runs against any Vault-compatible server. `--flavor openbao` is the
reference run (real OpenBao dev server); `--flavor yaoshi` also covers the
SM key types (sm4-gcm96, sm2) and the sm3 hash/HMAC algorithm.

hvac validates some arguments client-side against Vault's historical lists
(it rejects key_type aes128-gcm96 / sm4-gcm96 / sm2 and algorithm sm3), so for
those calls the suite goes through hvac's own adapter (`client.adapter.post`),
which still maps HTTP errors to hvac exceptions the way hvac users see them.

Exits non-zero with a message on the first failure; on success prints
`hvac suite: N checks passed`.
"""

import argparse
import base64
import hashlib
import hmac as pyhmac
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import uuid

import hvac
import hvac.exceptions as hexc
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305

from checks import Counter, SuiteFailure, b64, check, eq, unb64


def raises(exc_type, fn, what, contains=None):
    """fn() must raise exc_type (and its message must contain `contains`)."""
    try:
        fn()
    except exc_type as e:
        if contains is not None:
            check(contains in str(e), f"{what}: error {str(e)!r} lacks {contains!r}")
        else:
            check(True, what)
        return e
    except Exception as e:  # noqa: BLE001 - report the wrong exception type
        raise SuiteFailure(f"{what}: expected {exc_type.__name__}, got {type(e).__name__}: {e}")
    raise SuiteFailure(f"{what}: expected {exc_type.__name__}, nothing was raised")


def ct_bytes(ct: str) -> bytes:
    parts = ct.split(":")
    check(len(parts) == 3 and parts[0] == "vault" and parts[1].startswith("v"), f"ciphertext shape {ct!r}")
    return unb64(parts[2])


class Suite:
    def __init__(self, addr, token, flavor):
        self.flavor = flavor
        self.client = hvac.Client(url=addr, token=token, timeout=30)
        self.addr = addr
        self.mp = "hv" + uuid.uuid4().hex[:8]  # our own mount, removed at the end
        self.t = self.client.secrets.transit

    # raw helper through hvac's adapter (see module docstring)
    def post(self, path, body=None):
        return self.client.adapter.post(f"/v1/{self.mp}/{path}", json=body or {})

    def get(self, path):
        return self.client.adapter.get(f"/v1/{self.mp}/{path}")

    def create(self, name, key_type, **kw):
        if key_type in ("aes128-gcm96", "sm4-gcm96", "sm2"):
            body = {"type": key_type}
            body.update({k: v for k, v in kw.items() if v is not None})
            return self.post(f"keys/{name}", body)
        return self.t.create_key(name, key_type=key_type, mount_point=self.mp, **kw)

    # ------------------------------------------------------------------ sys
    def sys_and_auth(self):
        c = self.client
        check(c.is_authenticated(), "root token authenticates")
        st = c.sys.read_seal_status()
        eq(st["sealed"], False, "seal-status sealed")
        eq(st["initialized"], True, "seal-status initialized")
        check(isinstance(st["t"], int) and isinstance(st["n"], int), "seal-status t/n are integers")
        eq(c.sys.is_sealed(), False, "is_sealed")
        eq(c.sys.is_initialized(), True, "is_initialized")
        health = c.sys.read_health_status(method="GET")
        eq(health["sealed"], False, "health sealed")
        eq(health["standby"], False, "health standby")

        c.sys.enable_secrets_engine("transit", path=self.mp, description="hvac suite")
        mounts = c.sys.list_mounted_secrets_engines()
        data = mounts.get("data", mounts)
        check(f"{self.mp}/" in data, f"mount {self.mp}/ listed")
        eq(data[f"{self.mp}/"]["type"], "transit", "mount type")
        eq(data[f"{self.mp}/"]["description"], "hvac suite", "mount description")
        raises(hexc.InvalidRequest, lambda: c.sys.enable_secrets_engine("transit", path=self.mp),
               "mounting twice", contains="path is already in use")

        tok = c.auth.token.create(policies=["default"], ttl="1h")
        child = tok["auth"]["client_token"]
        check(isinstance(child, str) and child, "token create returns client_token")
        # yaoshi tokens carry their principal's roles; requested policies are
        # ignored with a warning.
        want = ["default"] if self.flavor == "openbao" else ["root"]
        eq(tok["auth"]["policies"], want, "token create policies")
        eq(tok["auth"]["lease_duration"], 3600, "token create lease_duration")
        me = c.auth.token.lookup_self()
        eq(me["data"]["policies"], ["root"], "root lookup-self policies")
        cc = hvac.Client(url=self.addr, token=child, timeout=30)
        look = cc.auth.token.lookup_self()
        eq(look["data"]["id"], child, "child lookup-self id")
        check(0 < look["data"]["ttl"] <= 3600, "child ttl within 1h")
        if self.flavor == "openbao":
            raises(hexc.Forbidden, lambda: cc.secrets.transit.list_keys(mount_point=self.mp),
                   "default-policy token cannot list transit keys")
        else:
            # An app principal with a grant on other keys only may not list.
            made = c.adapter.post("/v1/sys/principals/hvac-app",
                                  json={"roles": ["app"], "grants": ["app-*:encrypt"]})
            app = hvac.Client(url=self.addr, token=made["data"]["token"], timeout=30)
            raises(hexc.Forbidden, lambda: app.secrets.transit.list_keys(mount_point=self.mp),
                   "app token without a read grant cannot list transit keys")
            c.adapter.delete("/v1/sys/principals/hvac-app")
            raises(hexc.Forbidden, lambda: app.auth.token.lookup_self(),
                   "revoked principal's token is refused")
        cc.auth.token.revoke_self()
        raises(hexc.Forbidden, lambda: cc.auth.token.lookup_self(), "revoked token is refused")
        bad = hvac.Client(url=self.addr, token="not-a-token", timeout=30)
        check(not bad.is_authenticated(), "bad token is not authenticated")
        raises(hexc.Forbidden, lambda: bad.secrets.transit.read_key("x", mount_point=self.mp),
               "bad token → Forbidden", contains="permission denied")

    # ------------------------------------------------------------ symmetric
    def symmetric(self, key_type):
        t, mp = self.t, self.mp
        name = "sym-" + key_type
        r = self.create(name, key_type)
        # Current OpenBao answers key creation with 200 + the key; older Vault with 204.
        check(r is None or (hasattr(r, "status_code") and r.status_code == 204) or r["data"]["name"] == name,
              f"create {key_type} response")
        k = t.read_key(name, mount_point=mp)["data"]
        eq(k["type"], key_type, "key type")
        eq(k["name"], name, "key name")
        eq(k["latest_version"], 1, "latest_version")
        eq(k["min_decryption_version"], 1, "min_decryption_version")
        eq(k["supports_encryption"], True, "supports_encryption")
        eq(k["supports_signing"], False, "supports_signing")
        eq(sorted(k["keys"]), ["1"], "versions")
        check(isinstance(k["keys"]["1"], int), "symmetric key version value is a unix time integer")
        check(name in t.list_keys(mount_point=mp)["data"]["keys"], "key listed")

        pt = os.urandom(40)
        c1 = t.encrypt_data(name, plaintext=b64(pt), mount_point=mp)["data"]
        check(c1["ciphertext"].startswith("vault:v1:"), "ciphertext prefix v1")
        eq(c1["key_version"], 1, "encrypt key_version")
        eq(unb64(t.decrypt_data(name, ciphertext=c1["ciphertext"], mount_point=mp)["data"]["plaintext"]), pt,
           "decrypt round trip")
        c1b = t.encrypt_data(name, plaintext=b64(pt), mount_point=mp)["data"]["ciphertext"]
        check(c1b != c1["ciphertext"], "encryption is randomised")
        blob = ct_bytes(c1["ciphertext"])
        eq(len(blob), 12 + len(pt) + 16, "ciphertext = 12-byte nonce + body + 16-byte tag")
        # empty plaintext is legal
        ce = t.encrypt_data(name, plaintext="", mount_point=mp)["data"]["ciphertext"]
        eq(t.decrypt_data(name, ciphertext=ce, mount_point=mp)["data"]["plaintext"], "", "empty plaintext round trip")

        # batch with references
        items = [{"plaintext": b64(b"one"), "reference": "r-1"}, {"plaintext": b64(b"two"), "reference": "r-2"}]
        br = t.encrypt_data(name, batch_input=items, mount_point=mp)["data"]["batch_results"]
        eq([x["reference"] for x in br], ["r-1", "r-2"], "encrypt batch references")
        dr = t.decrypt_data(name, batch_input=[{"ciphertext": x["ciphertext"], "reference": x["reference"]} for x in br],
                            mount_point=mp)["data"]["batch_results"]
        eq([(unb64(x["plaintext"]), x["reference"]) for x in dr], [(b"one", "r-1"), (b"two", "r-2")],
           "decrypt batch plaintexts and references")
        # batch with a bad item: Vault answers 400 with batch_results (hvac raises InvalidRequest)
        e = raises(hexc.InvalidRequest, lambda: t.decrypt_data(
            name, batch_input=[{"ciphertext": br[0]["ciphertext"], "reference": "good"},
                               {"ciphertext": "vault:v1:AAAA", "reference": "bad"}], mount_point=mp),
            "decrypt batch with one bad item → 400")
        res = (e.json or {}).get("data", {}).get("batch_results", [])
        eq([r.get("reference") for r in res], ["good", "bad"], "400 batch body still carries batch_results")
        check("error" not in res[0] and unb64(res[0]["plaintext"]) == b"one", "good item decrypted in failed batch")
        eq(res[1].get("error"), "invalid ciphertext length", "bad item error text")

        # datakeys
        dk = t.generate_data_key(name, key_type="plaintext", mount_point=mp)["data"]
        eq(len(unb64(dk["plaintext"])), 32, "datakey plaintext 256 bits")
        eq(unb64(t.decrypt_data(name, ciphertext=dk["ciphertext"], mount_point=mp)["data"]["plaintext"]),
           unb64(dk["plaintext"]), "datakey ciphertext decrypts to its plaintext")
        dw = t.generate_data_key(name, key_type="wrapped", bits=512, mount_point=mp)["data"]
        check("plaintext" not in dw, "wrapped datakey has no plaintext")
        eq(len(unb64(t.decrypt_data(name, ciphertext=dw["ciphertext"], mount_point=mp)["data"]["plaintext"])), 64,
           "wrapped 512-bit datakey")
        d128 = t.generate_data_key(name, key_type="plaintext", bits=128, mount_point=mp)["data"]
        eq(len(unb64(d128["plaintext"])), 16, "datakey 128 bits")

        # hmac
        hm = t.generate_hmac(name, hash_input=b64(b"mac me"), mount_point=mp)["data"]["hmac"]
        check(hm.startswith("vault:v1:"), "hmac prefix")
        eq(len(ct_bytes(hm)), 32, "hmac sha2-256 length")
        eq(t.verify_signed_data(name, hash_input=b64(b"mac me"), hmac=hm, mount_point=mp)["data"]["valid"], True,
           "hmac verifies")
        eq(t.verify_signed_data(name, hash_input=b64(b"mac mf"), hmac=hm, mount_point=mp)["data"]["valid"], False,
           "hmac of other input does not verify")
        hm512 = t.generate_hmac(name, hash_input=b64(b"x"), algorithm="sha2-512", mount_point=mp)["data"]["hmac"]
        eq(len(ct_bytes(hm512)), 64, "hmac sha2-512 length")
        eq(t.verify_signed_data(name, hash_input=b64(b"x"), hmac=hm512, hash_algorithm="sha2-512",
                                mount_point=mp)["data"]["valid"], True, "hmac sha2-512 verifies")

        # signing with a symmetric key is refused
        raises(hexc.InvalidRequest, lambda: t.sign_data(name, hash_input=b64(b"x"), mount_point=mp),
               "sign with symmetric key", contains="does not support signing")

        # rotation, rewrap, min_decryption_version
        rk = t.rotate_key(name, mount_point=mp)
        if rk is not None and not hasattr(rk, "status_code"):
            eq(rk["data"]["latest_version"], 2, "rotate response latest_version")
        eq(t.read_key(name, mount_point=mp)["data"]["latest_version"], 2, "latest_version after rotate")
        c2 = t.encrypt_data(name, plaintext=b64(b"new"), mount_point=mp)["data"]
        check(c2["ciphertext"].startswith("vault:v2:"), "new ciphertext uses v2")
        eq(c2["key_version"], 2, "key_version 2")
        rw = t.rewrap_data(name, ciphertext=c1["ciphertext"], mount_point=mp)["data"]
        check(rw["ciphertext"].startswith("vault:v2:"), "rewrap moves to v2")
        eq(unb64(t.decrypt_data(name, ciphertext=rw["ciphertext"], mount_point=mp)["data"]["plaintext"]), pt,
           "rewrapped decrypts")
        eq(unb64(t.decrypt_data(name, ciphertext=c1["ciphertext"], mount_point=mp)["data"]["plaintext"]), pt,
           "old v1 ciphertext still decrypts")
        rwb = t.rewrap_data(name, ciphertext=None, batch_input=[{"ciphertext": c1["ciphertext"], "reference": "rw"}],
                            mount_point=mp)["data"]["batch_results"]
        eq(rwb[0]["reference"], "rw", "rewrap batch reference")
        check(rwb[0]["ciphertext"].startswith("vault:v2:"), "rewrap batch v2")
        v1 = t.encrypt_data(name, plaintext=b64(b"pinned"), key_version=1, mount_point=mp)["data"]
        check(v1["ciphertext"].startswith("vault:v1:"), "encrypt with key_version=1")
        t.update_key_configuration(name, min_decryption_version=2, mount_point=mp)
        k = t.read_key(name, mount_point=mp)["data"]
        eq(k["min_decryption_version"], 2, "min_decryption_version stored")
        raises(hexc.InvalidRequest, lambda: t.decrypt_data(name, ciphertext=c1["ciphertext"], mount_point=mp),
               "decrypt below min_decryption_version", contains="disallowed by policy")
        raises(hexc.InvalidRequest, lambda: t.rewrap_data(name, ciphertext=c1["ciphertext"], mount_point=mp),
               "rewrap below min_decryption_version", contains="disallowed by policy")
        eq(unb64(t.decrypt_data(name, ciphertext=c2["ciphertext"], mount_point=mp)["data"]["plaintext"]), b"new",
           "v2 still decrypts")
        # trim
        t.update_key_configuration(name, min_encryption_version=2, mount_point=mp)
        t.trim_key(name, min_version=2, mount_point=mp)
        k = t.read_key(name, mount_point=mp)["data"]
        eq(k["min_available_version"], 2, "trim sets min_available_version")
        eq(sorted(k["keys"]), ["2"], "trim leaves only v2")
        raises(hexc.InvalidRequest, lambda: t.update_key_configuration(name, min_decryption_version=1, mount_point=mp),
               "min_decryption_version below min_available_version")

        # errors on this key
        raises(hexc.InvalidRequest, lambda: t.decrypt_data(name, ciphertext="vault:v2:@@@", mount_point=mp),
               "bad base64 ciphertext", contains="invalid ciphertext")
        forged = "vault:v2:" + b64(os.urandom(40))
        raises(hexc.InvalidRequest, lambda: t.decrypt_data(name, ciphertext=forged, mount_point=mp),
               "forged ciphertext", contains="message authentication failed")
        raises(hexc.InvalidRequest, lambda: t.decrypt_data(name, ciphertext="vault:v2:" + b64(b"short"), mount_point=mp),
               "truncated ciphertext", contains="invalid ciphertext length")
        raises(hexc.InvalidRequest, lambda: t.decrypt_data(name, ciphertext="plain", mount_point=mp),
               "ciphertext without prefix", contains="no prefix")
        raises(hexc.InvalidRequest, lambda: t.decrypt_data(name, ciphertext="vault:v9:" + b64(os.urandom(40)),
                                                           mount_point=mp),
               "ciphertext version too new", contains="too new")

        # deletion needs deletion_allowed
        raises(hexc.InvalidRequest, lambda: t.delete_key(name, mount_point=mp), "delete without deletion_allowed",
               contains="deletion is not allowed")
        t.update_key_configuration(name, deletion_allowed=True, mount_point=mp)
        t.delete_key(name, mount_point=mp)
        raises(hexc.InvalidPath, lambda: t.read_key(name, mount_point=mp), "deleted key reads 404")

    def export_backup(self, key_type):
        t, mp = self.t, self.mp
        name = "exp-" + key_type
        self.create(name, key_type, exportable=True, allow_plaintext_backup=True)
        pt = b"export me"
        ct = t.encrypt_data(name, plaintext=b64(pt), mount_point=mp)["data"]["ciphertext"]
        ex = t.export_key(name, key_type="encryption-key", mount_point=mp)["data"]
        eq(ex["name"], name, "export name")
        eq(ex["type"], key_type, "export type")
        raw = unb64(ex["keys"]["1"])
        want_len = {"aes128-gcm96": 16, "aes256-gcm96": 32, "chacha20-poly1305": 32, "sm4-gcm96": 16}[key_type]
        eq(len(raw), want_len, f"exported {key_type} key length")
        blob = ct_bytes(ct)
        if key_type.startswith("aes"):
            eq(AESGCM(raw).decrypt(blob[:12], blob[12:], None), pt, "exported AES key decrypts locally")
        elif key_type == "chacha20-poly1305":
            eq(ChaCha20Poly1305(raw).decrypt(blob[:12], blob[12:], None), pt, "exported ChaCha key decrypts locally")
        one = t.export_key(name, key_type="encryption-key", version="1", mount_point=mp)["data"]
        eq(one["keys"], ex["keys"], "export of version 1")
        hk = unb64(t.export_key(name, key_type="hmac-key", mount_point=mp)["data"]["keys"]["1"])
        hm = t.generate_hmac(name, hash_input=b64(b"abc"), mount_point=mp)["data"]["hmac"]
        if key_type != "sm4-gcm96":
            eq(ct_bytes(hm), pyhmac.new(hk, b"abc", hashlib.sha256).digest(), "exported HMAC key matches hmac")

        bk = t.backup_key(name, mount_point=mp)["data"]["backup"]
        check(isinstance(bk, str) and len(bk) > 0, "backup string")
        # OpenBao answers 500 here; yaoshi treats the caller's mistake as a 400.
        exists_error = hexc.InternalServerError if self.flavor == "openbao" else hexc.InvalidRequest
        raises(exists_error, lambda: t.restore_key(bk, name=name, mount_point=mp),
               "restore onto existing name", contains="already exists")
        t.restore_key(bk, name=name + "-r", mount_point=mp)
        eq(unb64(t.decrypt_data(name + "-r", ciphertext=ct, mount_point=mp)["data"]["plaintext"]), pt,
           "restored key decrypts the original ciphertext")
        eq(t.read_key(name + "-r", mount_point=mp)["data"]["type"], key_type, "restored key type")
        t.restore_key(bk, name=name, force=True, mount_point=mp)
        eq(unb64(t.decrypt_data(name, ciphertext=ct, mount_point=mp)["data"]["plaintext"]), pt, "forced restore")

        nob = name + "-nobackup"
        self.create(nob, key_type)
        raises(hexc.InvalidRequest, lambda: t.export_key(nob, key_type="encryption-key", mount_point=mp),
               "export of non-exportable key", contains="not exportable")
        raises(hexc.VaultError, lambda: t.backup_key(nob, mount_point=mp), "backup without allow_plaintext_backup",
               contains="disallowed on the policy")

    # ----------------------------------------------------------- asymmetric
    def asymmetric(self, key_type):
        t, mp = self.t, self.mp
        name = "asym-" + key_type
        self.create(name, key_type)
        k = t.read_key(name, mount_point=mp)["data"]
        eq(k["type"], key_type, "asym key type")
        eq(k["supports_signing"], True, "supports_signing")
        pub = k["keys"]["1"]["public_key"]
        msg = b"sign this message"
        s = t.sign_data(name, hash_input=b64(msg), mount_point=mp)["data"]
        check(s["signature"].startswith("vault:v1:"), "signature prefix")
        eq(s["key_version"], 1, "sign key_version")
        sig = ct_bytes(s["signature"])
        # verify independently with the published public key
        try:
            if key_type == "ed25519":
                ed25519.Ed25519PublicKey.from_public_bytes(unb64(pub)).verify(sig, msg)
            elif key_type == "ecdsa-p256":
                serialization.load_pem_public_key(pub.encode()).verify(sig, msg, ec.ECDSA(hashes.SHA256()))
            elif key_type == "rsa-2048":
                serialization.load_pem_public_key(pub.encode()).verify(
                    sig, msg, padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.AUTO),
                    hashes.SHA256())
            check(True, f"{key_type} signature verifies with the public key")
        except InvalidSignature:
            raise SuiteFailure(f"{key_type} signature does not verify with the published public key")
        eq(t.verify_signed_data(name, hash_input=b64(msg), signature=s["signature"], mount_point=mp)["data"]["valid"],
           True, "verify own signature")
        eq(t.verify_signed_data(name, hash_input=b64(msg + b"!"), signature=s["signature"],
                                mount_point=mp)["data"]["valid"], False, "verify altered message → false")
        if key_type != "ed25519":
            s384 = t.sign_data(name, hash_input=b64(msg), hash_algorithm="sha2-384", mount_point=mp)["data"]["signature"]
            eq(t.verify_signed_data(name, hash_input=b64(msg), signature=s384, hash_algorithm="sha2-384",
                                    mount_point=mp)["data"]["valid"], True, "sha2-384 signature verifies")
        if key_type == "rsa-2048":
            sp = t.sign_data(name, hash_input=b64(msg), signature_algorithm="pkcs1v15", mount_point=mp)["data"]
            serialization.load_pem_public_key(pub.encode()).verify(ct_bytes(sp["signature"]), msg, padding.PKCS1v15(),
                                                                   hashes.SHA256())
            check(True, "rsa pkcs1v15 signature verifies locally")
            c = t.encrypt_data(name, plaintext=b64(b"rsa secret"), mount_point=mp)["data"]["ciphertext"]
            eq(unb64(t.decrypt_data(name, ciphertext=c, mount_point=mp)["data"]["plaintext"]), b"rsa secret",
               "rsa encrypt/decrypt")
        else:
            raises(hexc.InvalidRequest, lambda: t.encrypt_data(name, plaintext=b64(b"x"), mount_point=mp),
                   f"encrypt with {key_type}", contains="not supported")
        sb = t.sign_data(name, batch_input=[{"input": b64(b"a"), "reference": "A"}, {"input": b64(b"b"), "reference": "B"}],
                         mount_point=mp)["data"]["batch_results"]
        eq([x["reference"] for x in sb], ["A", "B"], "sign batch references")
        eq(t.verify_signed_data(name, hash_input=b64(b"b"), signature=sb[1]["signature"], mount_point=mp)["data"]["valid"],
           True, "batch signature verifies")
        raises(hexc.InvalidRequest, lambda: t.verify_signed_data(name, hash_input=b64(msg), signature="garbage",
                                                                 mount_point=mp),
               "verify malformed signature", contains="invalid signature")
        t.rotate_key(name, mount_point=mp)
        k2 = t.read_key(name, mount_point=mp)["data"]
        eq(sorted(k2["keys"]), ["1", "2"], "asym rotate adds v2")
        check(k2["keys"]["2"]["public_key"] != pub, "rotated public key differs")
        s2 = t.sign_data(name, hash_input=b64(msg), mount_point=mp)["data"]
        check(s2["signature"].startswith("vault:v2:"), "signature uses v2 after rotation")
        eq(t.verify_signed_data(name, hash_input=b64(msg), signature=s["signature"], mount_point=mp)["data"]["valid"],
           True, "v1 signature still verifies")

    # ------------------------------------------------------- misc endpoints
    def misc(self):
        t, mp = self.t, self.mp
        for fmt, enc in (("hex", lambda d: d.hex()), ("base64", lambda d: b64(d))):
            got = t.hash_data(b64(b"abc"), algorithm="sha2-256", output_format=fmt, mount_point=mp)["data"]["sum"]
            eq(got, enc(hashlib.sha256(b"abc").digest()), f"sha2-256 {fmt}")
        eq(t.hash_data(b64(b"abc"), algorithm="sha2-512", mount_point=mp)["data"]["sum"],
           hashlib.sha512(b"abc").hexdigest(), "sha2-512 hex")
        eq(self.post("hash/sha3-256", {"input": b64(b"abc")})["data"]["sum"], hashlib.sha3_256(b"abc").hexdigest(),
           "sha3-256 via path")
        r = t.generate_random_bytes(n_bytes=32, mount_point=mp)["data"]["random_bytes"]
        eq(len(unb64(r)), 32, "random 32 bytes")
        check(r != t.generate_random_bytes(n_bytes=32, mount_point=mp)["data"]["random_bytes"], "random differs")
        rh = t.generate_random_bytes(n_bytes=16, output_format="hex", mount_point=mp)["data"]["random_bytes"]
        eq(len(bytes.fromhex(rh)), 16, "random hex 16 bytes")
        eq(len(unb64(self.post("random/24")["data"]["random_bytes"])), 24, "random/24 via path")
        raises(hexc.InvalidRequest, lambda: t.generate_random_bytes(n_bytes=10**9, mount_point=mp),
               "huge random size", contains="less than")
        raises(hexc.InvalidPath, lambda: t.read_key("no-such-key", mount_point=mp), "missing key → InvalidPath")
        raises(hexc.InvalidRequest, lambda: t.decrypt_data("no-such-key", ciphertext="vault:v1:AAAA", mount_point=mp),
               "decrypt with missing key", contains="not found")
        # encrypt on a missing key creates it (upsert)
        t.encrypt_data("upserted", plaintext=b64(b"x"), mount_point=mp)
        eq(t.read_key("upserted", mount_point=mp)["data"]["type"], "aes256-gcm96", "encrypt upserts aes256-gcm96")
        wk = self.get("wrapping_key")["data"]["public_key"]
        check(wk.startswith("-----BEGIN PUBLIC KEY-----"), "wrapping_key is a PEM public key")
        eq(serialization.load_pem_public_key(wk.encode()).key_size, 4096, "wrapping key is RSA-4096")
        lst = t.list_keys(mount_point=mp)["data"]["keys"]
        check(lst == sorted(lst), "list_keys is sorted")
        # unknown parameter: accepted with a warning
        w = self.post("encrypt/upserted", {"plaintext": b64(b"x"), "bogus_param": 1})
        check(w.get("warnings") and "bogus_param" in w["warnings"][0], "unknown parameter produces a warning")
        # string-typed scalars
        self.post("keys/strs", {"exportable": "true"})
        eq(t.read_key("strs", mount_point=mp)["data"]["exportable"], True, "string 'true' accepted")

    # ---------------------------------------------------------------- SM
    def sm(self):
        t, mp = self.t, self.mp
        # sm4-gcm96
        self.create("sm4", "sm4-gcm96", exportable=True, allow_plaintext_backup=True)
        k = t.read_key("sm4", mount_point=mp)["data"]
        eq(k["type"], "sm4-gcm96", "sm4 key type")
        eq(k["supports_encryption"], True, "sm4 supports_encryption")
        ct = t.encrypt_data("sm4", plaintext=b64(b"sm4 data"), mount_point=mp)["data"]["ciphertext"]
        eq(len(ct_bytes(ct)), 12 + 8 + 16, "sm4-gcm96 ciphertext layout")
        eq(unb64(t.decrypt_data("sm4", ciphertext=ct, mount_point=mp)["data"]["plaintext"]), b"sm4 data", "sm4 round trip")
        br = t.encrypt_data("sm4", batch_input=[{"plaintext": b64(b"a"), "reference": "1"}], mount_point=mp)
        eq(br["data"]["batch_results"][0]["reference"], "1", "sm4 batch reference")
        t.rotate_key("sm4", mount_point=mp)
        rw = t.rewrap_data("sm4", ciphertext=ct, mount_point=mp)["data"]["ciphertext"]
        check(rw.startswith("vault:v2:"), "sm4 rewrap v2")
        eq(unb64(t.decrypt_data("sm4", ciphertext=rw, mount_point=mp)["data"]["plaintext"]), b"sm4 data", "sm4 rewrap decrypt")
        dk = t.generate_data_key("sm4", key_type="plaintext", bits=128, mount_point=mp)["data"]
        eq(unb64(t.decrypt_data("sm4", ciphertext=dk["ciphertext"], mount_point=mp)["data"]["plaintext"]),
           unb64(dk["plaintext"]), "sm4 datakey")
        raises(hexc.InvalidRequest, lambda: t.decrypt_data("sm4", ciphertext="vault:v2:" + b64(os.urandom(40)),
                                                           mount_point=mp), "sm4 forged ciphertext")
        self.export_backup("sm4-gcm96")
        # sm2
        self.create("sm2", "sm2")
        k = t.read_key("sm2", mount_point=mp)["data"]
        eq(k["type"], "sm2", "sm2 type")
        eq(k["supports_signing"], True, "sm2 supports_signing")
        s = self.post("sign/sm2", {"input": b64(b"msg"), "hash_algorithm": "sm3"})["data"]["signature"]
        check(s.startswith("vault:v1:"), "sm2 signature prefix")
        eq(self.post("verify/sm2", {"input": b64(b"msg"), "signature": s, "hash_algorithm": "sm3"})["data"]["valid"],
           True, "sm2 verify")
        eq(self.post("verify/sm2", {"input": b64(b"msh"), "signature": s, "hash_algorithm": "sm3"})["data"]["valid"],
           False, "sm2 verify altered")
        c = t.encrypt_data("sm2", plaintext=b64(b"sm2 secret"), mount_point=mp)["data"]["ciphertext"]
        eq(unb64(t.decrypt_data("sm2", ciphertext=c, mount_point=mp)["data"]["plaintext"]), b"sm2 secret", "sm2 encrypt/decrypt")
        # sm3 hash and HMAC
        eq(self.post("hash/sm3", {"input": b64(b"abc")})["data"]["sum"],
           "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0", "sm3('abc') GB/T 32905 vector")
        eq(self.post("hash", {"input": b64(b"abc"), "algorithm": "sm3", "format": "base64"})["data"]["sum"],
           b64(bytes.fromhex("66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0")), "sm3 base64")
        h = self.post("hmac/sm4/sm3", {"input": b64(b"abc")})["data"]["hmac"]
        eq(len(ct_bytes(h)), 32, "hmac-sm3 length")
        eq(self.post("verify/sm4/sm3", {"input": b64(b"abc"), "hmac": h})["data"]["valid"], True, "hmac-sm3 verifies")
        eq(self.post("verify/sm4/sm3", {"input": b64(b"abd"), "hmac": h})["data"]["valid"], False, "hmac-sm3 altered")

    def run(self):
        self.sys_and_auth()
        try:
            for kt in ("aes128-gcm96", "aes256-gcm96", "chacha20-poly1305"):
                self.symmetric(kt)
                self.export_backup(kt)
            for kt in ("ecdsa-p256", "ed25519", "rsa-2048"):
                self.asymmetric(kt)
            self.misc()
            if self.flavor == "yaoshi":
                self.sm()
        finally:
            try:
                self.client.sys.disable_secrets_engine(self.mp)
            except Exception:  # noqa: BLE001 - cleanup only
                pass
        mounts = self.client.sys.list_mounted_secrets_engines()
        check(f"{self.mp}/" not in mounts.get("data", mounts), "mount removed by disable")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("addr")
    ap.add_argument("token")
    ap.add_argument("--flavor", choices=["openbao", "yaoshi"], required=True)
    a = ap.parse_args()
    try:
        Suite(a.addr, a.token, a.flavor).run()
    except SuiteFailure as e:
        print(f"hvac suite FAILED after {Counter.passed} checks: {e}", file=sys.stderr)
        sys.exit(1)
    except Exception as e:  # noqa: BLE001 - unexpected client errors are failures too
        import traceback
        traceback.print_exc()
        print(f"hvac suite FAILED after {Counter.passed} checks: unexpected {type(e).__name__}: {e}", file=sys.stderr)
        sys.exit(1)
    print(f"hvac suite: {Counter.passed} checks passed")


if __name__ == "__main__":
    main()
