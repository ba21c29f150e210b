"""The vault.* invoke tasks, called as invoke calls them (a Context first), and `vault.edit` with a real
editor process."""

import io
import os
import stat
import sys

import pytest
from invoke import Context, Exit

from sopctl.cli import vault as cli
from sopctl.inventory.yaml_lines import load_yaml_text
from sopctl.transport.quoting import Secret
from sopctl.vault import Vault, decrypt_text, is_vault

PLAIN = "db_password: s3cret\nport: 5432\n"


@pytest.fixture(autouse=True)
def password_env(monkeypatch):
    monkeypatch.delenv("SOPCTL_VAULT_PASSWORD_FILE", raising=False)
    monkeypatch.setenv("SOPCTL_VAULT_PASSWORD", "pw")
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))  # never a terminal: no prompts


@pytest.fixture
def ctx():
    return Context()


@pytest.fixture
def vars_file(tmp_path):
    path = tmp_path / "vault.yml"
    path.write_text(PLAIN)
    return path


def test_collection():
    assert cli.ns.name == "vault"
    assert sorted(cli.ns.task_names) == ["decrypt", "edit", "encrypt", "encrypt-string", "view"]


def test_encrypt_then_view_then_decrypt(ctx, vars_file, capsys):
    cli.encrypt(ctx, str(vars_file))
    text = vars_file.read_text()
    assert is_vault(text) and "s3cret" not in text
    assert stat.S_IMODE(vars_file.stat().st_mode) == 0o600
    assert decrypt_text(text, "pw") == PLAIN.encode()
    assert f"encrypted {vars_file}" in capsys.readouterr().out

    cli.view(ctx, str(vars_file))
    assert capsys.readouterr().out == PLAIN
    assert vars_file.read_text() == text  # view changes nothing

    cli.decrypt(ctx, str(vars_file))
    assert vars_file.read_text() == PLAIN
    assert stat.S_IMODE(vars_file.stat().st_mode) == 0o600


def test_encrypt_refuses_an_encrypted_file(ctx, vars_file):
    cli.encrypt(ctx, str(vars_file))
    before = vars_file.read_bytes()
    with pytest.raises(Exit) as caught:
        cli.encrypt(ctx, str(vars_file))
    assert caught.value.code == 2
    assert caught.value.message == f"sopctl: error: vault: {vars_file} is already encrypted"
    assert vars_file.read_bytes() == before


def test_decrypt_and_view_refuse_a_plain_file(ctx, vars_file):
    for task in (cli.decrypt, cli.view, cli.edit):
        with pytest.raises(Exit) as caught:
            task(ctx, str(vars_file))
        assert caught.value.code == 2 and "is not encrypted" in caught.value.message
    assert vars_file.read_text() == PLAIN


def test_wrong_password_is_one_line_and_changes_nothing(ctx, vars_file, monkeypatch):
    cli.encrypt(ctx, str(vars_file))
    before = vars_file.read_bytes()
    monkeypatch.setenv("SOPCTL_VAULT_PASSWORD", "wrong")
    for task in (cli.decrypt, cli.view, cli.edit):
        with pytest.raises(Exit) as caught:
            task(ctx, str(vars_file))
        assert caught.value.message == f"sopctl: error: vault: wrong password or the file was changed ({vars_file})"
        assert caught.value.code == 2
    assert vars_file.read_bytes() == before


def test_password_file_option_wins(ctx, vars_file, tmp_path, monkeypatch):
    pw_file = tmp_path / "pw.txt"
    pw_file.write_text("from-file\n")
    cli.encrypt(ctx, str(vars_file), password_file=str(pw_file))
    assert decrypt_text(vars_file.read_text(), "from-file") == PLAIN.encode()


def test_missing_file_and_missing_password(ctx, tmp_path, vars_file, monkeypatch):
    with pytest.raises(Exit, match="cannot read"):
        cli.encrypt(ctx, str(tmp_path / "nope.yml"))
    monkeypatch.delenv("SOPCTL_VAULT_PASSWORD")
    with pytest.raises(Exit) as caught:
        cli.encrypt(ctx, str(vars_file))
    assert caught.value.message.startswith("sopctl: error: no vault password: set SOPCTL_VAULT_PASSWORD_FILE or")
    assert vars_file.read_text() == PLAIN


def test_encrypt_string(ctx, capsys, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO("s3cret pass\n"))
    cli.encrypt_string(ctx, name="db_password")
    out = capsys.readouterr().out
    assert out.startswith("db_password: !vault |\n  $SOPCTL_VAULT;1;SCRYPT-CHACHA20POLY1305\n")
    assert "s3cret" not in out
    value = load_yaml_text("other: 1\n" + out, "vars.yml")["db_password"]
    assert Vault("pw").decrypt_value(value) == Secret("s3cret pass")


def test_encrypt_string_checks_its_input(ctx, monkeypatch):
    with pytest.raises(Exit, match="not a valid variable name"):
        cli.encrypt_string(ctx, name="db-password")
    monkeypatch.setattr(sys, "stdin", io.StringIO("\n"))
    with pytest.raises(Exit, match="nothing to encrypt"):
        cli.encrypt_string(ctx, name="x")


# -- edit with a real editor process --------------------------------------------------------------


def editor(tmp_path, body):
    """A shell-script $EDITOR that records the temp file's path and mode, then runs `body`."""
    script = tmp_path / "editor.sh"
    script.write_text("#!/bin/sh\n"
                      f'echo "$1" > "{tmp_path}/seen-path"\n'
                      f'stat -c %a "$1" > "{tmp_path}/seen-mode"\n'
                      f'stat -c %a "$(dirname "$1")" > "{tmp_path}/seen-dir-mode"\n'
                      + body + "\n")
    script.chmod(0o755)
    return str(script)


def test_edit_reencrypts_a_changed_file(ctx, vars_file, tmp_path, monkeypatch, capsys):
    cli.encrypt(ctx, str(vars_file))
    monkeypatch.setenv("EDITOR", editor(tmp_path, "sed -i 's/s3cret/n3w-secret/' \"$1\""))
    cli.edit(ctx, str(vars_file))
    text = vars_file.read_text()
    assert is_vault(text) and "n3w" not in text
    assert decrypt_text(text, "pw") == PLAIN.replace("s3cret", "n3w-secret").encode()
    assert f"saved {vars_file}" in capsys.readouterr().out
    seen = (tmp_path / "seen-path").read_text().strip()
    assert os.path.basename(seen) == "vault.yml" and not os.path.exists(seen)
    assert not os.path.exists(os.path.dirname(seen))
    assert (tmp_path / "seen-mode").read_text().strip() == "600"
    assert (tmp_path / "seen-dir-mode").read_text().strip() == "700"


def test_edit_without_changes_leaves_the_file_alone(ctx, vars_file, tmp_path, monkeypatch, capsys):
    cli.encrypt(ctx, str(vars_file))
    before = vars_file.read_bytes()
    monkeypatch.setenv("EDITOR", editor(tmp_path, "true"))
    cli.edit(ctx, str(vars_file))
    assert vars_file.read_bytes() == before
    assert "unchanged" in capsys.readouterr().out
    assert not os.path.exists((tmp_path / "seen-path").read_text().strip())


def test_a_failing_editor_changes_nothing_and_cleans_up(ctx, vars_file, tmp_path, monkeypatch):
    cli.encrypt(ctx, str(vars_file))
    before = vars_file.read_bytes()
    monkeypatch.setenv("EDITOR", editor(tmp_path, "echo junk >> \"$1\"; exit 3"))
    with pytest.raises(Exit) as caught:
        cli.edit(ctx, str(vars_file))
    assert caught.value.code == 2 and "exited with status 3" in caught.value.message
    assert vars_file.read_bytes() == before
    assert not os.path.exists(os.path.dirname((tmp_path / "seen-path").read_text().strip()))


def test_a_missing_editor_is_reported(ctx, vars_file, monkeypatch):
    cli.encrypt(ctx, str(vars_file))
    monkeypatch.setenv("EDITOR", "/nonexistent/editor --flag")
    with pytest.raises(Exit, match="cannot run editor '/nonexistent/editor'"):
        cli.edit(ctx, str(vars_file))


def test_editor_with_arguments(ctx, vars_file, tmp_path, monkeypatch):
    cli.encrypt(ctx, str(vars_file))
    script = tmp_path / "ed.sh"
    script.write_text('#!/bin/sh\n[ "$1" = "--wait" ] || exit 9\nprintf "a: 1\\n" > "$2"\n')
    script.chmod(0o755)
    monkeypatch.setenv("EDITOR", f"{script} --wait")
    cli.edit(ctx, str(vars_file))
    assert decrypt_text(vars_file.read_text(), "pw") == b"a: 1\n"
