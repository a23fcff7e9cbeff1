"""Password hashing with a memory-hard KDF: argon2id (argon2-cffi) when installed, else hashlib.scrypt.

Hashes are self-describing strings, so a store written with one KDF verifies on a machine with the
other when argon2-cffi is present. Nothing here logs or returns a password.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

from .exceptions import MissingExtra

_SCRYPT_PREFIX = "$scrypt$"
_SCRYPT_N, _SCRYPT_R, _SCRYPT_P = 2**14, 8, 1


def _argon2() -> object | None:
    try:
        from argon2 import PasswordHasher
    except ImportError:
        return None
    return PasswordHasher()


def hash_password(password: str) -> str:
    """A salted hash of the password (argon2id, or scrypt without argon2-cffi)."""
    hasher = _argon2()
    if hasher is not None:
        return str(hasher.hash(password))  # type: ignore[attr-defined]
    salt = os.urandom(16)
    digest = _scrypt(password, salt, _SCRYPT_N, _SCRYPT_R, _SCRYPT_P)
    b64 = base64.b64encode
    return f"{_SCRYPT_PREFIX}{_SCRYPT_N},{_SCRYPT_R},{_SCRYPT_P}${b64(salt).decode()}${b64(digest).decode()}"


def verify_password(password: str, stored_hash: str) -> bool:
    """True when the password matches the stored hash; runs the KDF exactly once."""
    if stored_hash.startswith(_SCRYPT_PREFIX):
        try:
            params, salt_b64, digest_b64 = stored_hash[len(_SCRYPT_PREFIX) :].split("$")
            n, r, p = (int(x) for x in params.split(","))
            salt, expected = base64.b64decode(salt_b64), base64.b64decode(digest_b64)
        except ValueError:
            return False
        return hmac.compare_digest(_scrypt(password, salt, n, r, p), expected)
    hasher = _argon2()
    if hasher is None:
        raise MissingExtra("This store's passwords are argon2 hashes: pip install 'runyard[server]'.")
    from argon2.exceptions import VerificationError, VerifyMismatchError

    try:
        return bool(hasher.verify(stored_hash, password))  # type: ignore[attr-defined]
    except (VerifyMismatchError, VerificationError):
        return False
    except Exception:  # noqa: BLE001 - a malformed stored hash is a failed login, not a crash
        return False


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, maxmem=64 * 1024 * 1024, dklen=32)
