"""The vault format, its failure modes, password sources, YAML values and atomic writes."""

import base64
import os
import stat

import pytest
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

from sopctl import vault as vault_mod
from sopctl.errors import SopctlError
from sopctl.inventory.model import VaultValue
from sopctl.inventory.yaml_lines import load_yaml_text
from sopctl.transport.quoting import Secret
from sopctl.vault import (HEADER, PasswordSource, Vault, VaultError, atomic_write, decrypt_text, encrypt_bytes,
                          is_vault, vault_yaml_block)

WRONG = "vault: wrong password or the file was changed (secrets.yml)"


@pytest.fixture(autouse=True)
def no_password_env(monkeypatch):
    monkeypatch.delenv("SOPCTL_VAULT_PASSWORD", raising=False)
    monkeypatch.delenv("SOPCTL_VAULT_PASSWORD_FILE", raising=False)


def blob_of(text):
    return bytearray(base64.b64decode("".join(text.splitlines()[1:])))


def text_of(blob):
    encoded = base64.b64encode(bytes(blob)).decode()
    return HEADER + "\n" + "\n".join(encoded[i:i + 80] for i in range(0, len(encoded), 80)) + "\n"


# -- format ---------------------------------------------------------------------------------------


def test_round_trip_and_layout():
    data = ("db_password: s3cret\n" * 40).encode()
    text = encrypt_bytes(data, "pw")
    lines = text.splitlines()
    assert lines[0] == "$SOPCTL_VAULT;1;SCRYPT-CHACHA20POLY1305" == HEADER
    assert text.endswith("\n") and all(0 < len(line) <= 80 for line in lines[1:])
    assert all(len(line) == 80 for line in lines[1:-1])
    assert len(blob_of(text)) == 16 + 12 + len(data) + 16
    assert decrypt_text(text, "pw") == data
    assert decrypt_text(text.encode(), "pw") == data
    assert encrypt_bytes(data, "pw") != text  # a fresh salt and nonce every time
    assert decrypt_text(encrypt_bytes("é text", "pw"), "pw") == "é text".encode()
    assert decrypt_text(encrypt_bytes(b"", "pw"), "pw") == b""


def test_is_vault():
    text = encrypt_bytes(b"x", "pw")
    assert is_vault(text) and is_vault(text.encode()) and is_vault("\n  " + text)
    assert not is_vault("a: 1\n") and not is_vault(b"\x00\xff") and not is_vault("")
    assert not is_vault("$SOPCTL_VAULT;2;OTHER\nAAAA\n")
    assert not is_vault("$ANSIBLE_VAULT;1.1;AES256\n3031\n")


def test_wrong_password_is_one_clear_line():
    text = encrypt_bytes(b"x", "right")
    with pytest.raises(VaultError) as caught:
        decrypt_text(text, "wrong", "secrets.yml")
    assert str(caught.value) == WRONG
    assert "\n" not in str(caught.value)
    assert isinstance(caught.value, SopctlError) and caught.value.exit_code == 2


@pytest.mark.parametrize("where", ["salt", "nonce", "ciphertext", "tag"])
def test_any_changed_byte_is_refused(where):
    text = encrypt_bytes(b"some secret text", "pw")
    blob = blob_of(text)
    index = {"salt": 3, "nonce": 16 + 5, "ciphertext": 28 + 2, "tag": len(blob) - 1}[where]
    blob[index] ^= 0x01
    with pytest.raises(VaultError, match="^vault: wrong password or the file was changed \\(secrets.yml\\)$"):
        decrypt_text(text_of(blob), "pw", "secrets.yml")


@pytest.mark.parametrize("cut", ["last line", "some characters", "to the header", "body to 10 bytes"])
def test_a_truncated_file_is_refused(cut):
    text = encrypt_bytes(b"x" * 200, "pw")
    lines = text.splitlines()
    damaged = {
        "last line": "\n".join(lines[:-1]) + "\n",
        "some characters": text[:-7],
        "to the header": lines[0] + "\n",
        "body to 10 bytes": text_of(blob_of(text)[:10]),
    }[cut]
    with pytest.raises(VaultError) as caught:
        decrypt_text(damaged, "pw", "secrets.yml")
    assert str(caught.value) == WRONG


def test_a_changed_header_is_refused():
    text = encrypt_bytes(b"x", "pw")
    body = text.split("\n", 1)[1]
    with pytest.raises(VaultError, match="unsupported vault format"):
        decrypt_text("$SOPCTL_VAULT;2;SCRYPT-CHACHA20POLY1305\n" + body, "pw", "f")
    with pytest.raises(VaultError, match="Ansible Vault"):
        decrypt_text("$ANSIBLE_VAULT;1.1;AES256\n" + body, "pw", "f")
    with pytest.raises(VaultError, match="not sopctl vault data"):
        decrypt_text("hello\n" + body, "pw", "f")


def test_the_header_is_authenticated():
    """A blob sealed under another header (associated data) does not open under ours."""
    salt, nonce = os.urandom(16), os.urandom(12)
    key = vault_mod._derive_key("pw", salt)
    forged = salt + nonce + ChaCha20Poly1305(key).encrypt(nonce, b"evil", b"$SOPCTL_VAULT;0;NONE")
    with pytest.raises(VaultError, match="wrong password or the file was changed"):
        decrypt_text(text_of(forged), "pw", "f")
    good = salt + nonce + ChaCha20Poly1305(key).encrypt(nonce, b"fine", HEADER.encode())
    assert decrypt_text(text_of(good), "pw") == b"fine"


def test_the_derived_key_is_cached_per_password_and_salt():
    text = encrypt_bytes(b"x", "pw")
    vault_mod._derive_key.cache_clear()
    for _ in range(5):
        decrypt_text(text, "pw")
    info = vault_mod._derive_key.cache_info()
    assert info.misses == 1 and info.hits == 4


def test_an_empty_password_is_refused():
    with pytest.raises(VaultError, match="empty"):
        encrypt_bytes(b"x", "")


# -- YAML values ----------------------------------------------------------------------------------


def test_inline_vault_value_in_yaml_decrypts_to_a_secret(tmp_path):
    block = vault_yaml_block(encrypt_bytes("s3cret", "pw"), "db_password")
    assert block.startswith("db_password: !vault |\n  $SOPCTL_VAULT;1;")
    text = "db_user: app\n" + block + "nested:\n  list:\n    - " + \
        vault_yaml_block(encrypt_bytes("inner", "pw"), None, indent=6).replace("\n", "\n", 1)
    data = load_yaml_text(text, "vars.yml")
    assert isinstance(data["db_password"], VaultValue)
    assert "s3cret" not in repr(data)
    v = Vault("pw")
    secret = v.decrypt_value(data["db_password"])
    assert isinstance(secret, Secret) and secret.reveal() == "s3cret" and str(secret) == "***"
    assert v.decrypt_value(data["db_password"].ciphertext) == Secret("s3cret")
    revealed = v.reveal_tree(data)
    assert revealed["db_password"] == Secret("s3cret") and revealed["db_user"] == "app"
    assert revealed["nested"]["list"] == [Secret("inner")]
    path = tmp_path / "vars.yml"
    path.write_text(text)
    assert v.load_yaml_file(path) == revealed
    with pytest.raises(VaultError, match=r"wrong password or the file was changed \(a !vault value\)"):
        Vault("bad").decrypt_value(data["db_password"])


def test_whole_file_vault_loads_with_every_string_secret(tmp_path):
    path = tmp_path / "vault.yml"
    path.write_text(encrypt_bytes("vault_db_password: s3cret\nport: 5432\nusers: [ana, budi]\n", "pw"))
    data = Vault("pw").load_yaml_file(path)
    assert data == {"vault_db_password": Secret("s3cret"), "port": 5432, "users": [Secret("ana"), Secret("budi")]}
    assert Vault("pw").load_yaml_file(path, secret_strings=False)["vault_db_password"] == "s3cret"
    with pytest.raises(VaultError, match=f"wrong password or the file was changed \\({path}\\)"):
        Vault("bad").load_yaml_file(path)


def test_vault_values_work_through_the_templar():
    from sopctl.engine.templating import Templar

    variables = {"pw": VaultValue(encrypt_bytes("s3cret", "pw")), "user": "ana"}
    t = Templar(variables, vault=Vault("pw"))
    assert t.render_tainted("echo {{ user }}:{{ pw }}") == ("echo ana:s3cret", True)


# -- passwords ------------------------------------------------------------------------------------


def write(path, text):
    path.write_text(text)
    return str(path)


def test_password_sources_in_order(tmp_path, monkeypatch):
    explicit = write(tmp_path / "explicit", "from-explicit\n")
    env_file = write(tmp_path / "envfile", "from-env-file\r\n")
    asked = []

    def prompt(text):
        asked.append(text)
        return "from-prompt"

    def source(password_file=None):
        return PasswordSource(password_file, interactive=True, prompt=prompt)

    monkeypatch.setenv("SOPCTL_VAULT_PASSWORD_FILE", env_file)
    monkeypatch.setenv("SOPCTL_VAULT_PASSWORD", "from-env")
    assert source(explicit).get() == "from-explicit"
    assert source().get() == "from-env-file"
    monkeypatch.delenv("SOPCTL_VAULT_PASSWORD_FILE")
    assert source().get() == "from-env"
    monkeypatch.delenv("SOPCTL_VAULT_PASSWORD")
    assert source().get() == "from-prompt" and asked == ["Vault password: "]
    with pytest.raises(VaultError, match="^no vault password: set SOPCTL_VAULT_PASSWORD_FILE or"):
        PasswordSource(interactive=False).get()


def test_prompt_confirmation_and_empty_answers():
    answers = iter(["one", "two"])
    with pytest.raises(VaultError, match="differ"):
        PasswordSource(interactive=True, prompt=lambda _: next(answers)).get(confirm=True)
    with pytest.raises(VaultError, match="empty"):
        PasswordSource(interactive=True, prompt=lambda _: "").get()


def test_not_interactive_when_stdin_is_not_a_tty(monkeypatch):
    import io
    import sys

    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    with pytest.raises(VaultError, match="no vault password"):
        PasswordSource(prompt=lambda _: pytest.fail("must not prompt")).get()


def test_password_file_problems(tmp_path):
    with pytest.raises(VaultError, match="cannot read vault password file"):
        PasswordSource(tmp_path / "missing").get()
    with pytest.raises(VaultError, match="is empty"):
        PasswordSource(write(tmp_path / "empty", "\n")).get()
    assert PasswordSource(write(tmp_path / "spaces", " pw with spaces \n")).get() == " pw with spaces "
    assert PasswordSource(write(tmp_path / "two", "pw\n\n")).get() == "pw\n"  # only one newline is dropped


def test_the_password_is_asked_once_and_only_when_needed():
    calls = []

    def provider():
        calls.append(1)
        return "pw"

    v = Vault(provider)
    assert calls == []
    text = encrypt_bytes(b"x", "pw")
    v.decrypt(text)
    v.decrypt(text)
    assert calls == [1]


# -- atomic writes --------------------------------------------------------------------------------


def test_atomic_write_mode_and_replace(tmp_path):
    path = tmp_path / "f.yml"
    path.write_text("old")
    os.chmod(path, 0o644)
    atomic_write(path, "new")
    assert path.read_text() == "new"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.yml"]


def test_atomic_write_follows_a_symlink(tmp_path):
    real = tmp_path / "real.yml"
    real.write_text("old")
    link = tmp_path / "link.yml"
    link.symlink_to(real)
    atomic_write(link, "new")
    assert link.is_symlink() and real.read_text() == "new"


def test_atomic_write_leaves_no_temp_file_on_failure(tmp_path, monkeypatch):
    path = tmp_path / "f.yml"
    path.write_text("old")

    def broken_replace(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(vault_mod.os, "replace", broken_replace)
    with pytest.raises(VaultError, match="cannot write .*No space left on device"):
        atomic_write(path, "new")
    assert path.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.yml"]


def test_atomic_write_cleans_up_after_an_interrupt(tmp_path, monkeypatch):
    path = tmp_path / "f.yml"
    path.write_text("old")

    def interrupted(fd):
        raise KeyboardInterrupt

    monkeypatch.setattr(vault_mod.os, "fsync", interrupted)
    with pytest.raises(KeyboardInterrupt):
        atomic_write(path, "new")
    assert path.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.yml"]
