#!/usr/bin/env python3
"""Helper for tests/interop_python.rs: SM4-GCM, HMAC-SM3 and SM3 with pyca/cryptography.

Usage: pyca_interop.py <command>, with a JSON document on stdin:
    {"cases": [{...hex fields...}, ...]}
and a JSON document on stdout:
    {"results": [...]}

Commands and the fields of each case:
    sm4-gcm-seal   key, nonce, aad, plaintext  -> hex(ciphertext || tag)
    sm4-gcm-open   key, nonce, aad, sealed     -> {"ok": true, "plaintext": hex} | {"ok": false}
    hmac-sm3       key, data                   -> hex(tag)
    hmac-sm3-verify key, data, tag             -> true | false
    sm3            data                        -> hex(digest)

Exit status 2 with a message on stderr when `cryptography` is missing or too
old to offer SM4/SM3. No network access is needed.
"""

import sys

import interop_cli

try:
    from cryptography.exceptions import InvalidSignature, InvalidTag
    from cryptography.hazmat.primitives import hashes, hmac
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    algorithms.SM4  # noqa: B018 - present since cryptography 35
    hashes.SM3  # noqa: B018
except (ImportError, AttributeError) as exc:  # pragma: no cover - environment check
    sys.stderr.write(
        "pyca_interop.py: the Python package `cryptography` (with SM3/SM4) is required: "
        "pip install cryptography (%s)\n" % exc
    )
    sys.exit(2)

TAG_LEN = 16


def unhex(case, name):
    return bytes.fromhex(case[name])


def sm4_gcm_seal(case):
    encryptor = Cipher(
        algorithms.SM4(unhex(case, "key")), modes.GCM(unhex(case, "nonce"))
    ).encryptor()
    encryptor.authenticate_additional_data(unhex(case, "aad"))
    ciphertext = encryptor.update(unhex(case, "plaintext")) + encryptor.finalize()
    return (ciphertext + encryptor.tag).hex()


def sm4_gcm_open(case):
    sealed = unhex(case, "sealed")
    if len(sealed) < TAG_LEN:
        return {"ok": False}
    ciphertext, tag = sealed[:-TAG_LEN], sealed[-TAG_LEN:]
    decryptor = Cipher(
        algorithms.SM4(unhex(case, "key")), modes.GCM(unhex(case, "nonce"), tag)
    ).decryptor()
    decryptor.authenticate_additional_data(unhex(case, "aad"))
    try:
        plaintext = decryptor.update(ciphertext) + decryptor.finalize()
    except InvalidTag:
        return {"ok": False}
    return {"ok": True, "plaintext": plaintext.hex()}


def hmac_sm3(case):
    mac = hmac.HMAC(unhex(case, "key"), hashes.SM3())
    mac.update(unhex(case, "data"))
    return mac.finalize().hex()


def hmac_sm3_verify(case):
    mac = hmac.HMAC(unhex(case, "key"), hashes.SM3())
    mac.update(unhex(case, "data"))
    try:
        mac.verify(unhex(case, "tag"))
    except InvalidSignature:
        return False
    return True


def sm3(case):
    digest = hashes.Hash(hashes.SM3())
    digest.update(unhex(case, "data"))
    return digest.finalize().hex()


COMMANDS = {
    "sm4-gcm-seal": sm4_gcm_seal,
    "sm4-gcm-open": sm4_gcm_open,
    "hmac-sm3": hmac_sm3,
    "hmac-sm3-verify": hmac_sm3_verify,
    "sm3": sm3,
}


def main():
    return interop_cli.run("pyca_interop.py", COMMANDS)


if __name__ == "__main__":
    sys.exit(main())
