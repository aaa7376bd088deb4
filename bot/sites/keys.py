"""Encrypting stored Wix credentials: Fernet (authenticated encryption) over a key list.

MEDIALINK_ENCRYPTION_KEY holds one or more Fernet keys, comma-separated. The first
encrypts; every one decrypts, so a new key can be put first while rows written with
the old one stay readable, and ``medialink rotate-key`` then re-encrypts every row with
the new one (``MultiFernet.rotate``) before the old key is dropped.

Nothing here logs, and no error message carries a key or a plaintext.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

MAX_KEYS = 10  # a bound on start-up work and on the cost of each decryption attempt
MAX_PLAINTEXT = 4096  # bytes of credentials JSON: an API key is about 1 kB

NEW_KEY_HELP = (
    "set MEDIALINK_ENCRYPTION_KEY to a Fernet key (make one with `medialink new-key`) "
    "before connecting a site"
)


class KeyringError(Exception):
    """The encryption keys are missing, malformed or do not open a stored value;
    ``str()`` is a sentence for a person, without any key."""


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


def check_key_list(value: str) -> None:
    """Raise ``ValueError`` (naming the position, never the key) unless ``value`` is a
    comma-separated list of 1 to ``MAX_KEYS`` Fernet keys."""
    keys = _split(value)
    if not keys:
        raise ValueError("no key given")
    if len(keys) > MAX_KEYS:
        raise ValueError(f"more than {MAX_KEYS} keys")
    for position, key in enumerate(keys, start=1):
        try:
            Fernet(key.encode("ascii"))
        except (ValueError, UnicodeEncodeError):
            raise ValueError(f"key number {position} is not a Fernet key") from None


def new_key() -> str:
    """A fresh Fernet key, for MEDIALINK_ENCRYPTION_KEY."""
    return Fernet.generate_key().decode("ascii")


class Keyring:
    """Encrypts credentials with the first key; decrypts with any of them."""

    def __init__(self, keys: str) -> None:
        try:
            check_key_list(keys)
        except ValueError as error:
            raise KeyringError(f"MEDIALINK_ENCRYPTION_KEY is not valid: {error}") from None
        self._fernet = MultiFernet([Fernet(key.encode("ascii")) for key in _split(keys)])

    def encrypt(self, credentials: Mapping[str, str]) -> str:
        data = json.dumps(dict(credentials), separators=(",", ":")).encode()
        if len(data) > MAX_PLAINTEXT:
            raise KeyringError("the credentials are too long to store")
        return self._fernet.encrypt(data).decode("ascii")

    def decrypt(self, token: str) -> dict[str, str]:
        try:
            data = json.loads(self._fernet.decrypt(token.encode("ascii")))
        except (InvalidToken, ValueError, UnicodeEncodeError):
            raise KeyringError(
                "a stored site's credentials cannot be decrypted with MEDIALINK_ENCRYPTION_KEY: "
                "was the key it was stored with removed from the list? Put it back (after the "
                "new one) and run `medialink rotate-key`"
            ) from None
        if not isinstance(data, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in data.items()
        ):
            raise KeyringError("a stored site's credentials are not in the expected form")
        return data

    def rotate(self, token: str) -> str:
        """``token`` re-encrypted with the first key (what ``rotate-key`` does per row)."""
        try:
            return self._fernet.rotate(token.encode("ascii")).decode("ascii")
        except (InvalidToken, UnicodeEncodeError):
            raise KeyringError(
                "a stored site's credentials cannot be decrypted with any key in "
                "MEDIALINK_ENCRYPTION_KEY, so they cannot be rotated"
            ) from None

    def __repr__(self) -> str:
        return "Keyring(keys=SecretStr('**********'))"
