"""Password hashing for web console accounts (argon2id through argon2-cffi).

Only the hash reaches the state store. Verifying a name that has no account still
spends the time of one hash, so a wrong name and a wrong password look alike.
"""

from __future__ import annotations

import functools

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """Compared against when the account does not exist (the same cost as a real check)."""
    return _hasher.hash("no such account")

MIN_LENGTH = 10


def hash_password(password: str) -> str:
    """The argon2id hash of ``password``; refuses a short one."""
    if len(password) < MIN_LENGTH:
        raise ValueError(f"a password needs at least {MIN_LENGTH} characters")
    return _hasher.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    """True when ``password`` matches ``stored_hash`` (None: no such account, always False)."""
    try:
        _hasher.verify(stored_hash or _dummy_hash(), password)
    except (VerificationError, InvalidHashError):
        return False
    return stored_hash is not None
