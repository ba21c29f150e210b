"""sopctl's vault: files and single YAML values encrypted with a password (see docs/vault.md).

This is deliberately not Ansible Vault's format. A vault text is one header line and base64 lines:

    $SOPCTL_VAULT;1;SCRYPT-CHACHA20POLY1305
    <base64 of salt(16) || nonce(12) || ciphertext+tag, wrapped at 80 columns>

The key is scrypt(password, salt, n=2**15, r=8, p=1, 32 bytes); the cipher is ChaCha20-Poly1305 with the
header line as associated data, so the header, the salt, the nonce and every ciphertext byte are
authenticated. An AEAD cannot tell a wrong password from a changed file, so both give the same error.

Inside YAML, a single value is written `name: !vault |` followed by the same text block, indented; the
inventory loader keeps it as a `VaultValue` and `Vault.decrypt_value` turns it into a `Secret` when it is
used. Whole files are decrypted by `Vault.load_yaml_file`.
"""

from __future__ import annotations

import base64
import binascii
import functools
import getpass
import os
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from sopctl.atomic import write_atomic
from sopctl.errors import SopctlError
from sopctl.inventory.model import VaultValue
from sopctl.transport.quoting import Secret

__all__ = ["HEADER", "PASSWORD_ENV", "PASSWORD_FILE_ENV", "PasswordSource", "Vault", "VaultError",
           "atomic_write", "decrypt_text", "encrypt_bytes", "is_vault", "read_file", "vault_yaml_block"]

HEADER = "$SOPCTL_VAULT;1;SCRYPT-CHACHA20POLY1305"
MAGIC = "$SOPCTL_VAULT"
SALT_BYTES = 16
NONCE_BYTES = 12
TAG_BYTES = 16
KEY_BYTES = 32
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2 ** 15, 8, 1
LINE_WIDTH = 80

PASSWORD_FILE_ENV = "SOPCTL_VAULT_PASSWORD_FILE"
PASSWORD_ENV = "SOPCTL_VAULT_PASSWORD"


class VaultError(SopctlError):
    """A vault could not be read or written; the message is one line saying what to do."""

    exit_code = 2


# -- format -----------------------------------------------------------------------------------------


def is_vault(text: str | bytes) -> bool:
    """True when the first non-blank line is exactly our header (a whole-file vault or a !vault value)."""
    if isinstance(text, bytes):
        if not text.lstrip().startswith(MAGIC.encode()):
            return False
        text = text.decode("utf-8", errors="replace")
    stripped = text.lstrip()
    return stripped.startswith(MAGIC) and stripped.splitlines()[0].strip() == HEADER


@functools.lru_cache(maxsize=64)
def _derive_key(password: str, salt: bytes) -> bytes:
    """scrypt once per (password, salt): every value in one file shares nothing, but re-reading the
    same value (or a file decrypted then re-encrypted by `edit`) does not pay 32 MiB of scrypt again."""
    kdf = Scrypt(salt=salt, length=KEY_BYTES, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P)
    return kdf.derive(password.encode("utf-8"))


def _check_password(password: str) -> str:
    if not isinstance(password, str) or not password:
        raise VaultError("vault: the password is empty")
    return password


def encrypt_bytes(data: bytes | str, password: str) -> str:
    """Encrypt `data` (text is encoded as UTF-8) with a fresh salt and nonce; the result is vault text
    ending in a newline."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    salt, nonce = os.urandom(SALT_BYTES), os.urandom(NONCE_BYTES)
    key = _derive_key(_check_password(password), salt)
    sealed = ChaCha20Poly1305(key).encrypt(nonce, bytes(data), HEADER.encode("ascii"))
    encoded = base64.b64encode(salt + nonce + sealed).decode("ascii")
    lines = [encoded[i:i + LINE_WIDTH] for i in range(0, len(encoded), LINE_WIDTH)]
    return "\n".join([HEADER, *lines]) + "\n"


def _where(source: Any) -> str:
    return f" ({source})" if source else ""


def _changed(source: Any) -> VaultError:
    return VaultError(f"vault: wrong password or the file was changed{_where(source)}")


def decrypt_text(text: str | bytes, password: str, source: Any = None) -> bytes:
    """The plaintext of vault `text`. Any failure is one VaultError line naming `source` (a file name,
    or a description such as "variable db_password"): a wrong password and a changed byte look the same."""
    if isinstance(text, bytes):
        try:
            text = text.decode("ascii")
        except UnicodeDecodeError:
            raise _changed(source) from None
    lines = [line.strip() for line in text.strip().splitlines()]
    header = lines[0] if lines else ""
    if header != HEADER:
        raise VaultError(_header_problem(header, source))
    body = "".join(lines[1:])
    try:
        blob = base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError):
        raise _changed(source) from None
    if len(blob) < SALT_BYTES + NONCE_BYTES + TAG_BYTES:
        raise _changed(source)
    salt, nonce = blob[:SALT_BYTES], blob[SALT_BYTES:SALT_BYTES + NONCE_BYTES]
    sealed = blob[SALT_BYTES + NONCE_BYTES:]
    key = _derive_key(_check_password(password), salt)
    try:
        return ChaCha20Poly1305(key).decrypt(nonce, sealed, header.encode("ascii"))
    except InvalidTag:
        raise _changed(source) from None


def _header_problem(header: str, source: Any) -> str:
    if header.startswith("$ANSIBLE_VAULT"):
        return (f"vault: this is Ansible Vault data, which sopctl does not read{_where(source)}; decrypt it "
                f"with ansible-vault and encrypt it again with `sopctl vault.encrypt`")
    if header.startswith(MAGIC):
        return f"vault: unsupported vault format {header!r}{_where(source)}; expected {HEADER}"
    return f"vault: not sopctl vault data{_where(source)}; the first line must be {HEADER}"


def vault_yaml_block(ciphertext: str, name: str | None = None, indent: int = 2) -> str:
    """A YAML `!vault |` value (with `name:` when given) for pasting into a vars file."""
    pad = " " * indent
    body = "\n".join(pad + line for line in ciphertext.strip().splitlines())
    head = f"{name}: !vault |" if name else "!vault |"
    return f"{head}\n{body}\n"


# -- files ------------------------------------------------------------------------------------------


def atomic_write(path: str | os.PathLike, data: bytes | str, mode: int = 0o600) -> None:
    """Replace `path` with `data` all at once (`sopctl.atomic.write_atomic`), mode 0600 by default; a
    failure is one vault error line and leaves `path` as it was."""
    try:
        write_atomic(path, data, mode)
    except OSError as exc:
        raise VaultError(f"vault: cannot write {os.path.realpath(path)}: {exc.strerror or exc}") from None


def read_file(path: str | os.PathLike) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise VaultError(f"vault: cannot read {path}: {exc.strerror or exc}") from None


# -- passwords --------------------------------------------------------------------------------------


class PasswordSource:
    """Where the vault password comes from, in this order: the explicit `password_file`, the file named
    by $SOPCTL_VAULT_PASSWORD_FILE, $SOPCTL_VAULT_PASSWORD, a prompt when stdin is a terminal.

    The password is looked up on first use only (a run that needs no secret never asks) and then kept.
    """

    def __init__(self, password_file: str | os.PathLike | None = None, *,
                 environ: Mapping[str, str] | None = None,
                 interactive: bool | None = None,
                 prompt: Callable[[str], str] = getpass.getpass):
        self.password_file = password_file
        self.environ = os.environ if environ is None else environ
        self.interactive = interactive
        self.prompt = prompt
        self._password: str | None = None
        #: Where the password came from, once known (for messages; never the password).
        self.origin: str | None = None

    def __call__(self) -> str:
        return self.get()

    def get(self, *, confirm: bool = False) -> str:
        """The password; `confirm` asks twice when prompting (for a new encryption)."""
        if self._password is None:
            self._password, self.origin = self._find(confirm)
        return self._password

    def _find(self, confirm: bool) -> tuple[str, str]:
        if self.password_file:
            return _read_password_file(self.password_file), f"password file {self.password_file}"
        env_file = self.environ.get(PASSWORD_FILE_ENV)
        if env_file:
            return _read_password_file(env_file), f"${PASSWORD_FILE_ENV} ({env_file})"
        env_password = self.environ.get(PASSWORD_ENV)
        if env_password:
            return env_password, f"${PASSWORD_ENV}"
        interactive = self.interactive if self.interactive is not None else _stdin_is_tty()
        if interactive:
            return self._ask(confirm), "prompt"
        raise VaultError(f"no vault password: set {PASSWORD_FILE_ENV} or {PASSWORD_ENV}, "
                         f"give --password-file, or run from a terminal to be asked")

    def _ask(self, confirm: bool) -> str:
        password = self.prompt("Vault password: ")
        if not password:
            raise VaultError("vault: the password is empty")
        if confirm and self.prompt("Vault password again: ") != password:
            raise VaultError("vault: the two passwords differ")
        return password


def _stdin_is_tty() -> bool:
    try:
        return sys.stdin is not None and sys.stdin.isatty()
    except (AttributeError, ValueError):
        return False


def _read_password_file(path: str | os.PathLike) -> str:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise VaultError(f"cannot read vault password file {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise VaultError(f"vault password file {path} is not UTF-8 text") from None
    password = text[:-1] if text.endswith("\n") else text
    password = password[:-1] if password.endswith("\r") else password
    if not password:
        raise VaultError(f"vault password file {path} is empty")
    return password


# -- the vault --------------------------------------------------------------------------------------


class Vault:
    """Decrypts with one password, asked of `password_provider` (a callable, e.g. a PasswordSource, or
    a plain string) the first time a secret is actually needed."""

    def __init__(self, password_provider: Callable[[], str] | str | None = None):
        if password_provider is None:
            password_provider = PasswordSource()
        self._provider = password_provider
        self._password: str | None = password_provider if isinstance(password_provider, str) else None

    @property
    def password(self) -> str:
        if self._password is None:
            self._password = _check_password(self._provider())  # type: ignore[operator]
        return self._password

    def encrypt(self, data: bytes | str) -> str:
        return encrypt_bytes(data, self.password)

    def decrypt(self, text: str | bytes, source: Any = None) -> bytes:
        return decrypt_text(text, self.password, source)

    def encrypt_value(self, plaintext: str) -> VaultValue:
        """A value for `!vault` (the inverse of `decrypt_value`)."""
        return VaultValue(self.encrypt(plaintext))

    def decrypt_value(self, value: VaultValue | str, source: Any = None) -> Secret:
        """The `Secret` inside a `!vault` value (or its text)."""
        text = value.ciphertext if isinstance(value, VaultValue) else value
        if not isinstance(text, str):
            raise VaultError(f"vault: expected vault text, got {type(text).__name__}{_where(source)}")
        plain = self.decrypt(text, source or "a !vault value")
        try:
            return Secret(plain.decode("utf-8"))
        except UnicodeDecodeError:
            raise VaultError(f"vault: the decrypted value is not UTF-8 text{_where(source)}") from None

    def reveal_tree(self, data: Any) -> Any:
        """A copy of loaded YAML data where every VaultValue is its Secret."""
        if isinstance(data, VaultValue):
            return self.decrypt_value(data)
        if isinstance(data, Mapping):
            return {key: self.reveal_tree(value) for key, value in data.items()}
        if isinstance(data, (list, tuple)):
            return [self.reveal_tree(item) for item in data]
        return data

    def load_yaml_file(self, path: str | os.PathLike, *, secret_strings: bool = True) -> Any:
        """Load a YAML file that may be a whole-file vault or contain `!vault` values.

        A whole-file vault is decrypted first; then, with `secret_strings` (the default), every string in
        it becomes a Secret, since everything in an encrypted file is meant to stay hidden (keys stay
        plain). In any file, `!vault` values become Secrets. YAML errors are InputErrors whose line
        numbers refer to the decrypted text.
        """
        from sopctl.inventory.yaml_lines import load_yaml_text, plain

        raw = read_file(path)
        encrypted = is_vault(raw)
        if encrypted:
            raw = self.decrypt(raw, path)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise VaultError(f"vault: {path} is not UTF-8 text (byte {exc.start})") from None
        data = self.reveal_tree(plain(load_yaml_text(text, str(path))))
        return _secret_strings(data) if encrypted and secret_strings else data


def _secret_strings(data: Any) -> Any:
    if isinstance(data, str):
        return Secret(data)
    if isinstance(data, Mapping):
        return {key: _secret_strings(value) for key, value in data.items()}
    if isinstance(data, list):
        return [_secret_strings(item) for item in data]
    return data
