"""Shared by the compatibility suites: counted checks and base64 helpers."""

import base64


class SuiteFailure(Exception):
    pass


class Counter:
    """How many checks have passed (read by the suites' summary lines)."""
    passed = 0


def check(cond, what):
    if not cond:
        raise SuiteFailure(what)
    Counter.passed += 1


def eq(got, want, what):
    check(got == want, f"{what}: got {got!r}, want {want!r}")


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def unb64(s: str) -> bytes:
    return base64.b64decode(s)
