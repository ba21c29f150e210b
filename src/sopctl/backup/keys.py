"""Backup keys: X25519 recipients (public, on the control machine) and the identity (private, offline).

A *recipient* is an X25519 public key written as one line, `sopctl-x25519-<43 base64url characters>`.
An *identity* is the matching private key, stored in a small JSON file encrypted with a passphrase
(scrypt, then ChaCha20-Poly1305). Archives are encrypted to recipients; only an identity reads them.
See docs/backup-format.md ("Keys").
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import (
    X25519PrivateKey,
    X25519PublicKey,
)
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from .errors import IdentityError, RecipientError

RECIPIENT_PREFIX = "sopctl-x25519-"
IDENTITY_FORMAT = "sopctl-backup-identity"
IDENTITY_VERSION = 1
PASSPHRASE_ENV = "SOPCTL_BACKUP_PASSPHRASE"
# Tests only: a smaller scrypt cost. The cost used is written into the identity file, so an identity
# made with a small cost stays weak: never set this when making a real identity.
SCRYPT_LOG_N_ENV = "SOPCTL_BACKUP_SCRYPT_LOG_N"
SCRYPT_LOG_N = 18            # 2**18 * r=8 * 128 bytes = 256 MiB and about a second: age's choice
SCRYPT_R, SCRYPT_P = 8, 1
SCRYPT_LOG_N_RANGE = (10, 22)  # refuse identity files asking for absurd work (or none)
_RAW = serialization.Encoding.Raw


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str, what: str, size: int | None = None) -> bytes:
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError, TypeError):
        raise ValueError(f"{what} is not base64") from None
    if size is not None and len(data) != size:
        raise ValueError(f"{what} has {len(data)} bytes, expected {size}")
    return data


@dataclass(frozen=True)
class Recipient:
    """A public key archives are encrypted to, with an optional label from the recipients file."""

    public: bytes
    label: str = ""

    @classmethod
    def parse(cls, text: str, label: str = "") -> Recipient:
        text = text.strip()
        if not text.startswith(RECIPIENT_PREFIX):
            raise ValueError(f"a recipient starts with {RECIPIENT_PREFIX}")
        body = text[len(RECIPIENT_PREFIX):]
        try:
            public = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        except (binascii.Error, ValueError):
            raise ValueError("the key is not base64url") from None
        if len(public) != 32 or len(body) != 43:
            raise ValueError("an X25519 key has 32 bytes (43 characters)")
        return cls(public, label)

    def __str__(self) -> str:
        return RECIPIENT_PREFIX + base64.urlsafe_b64encode(self.public).decode("ascii").rstrip("=")

    @property
    def fingerprint(self) -> str:
        """A short name for the key (first 8 bytes of its SHA-256, hex): shown in headers and reports."""
        return fingerprint(self.public)

    @property
    def key(self) -> X25519PublicKey:
        return X25519PublicKey.from_public_bytes(self.public)


def fingerprint(public: bytes) -> str:
    return "x25519:" + hashlib.sha256(public).hexdigest()[:16]


def read_recipients(paths: list[str | os.PathLike]) -> list[Recipient]:
    """Every recipient in the files (one a line: key, then an optional label; `#` comments)."""
    found: dict[bytes, Recipient] = {}
    for path in paths:
        try:
            lines = Path(path).read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            raise RecipientError(f"recipients file {path} does not exist: run `invoke backup.keygen` "
                                 "or set sopctl.backup.recipients") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise RecipientError(f"cannot read recipients file {path}: {exc}") from None
        for number, line in enumerate(lines, start=1):
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            key, _, label = line.partition(" ")
            try:
                recipient = Recipient.parse(key, label.strip())
            except ValueError as exc:
                raise RecipientError(f"{path}:{number}: not a recipient: {exc}") from None
            found.setdefault(recipient.public, recipient)
    if not found:
        raise RecipientError(f"no recipients in {', '.join(map(str, paths))}: run `invoke backup.keygen`")
    return list(found.values())


class Identity:
    """An unlocked private key. Made by `generate` or `load_identity`; never written unencrypted."""

    def __init__(self, private: X25519PrivateKey):
        self._private = private
        self.recipient = Recipient(private.public_key().public_bytes(_RAW, serialization.PublicFormat.Raw))

    @classmethod
    def generate(cls) -> Identity:
        return cls(X25519PrivateKey.generate())

    @property
    def fingerprint(self) -> str:
        return self.recipient.fingerprint

    def exchange(self, share: bytes) -> bytes:
        return self._private.exchange(X25519PublicKey.from_public_bytes(share))

    def _raw(self) -> bytes:
        return self._private.private_bytes(_RAW, serialization.PrivateFormat.Raw, serialization.NoEncryption())

    def __repr__(self) -> str:
        return f"Identity({self.fingerprint})"


def scrypt_log_n() -> int:
    """The scrypt cost for a new identity: 18, or $SOPCTL_BACKUP_SCRYPT_LOG_N (tests)."""
    value = os.environ.get(SCRYPT_LOG_N_ENV)
    if not value:
        return SCRYPT_LOG_N
    try:
        log_n = int(value)
    except ValueError:
        raise IdentityError(f"${SCRYPT_LOG_N_ENV}={value!r} is not a number") from None
    low, high = SCRYPT_LOG_N_RANGE
    if not low <= log_n <= high:
        raise IdentityError(f"${SCRYPT_LOG_N_ENV}={log_n} is outside {low}..{high}")
    return log_n


def _passphrase_key(passphrase: str, salt: bytes, log_n: int, r: int, p: int) -> bytes:
    return Scrypt(salt=salt, length=32, n=2 ** log_n, r=r, p=p).derive(passphrase.encode("utf-8"))


def _identity_aad(doc: dict) -> bytes:
    """Every field but the sealed key, canonically: changing the cost, salt or recipient breaks the tag."""
    return json.dumps({k: v for k, v in doc.items() if k != "sealed"}, sort_keys=True,
                      separators=(",", ":")).encode("utf-8")


def identity_text(identity: Identity, passphrase: str, log_n: int | None = None) -> str:
    """The identity file's content: the private key sealed with a key derived from `passphrase`."""
    if not passphrase:
        raise IdentityError("the passphrase is empty")
    log_n = scrypt_log_n() if log_n is None else log_n
    salt, nonce = os.urandom(16), os.urandom(12)
    doc = {
        "format": IDENTITY_FORMAT, "version": IDENTITY_VERSION,
        "comment": "sopctl backup identity: keep it offline; it is encrypted with a passphrase",
        "recipient": str(identity.recipient),
        "kdf": {"name": "scrypt", "log_n": log_n, "r": SCRYPT_R, "p": SCRYPT_P, "salt": _b64(salt)},
        "cipher": "ChaCha20-Poly1305", "nonce": _b64(nonce),
    }
    key = _passphrase_key(passphrase, salt, log_n, SCRYPT_R, SCRYPT_P)
    doc["sealed"] = _b64(ChaCha20Poly1305(key).encrypt(nonce, identity._raw(), _identity_aad(doc)))
    return json.dumps(doc, indent=2) + "\n"


def write_identity(path: str | os.PathLike, identity: Identity, passphrase: str, *, force: bool = False,
                   log_n: int | None = None) -> Path:
    """Write the encrypted identity with mode 0600 (its folder 0700 when created); never overwrites unless
    `force`."""
    path = Path(path).expanduser()
    text = identity_text(identity, passphrase, log_n)
    if path.exists() and not force:
        raise IdentityError(f"{path} already exists: keep it (archives need it), or pass --force to replace it")
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    temp = path.with_name(f".{path.name}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        os.fchmod(handle.fileno(), 0o600)
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temp, path)
    return path


def identity_recipient(path: str | os.PathLike) -> Recipient:
    """The public half recorded in an identity file (no passphrase needed)."""
    doc = _identity_doc(Path(path).expanduser())
    try:
        return Recipient.parse(doc["recipient"])
    except (KeyError, ValueError, AttributeError):
        raise IdentityError(f"{path}: not a sopctl backup identity (bad recipient field)") from None


def _identity_doc(path: Path) -> dict:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise IdentityError(f"identity file {path} does not exist: set sopctl.backup.identity, or plug in "
                            "the offline medium that holds it") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise IdentityError(f"cannot read identity file {path}: {exc}") from None
    try:
        doc = json.loads(text)
    except ValueError:
        doc = None
    if not isinstance(doc, dict) or doc.get("format") != IDENTITY_FORMAT:
        raise IdentityError(f"{path}: not a sopctl backup identity file")
    if doc.get("version") != IDENTITY_VERSION:
        raise IdentityError(f"{path}: identity format version {doc.get('version')!r} is not supported "
                            f"(this sopctl reads {IDENTITY_VERSION})")
    return doc


def load_identity(path: str | os.PathLike, passphrase: str) -> Identity:
    """Unlock the identity file; a wrong passphrase (or a changed file) is one IdentityError line."""
    path = Path(path).expanduser()
    doc = _identity_doc(path)
    try:
        kdf = doc["kdf"]
        log_n, r, p = int(kdf["log_n"]), int(kdf["r"]), int(kdf["p"])
        salt = _unb64(kdf["salt"], "salt", 16)
        nonce = _unb64(doc["nonce"], "nonce", 12)
        sealed = _unb64(doc["sealed"], "sealed key", 48)
        if kdf.get("name") != "scrypt" or doc.get("cipher") != "ChaCha20-Poly1305":
            raise ValueError("unknown kdf or cipher")
    except (KeyError, TypeError, ValueError) as exc:
        raise IdentityError(f"{path}: damaged identity file ({exc})") from None
    low, high = SCRYPT_LOG_N_RANGE
    if not low <= log_n <= high or r != SCRYPT_R or p != SCRYPT_P:
        raise IdentityError(f"{path}: refusing scrypt parameters log_n={log_n} r={r} p={p}")
    if not passphrase:
        raise IdentityError(f"the passphrase for {path} is empty")
    key = _passphrase_key(passphrase, salt, log_n, r, p)
    try:
        raw = ChaCha20Poly1305(key).decrypt(nonce, sealed, _identity_aad(doc))
    except InvalidTag:
        raise IdentityError(f"wrong passphrase for backup identity {path} (or the file was changed)") from None
    identity = Identity(X25519PrivateKey.from_private_bytes(raw))
    if str(identity.recipient) != doc.get("recipient"):
        raise IdentityError(f"{path}: the private key does not match the recorded recipient")
    return identity
