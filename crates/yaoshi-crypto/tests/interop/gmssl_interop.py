#!/usr/bin/env python3
"""Helper for tests/interop_python.rs: SM2 with the pure-Python `gmssl` package.

Usage: gmssl_interop.py <command>, with a JSON document on stdin:
    {"cases": [{...hex fields...}, ...]}
and a JSON document on stdout:
    {"results": [...]}

Keys are hex: `private` is the 32-byte scalar d, `public` is x || y (64 bytes,
WITHOUT the 04 prefix), as gmssl's CryptSM2 takes them. Ciphertexts are gmssl's
raw form: C1 (x || y, 64 bytes, no 04 prefix) followed by C3 || C2 (mode 1,
GB/T 32918-2016) or C2 || C3 (mode 0). Signatures are raw r || s (32 bytes each).

Commands and the fields of each case:
    encrypt  public, plaintext, mode          -> hex(ciphertext)
    decrypt  private, ciphertext, mode        -> hex(plaintext)
    sign     private, public, message         -> hex(r || s)   (SM3 with the default ID)
    verify   public, message, signature       -> true | false  (SM3 with the default ID)

Known gmssl 3.2.x quirks this script works around or that the tests take into account:
  * CryptSM2.__init__ strips the 04 prefix with `public_key.lstrip("04")`, which
    removes every leading '0' and '4' character, so a key whose hex starts with
    "04" (as x || y, or after the prefix) is silently corrupted. The script sets
    `public_key` after construction instead.
  * CryptSM2.decrypt computes C3 but never compares it, so a tampered ciphertext
    decrypts to garbage instead of failing; negative decryption checks can only
    be made on the yaoshi side.
  * sign_with_sm3/verify_with_sm3 always use the default signer ID
    1234567812345678 (hard-coded in CryptSM2._sm3_z).
  * gmssl draws its own nonces with `random.choice`, not a CSPRNG; this script
    passes nonces from `secrets` instead.

Exit status 2 with a message on stderr when `gmssl` is missing. No network access is needed.
"""

import secrets
import sys

import interop_cli

try:
    from gmssl import sm2
except ImportError as exc:  # pragma: no cover - environment check
    sys.stderr.write(
        "gmssl_interop.py: the Python package `gmssl` is required: pip install gmssl (%s)\n" % exc
    )
    sys.exit(2)

ORDER = int(sm2.default_ecc_table["n"], 16)


def crypt(private="", public="", mode=1):
    c = sm2.CryptSM2(private_key=private, public_key="", mode=mode)
    # Work around the lstrip("04") bug in CryptSM2.__init__ (see the module docstring).
    c.public_key = public
    return c


def encrypt(case):
    c = crypt(public=case["public"], mode=case["mode"])
    # gmssl returns None instead of retrying when an attempt's random k is
    # unusable (its KDF output check); a caller retries with a fresh k.
    for _ in range(8):
        ciphertext = c.encrypt(bytes.fromhex(case["plaintext"]))
        if ciphertext is not None:
            return ciphertext.hex()
    raise RuntimeError("gmssl failed to encrypt 8 times in a row")


def decrypt(case):
    c = crypt(private=case["private"], mode=case["mode"])
    return c.decrypt(bytes.fromhex(case["ciphertext"])).hex()


def sign(case):
    c = crypt(private=case["private"], public=case["public"])
    message = bytes.fromhex(case["message"])
    for _ in range(16):
        k = "%064x" % (secrets.randbelow(ORDER - 1) + 1)
        signature = c.sign_with_sm3(message, k)
        if signature is not None:  # None when r = 0, r + k = n or s = 0
            return signature
    raise RuntimeError("gmssl could not produce a signature")


def verify(case):
    c = crypt(public=case["public"])
    try:
        return bool(c.verify_with_sm3(case["signature"], bytes.fromhex(case["message"])))
    except (TypeError, ValueError):  # e.g. the point at infinity, malformed hex
        return False


COMMANDS = {"encrypt": encrypt, "decrypt": decrypt, "sign": sign, "verify": verify}


def main():
    return interop_cli.run("gmssl_interop.py", COMMANDS)


if __name__ == "__main__":
    sys.exit(main())
