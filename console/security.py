"""Credential primitives: argon2 passwords, TOTP, recovery codes, opaque tokens (ASVS L2, R15, R24, R26).

Everything secret that is stored is stored as a hash: passwords with argon2id, session ids, recovery codes and
API tokens with SHA-256 (they are long random strings, so a slow hash adds nothing). A database leak then yields
no usable credential.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_PASSWORD_LENGTH = 12
RECOVERY_CODE_COUNT = 10
ISSUER = "いしかわヤングケアラーチャンネル"
QUALIFICATIONS = ("A", "B", "C")

_hasher = PasswordHasher()  # argon2id with the library's RFC 9106 low-memory defaults
# Verified against when the user name is unknown, so timing does not reveal which names exist.
_DUMMY_HASH = _hasher.hash("not-a-real-password-" + secrets.token_hex(8))


class PasswordPolicyError(ValueError):
    """The password is too weak to accept; the message is shown to the person choosing it."""


def check_password_policy(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise PasswordPolicyError(f"パスワードは{MIN_PASSWORD_LENGTH}文字以上にしてください")
    if len(password) > 128:
        raise PasswordPolicyError("パスワードは128文字以内にしてください")


def hash_password(password: str) -> str:
    check_password_policy(password)
    return _hasher.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash or _DUMMY_HASH, password) and stored_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def new_totp_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(secret: str, name: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=name, issuer_name=ISSUER)


def totp_counter(secret: str, code: str, last_counter: int | None) -> int | None:
    """The time step the code belongs to (±1 step for clock drift), or None if wrong or already used.

    Returning the counter lets the caller refuse a replay of the same code within its 30 s window.
    """
    code = "".join(ch for ch in code if ch.isdigit())
    if len(code) != 6:
        return None
    totp = pyotp.TOTP(secret)
    now = totp.timecode(datetime.now())
    for counter in (now, now - 1, now + 1):
        if hmac.compare_digest(totp.generate_otp(counter), code):
            if last_counter is not None and counter <= last_counter:
                return None
            return counter
    return None


def new_recovery_codes() -> list[str]:
    """Ten one-time codes like `a3f9-1c7e-22b0`, shown once; only their hashes are kept."""
    return ["-".join(secrets.token_hex(2) for _ in range(3)) for _ in range(RECOVERY_CODE_COUNT)]


def hash_code(code: str) -> str:
    normalised = code.strip().lower().replace(" ", "")
    return hashlib.sha256(normalised.encode()).hexdigest()


def new_token(prefix: str = "") -> str:
    return prefix + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def same(a: str | None, b: str | None) -> bool:
    """Constant-time comparison that treats a missing value as a mismatch."""
    if not a or not b:
        return False
    return hmac.compare_digest(a.encode(), b.encode())


def sign(secret_key: str, value: str) -> str:
    """HMAC a value with the server key; used for the pre-login CSRF token (double-submit cookie)."""
    return hmac.new(secret_key.encode(), value.encode(), hashlib.sha256).hexdigest()


def parse_qualifications(raw: str | None) -> str:
    """`"a, c"` → `"AC"`; unknown letters are an error, not silently dropped."""
    letters = {part.strip().upper() for part in (raw or "").replace(",", " ").split() if part.strip()}
    if len(letters) == 1 and len(next(iter(letters))) > 1:  # "AB" written without commas
        letters = set(next(iter(letters)))
    unknown = letters - set(QUALIFICATIONS)
    if unknown:
        raise ValueError(f"unknown qualification(s) {', '.join(sorted(unknown))}; use A, B and/or C")
    return "".join(q for q in QUALIFICATIONS if q in letters)
