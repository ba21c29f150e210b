"""`vault.*`: encrypt, decrypt, view and edit vault files, and encrypt single values for YAML.

The password comes from `--password-file`, $SOPCTL_VAULT_PASSWORD_FILE, $SOPCTL_VAULT_PASSWORD or a
prompt (see `sopctl.vault.PasswordSource` and docs/vault.md).
"""

from __future__ import annotations

import getpass
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from invoke import Collection, task

from ..errors import UsageError
from ..lazy import lazy_module
from .common import reports_errors

# The vault (cryptography) loads when a vault task runs, not for every `sopctl` call.
_vault = lazy_module("sopctl.vault")

PASSWORD_HELP = "file holding the vault password (default: $SOPCTL_VAULT_PASSWORD_FILE, " \
                "$SOPCTL_VAULT_PASSWORD, else a prompt)"
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _encrypted(path: str) -> bytes:
    data = _vault.read_file(path)
    if not _vault.is_vault(data):
        raise _vault.VaultError(f"vault: {path} is not encrypted")
    return data


@task(help={"file": "file to encrypt in place", "password-file": PASSWORD_HELP})
@reports_errors
def encrypt(c, file, password_file=None):
    """Encrypt a file in place (refused if it is already a vault)."""
    data = _vault.read_file(file)
    if _vault.is_vault(data):
        raise _vault.VaultError(f"vault: {file} is already encrypted")
    password = _vault.PasswordSource(password_file).get(confirm=True)
    _vault.atomic_write(file, _vault.encrypt_bytes(data, password))
    print(f"vault: encrypted {file}")


@task(help={"file": "vault file to decrypt in place", "password-file": PASSWORD_HELP})
@reports_errors
def decrypt(c, file, password_file=None):
    """Decrypt a vault file in place (the plain file keeps mode 0600)."""
    data = _encrypted(file)
    plain = _vault.decrypt_text(data, _vault.PasswordSource(password_file).get(), file)
    _vault.atomic_write(file, plain)
    print(f"vault: decrypted {file}")


@task(help={"file": "vault file to show", "password-file": PASSWORD_HELP})
@reports_errors
def view(c, file, password_file=None):
    """Print a vault file's plaintext to stdout (the file is not changed)."""
    plain = _vault.decrypt_text(_encrypted(file), _vault.PasswordSource(password_file).get(), file)
    _write_stdout(plain)


def _write_stdout(data: bytes) -> None:
    sys.stdout.flush()
    buffer = getattr(sys.stdout, "buffer", None)
    if buffer is not None:
        buffer.write(data)
        buffer.flush()
    else:
        sys.stdout.write(data.decode("utf-8", errors="replace"))
        sys.stdout.flush()


@task(help={"file": "vault file to edit", "password-file": PASSWORD_HELP})
@reports_errors
def edit(c, file, password_file=None):
    """Decrypt to a private temp file, run $EDITOR (default vi), and encrypt again if it changed.

    The temp file is mode 0600 in a mode 0700 folder (in /dev/shm when there is one, so the plaintext
    stays in memory) and is overwritten and deleted afterwards, whatever happens.
    """
    source = _vault.PasswordSource(password_file)
    plain = _vault.decrypt_text(_encrypted(file), source.get(), file)
    folder = tempfile.mkdtemp(prefix="sopctl-vault-", dir=_private_tmp())
    try:
        temp = os.path.join(folder, Path(file).name)
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(plain)
        _run_editor(temp, file)
        try:
            edited = Path(temp).read_bytes()
        except OSError as exc:
            raise _vault.VaultError(f"vault: the edited copy of {file} is gone ({exc.strerror}); "
                                    f"{file} was not changed") from None
        if edited == plain:
            print(f"vault: {file} unchanged")
            return
        _vault.atomic_write(file, _vault.encrypt_bytes(edited, source.get()))
        print(f"vault: saved {file}")
    finally:
        _shred_tree(folder)


def _private_tmp() -> str | None:
    shm = "/dev/shm"
    return shm if os.path.isdir(shm) and os.access(shm, os.W_OK | os.X_OK) else None


def _run_editor(path: str, file: str) -> None:
    editor = os.environ.get("EDITOR") or "vi"
    try:
        command = shlex.split(editor)
    except ValueError as exc:
        raise UsageError(f"cannot parse $EDITOR {editor!r}: {exc}") from None
    if not command:
        command = ["vi"]
    try:
        done = subprocess.run([*command, path], check=False)
    except OSError as exc:
        raise _vault.VaultError(f"vault: cannot run editor {command[0]!r}: {exc.strerror or exc}; "
                                f"{file} was not changed") from None
    if done.returncode != 0:
        raise _vault.VaultError(f"vault: editor {command[0]!r} exited with status {done.returncode}; "
                                f"{file} was not changed")


def _shred_tree(folder: str) -> None:
    """Overwrite every file in the folder with zeros, then delete it all (best effort)."""
    for root, _dirs, files in os.walk(folder):
        for name in files:
            path = os.path.join(root, name)
            try:
                if os.path.islink(path):
                    continue
                size = os.path.getsize(path)
                with open(path, "r+b") as handle:
                    handle.write(b"\0" * size)
                    handle.flush()
                    os.fsync(handle.fileno())
            except OSError:
                pass
    shutil.rmtree(folder, ignore_errors=True)


@task(help={"name": "variable name for the YAML snippet (VAR: !vault |)", "password-file": PASSWORD_HELP})
@reports_errors
def encrypt_string(c, name=None, password_file=None):
    """Encrypt one value read from stdin (one trailing newline dropped) and print `NAME: !vault |` YAML.

    From a terminal the value is asked without echo; otherwise it is read from stdin, e.g.
    `printf %s "$DB_PASSWORD" | sopctl vault.encrypt-string --name db_password`.
    """
    if name is not None and not _NAME.match(name):
        raise UsageError(f"--name {name!r} is not a valid variable name (letters, digits, _)")
    if _stdin_is_tty():
        value = getpass.getpass("Value to encrypt: ")
    else:
        value = sys.stdin.read()
        if value.endswith("\n"):
            value = value[:-1]
            if value.endswith("\r"):
                value = value[:-1]
    if not value:
        raise _vault.VaultError("vault: nothing to encrypt: the value on stdin is empty")
    password = _vault.PasswordSource(password_file).get(confirm=True)
    print(_vault.vault_yaml_block(_vault.encrypt_bytes(value, password), name), end="")


def _stdin_is_tty() -> bool:
    try:
        return sys.stdin is not None and sys.stdin.isatty()
    except (AttributeError, ValueError):
        return False


ns = Collection("vault", encrypt, decrypt, edit, view, encrypt_string)
