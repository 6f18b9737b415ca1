"""Secrets: password hashing (argon2id), random link and API tokens, and their SHA-256 digests.

Only digests of tokens are ever stored; a token is shown once (in an e-mail link or on the API-token page).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

#: 32 random bytes = 256 bits, URL-safe base64 (43 characters).
TOKEN_BYTES = 32
_hasher = PasswordHasher()
#: A valid hash of a random password, verified against when an e-mail is unknown so timing leaks nothing.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))

MIN_PASSWORD_LENGTH = 10
#: Longest password accepted, in characters: the login form reads no more than this.
MAX_PASSWORD_LENGTH = 1000


def new_token() -> tuple[str, str]:
    """Return ``(token, sha256_hex)`` for a fresh 256-bit token."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    return token, token_digest(token)


def token_digest(token: str) -> str:
    """SHA-256 hex digest of a token (64 characters)."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def hash_password(password: str) -> str:
    """Argon2id hash of ``password`` (blocking, ~50 ms: call in a thread from async code)."""
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when ``password`` matches; always spends one verification, even for an unknown account."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def derive_key(secret_key: str, purpose: str, length: int = 32) -> bytes:
    """A key for one purpose (cookie signing, CSRF) derived from the one configured secret."""
    return hashlib.blake2b(purpose.encode(), key=secret_key.encode()[:64], digest_size=length).digest()


def panellist_token(secret_key: str, panellist_id: int, version: int) -> str:
    """The link token of a panellist: HMAC-SHA256 of ``"<id>:<version>"`` under a key derived from the secret.

    256 bits, URL-safe base64 (43 characters).  It is derived, never stored: the database keeps only
    :func:`token_digest` of it, and outbox rows keep a placeholder that delivery replaces at send time, so a dump
    of the database holds no usable link.  Re-issuing a link bumps ``version``, which changes the token.
    """
    key = derive_key(secret_key, "panellist-link")
    mac = hmac.new(key, f"{panellist_id}:{version}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


def one_time_token(secret_key: str, link_id: int, nonce: str) -> str:
    """The token of a one-time link (a password reset or a team invitation): HMAC-SHA256 of ``"<id>:<nonce>"``
    under a key derived from the secret, 256 bits in URL-safe base64 (43 characters).

    Like :func:`panellist_token` it is derived, never stored: the row keeps its :func:`token_digest` and a random
    ``nonce``, and the outbox a placeholder filled at send time.
    """
    key = derive_key(secret_key, "one-time-link")
    mac = hmac.new(key, f"{link_id}:{nonce}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


def password_problems(
    new: str, repeat: str | None = None, *, field: str = "new", repeat_field: str = "repeat"
) -> list[tuple[str, str]]:
    """What is wrong with ``new`` as a password, as ``(field, message)`` pairs ([] when nothing); the one rule
    for every form that sets a password (change, reset, accepting an invitation, the command line).

    Too short (under :data:`MIN_PASSWORD_LENGTH` characters) or too long (over :data:`MAX_PASSWORD_LENGTH`,
    which could never be typed into the login form) is reported on ``field``; ``repeat``, when given, must
    equal ``new`` (reported on ``repeat_field``).
    """
    problems = []
    if len(new) < MIN_PASSWORD_LENGTH:
        problems.append((field, f"The new password must have at least {MIN_PASSWORD_LENGTH} characters."))
    elif len(new) > MAX_PASSWORD_LENGTH:
        problems.append((field, f"The new password must have at most {MAX_PASSWORD_LENGTH} characters."))
    if repeat is not None and repeat != new:
        problems.append(
            (repeat_field, "The two new passwords are not the same. Type the new password twice.")
        )
    return problems
