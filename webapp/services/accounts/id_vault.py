"""ID numbers at rest: AES-256-GCM with a key id beside each ciphertext, and a keyed blind index for exact matches.

PIPL and ASVS 11.x (data at rest): a resident ID number is sensitive personal information, so the database holds
only `persons.id_number_ct` (nonce + ciphertext + tag), `id_number_key` (which key made it) and
`id_number_index` (HMAC-SHA256 of the normalised number under a separate key: equal numbers give equal indexes,
so binding, family requests and the insurer's import match exactly and the unique constraint holds, yet the index
reveals nothing without its key). `Person.id_number` reads and writes plaintext through this module
(models/people.py), and `Person.id_number == number` compares indexes.

Keys come from the environment (config.py): `LVTONG_ID_KEYS` is a comma-separated list of `key_id:base64 key`
(32 bytes each), the first one encrypts and all of them decrypt; `LVTONG_ID_INDEX_KEY` is the index key
(base64, 32 bytes). Production refuses to start without them. Rotation, with no downtime:

1. generate a key (`python -c "import base64,os; print(base64.b64encode(os.urandom(32)).decode())"`) and put it
   first in `LVTONG_ID_KEYS` with a new id (`k2:…,k1:…`); restart: new and changed rows use k2, old rows still read;
2. `flask --app wsgi ids-reencrypt` re-encrypts every row under k2 (and recomputes each index);
3. remove k1 from `LVTONG_ID_KEYS` and restart; destroy k1.

The index key is changed only if it leaks: stop the app, set the new `LVTONG_ID_INDEX_KEY`, run `ids-reencrypt`
(it rewrites every index), start again. Lookups in between would miss, hence the stop.

The keyring is process-wide (a SQLAlchemy attribute has no app to ask): `create_app` configures it from the app's
settings, and anything that runs without an app (the tests' sessions, migrations, bench/) gets the one the
environment gives. Nothing here imports Flask.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

NONCE_BYTES = 12
KEY_BYTES = 32

# Development, demo and tests only — NOT SECRET: it is in the repository. Production refuses these (config.py).
DEV_KEY_ID = "dev"
DEV_KEY = b"lvtong-dev-only-NOT-SECRET-key-1"
DEV_INDEX_KEY = b"lvtong-dev-only-NOT-SECRET-idx-1"


class KeySettingError(ValueError):
    """A key setting that cannot be used (the message never carries key material)."""


@dataclass(frozen=True)
class Keyring:
    keys: tuple[tuple[str, bytes], ...]  # (key id, 32-byte key), the first one encrypts
    index_key: bytes

    def __post_init__(self):
        if not self.keys:
            raise KeySettingError("at least one ID encryption key is needed")
        for key_id, key in self.keys:
            if not key_id or len(key_id) > 16 or not key_id.replace("-", "").replace("_", "").isalnum():
                raise KeySettingError("an ID key id is 1-16 letters, digits, '-' or '_'")
            if len(key) != KEY_BYTES:
                raise KeySettingError(f"ID key {key_id!r} is not {KEY_BYTES} bytes")
        if len({key_id for key_id, _ in self.keys}) != len(self.keys):
            raise KeySettingError("two ID keys share an id")
        if len(self.index_key) != KEY_BYTES:
            raise KeySettingError(f"the ID index key is not {KEY_BYTES} bytes")
        if any(key == self.index_key for _, key in self.keys):
            raise KeySettingError("the ID index key must differ from every encryption key")

    @property
    def current_id(self) -> str:
        return self.keys[0][0]

    @property
    def is_dev(self) -> bool:
        return self.index_key == DEV_INDEX_KEY or any(key == DEV_KEY for _, key in self.keys)


DEV_KEYRING = Keyring(keys=((DEV_KEY_ID, DEV_KEY),), index_key=DEV_INDEX_KEY)


def _b64key(text: str, what: str) -> bytes:
    try:
        return base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise KeySettingError(f"{what} is not base64") from None


def parse(keys: str, index_key: str) -> Keyring:
    """`LVTONG_ID_KEYS` ("k2:base64,k1:base64") and `LVTONG_ID_INDEX_KEY` (base64) as a Keyring."""
    pairs = []
    for item in (keys or "").split(","):
        if not item.strip():
            continue
        key_id, sep, material = item.strip().partition(":")
        if not sep:
            raise KeySettingError("LVTONG_ID_KEYS items are key_id:base64key")
        pairs.append((key_id.strip(), _b64key(material, f"ID key {key_id.strip()!r}")))
    return Keyring(keys=tuple(pairs), index_key=_b64key(index_key or "", "LVTONG_ID_INDEX_KEY"))


def from_environment(env: dict[str, str] | None = None) -> Keyring:
    """The keyring the environment gives; the dev keyring in development, demo and test when none is set."""
    env = os.environ if env is None else env
    if env.get("LVTONG_ID_KEYS") or env.get("LVTONG_ID_INDEX_KEY"):
        return parse(env.get("LVTONG_ID_KEYS", ""), env.get("LVTONG_ID_INDEX_KEY", ""))
    if env.get("LVTONG_ENV", "development") in ("development", "demo", "test"):
        return DEV_KEYRING
    raise KeySettingError("LVTONG_ID_KEYS and LVTONG_ID_INDEX_KEY must be set outside development and demo")


_keyring: Keyring | None = None
_ciphers: dict[bytes, AESGCM] = {}


def configure(keyring: Keyring) -> None:
    global _keyring
    _keyring = keyring


def keyring() -> Keyring:
    global _keyring
    if _keyring is None:
        _keyring = from_environment()
    return _keyring


def _cipher(key: bytes) -> AESGCM:
    cipher = _ciphers.get(key)
    if cipher is None:
        cipher = _ciphers[key] = AESGCM(key)
    return cipher


def normalise(number: str) -> str:
    """How an ID number is kept and matched: no surrounding spaces, an upper-case check character X."""
    return (number or "").strip().upper()


def _aad(key_id: str) -> bytes:
    # Binds a ciphertext to its column and key id: a blob copied into another column or relabelled does not open.
    return f"persons.id_number|{key_id}".encode()


def encrypt(number: str) -> tuple[bytes, str]:
    """(nonce + ciphertext + tag, key id) of a normalised ID number, under the current key."""
    ring = keyring()
    key_id, key = ring.keys[0]
    nonce = os.urandom(NONCE_BYTES)
    return nonce + _cipher(key).encrypt(nonce, normalise(number).encode(), _aad(key_id)), key_id


class CannotDecrypt(RuntimeError):
    """The key a ciphertext names is not configured, or the ciphertext was altered (says which key, never data)."""


def decrypt(blob: bytes, key_id: str) -> str:
    key = dict(keyring().keys).get(key_id)
    if key is None:
        raise CannotDecrypt(f"ID key {key_id!r} is not in LVTONG_ID_KEYS")
    try:
        return _cipher(key).decrypt(bytes(blob[:NONCE_BYTES]), bytes(blob[NONCE_BYTES:]), _aad(key_id)).decode()
    except InvalidTag:
        raise CannotDecrypt(f"an ID number under key {key_id!r} fails its integrity check") from None


def blind_index(number: str) -> str:
    """HMAC-SHA256 of the normalised number under the index key, as 64 hex characters."""
    return hmac.new(keyring().index_key, normalise(number).encode(), hashlib.sha256).hexdigest()
