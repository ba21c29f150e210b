"""Recipients, the passphrase-encrypted identity, and their errors."""

from __future__ import annotations

import json
import stat

import pytest

from sopctl.backup import (
    Identity,
    IdentityError,
    Recipient,
    RecipientError,
    load_identity,
    read_recipients,
    write_identity,
)
from sopctl.backup.keys import identity_recipient, scrypt_log_n


def test_recipient_text_round_trips(identity):
    text = str(identity.recipient)
    assert text.startswith("sopctl-x25519-") and len(text) == len("sopctl-x25519-") + 43
    assert Recipient.parse(text) == identity.recipient
    assert identity.fingerprint.startswith("x25519:") and len(identity.fingerprint) == 23


@pytest.mark.parametrize("line", ["age1abc", "sopctl-x25519-short", "sopctl-x25519-" + "!" * 43])
def test_bad_recipient_line_names_file_and_line(tmp_path, line):
    path = tmp_path / "recipients.txt"
    path.write_text(f"# comment\n\n{line}\n")
    with pytest.raises(RecipientError, match=r"recipients.txt:3: not a recipient"):
        read_recipients([path])


def test_recipients_files_merge_labels_and_dedupe(tmp_path):
    a, b = Identity.generate(), Identity.generate()
    (tmp_path / "one").write_text(f"{a.recipient} it-head laptop  # main\n{b.recipient}\n")
    (tmp_path / "two").write_text(f"{a.recipient}\n")
    found = read_recipients([tmp_path / "one", tmp_path / "two"])
    assert [r.public for r in found] == [a.recipient.public, b.recipient.public]
    assert found[0].label == "it-head laptop"


def test_missing_or_empty_recipients(tmp_path):
    with pytest.raises(RecipientError, match="does not exist"):
        read_recipients([tmp_path / "nope"])
    (tmp_path / "empty").write_text("# nothing\n")
    with pytest.raises(RecipientError, match="no recipients"):
        read_recipients([tmp_path / "empty"])


def test_identity_file_is_0600_encrypted_and_unlocks(tmp_path, identity):
    path = write_identity(tmp_path / "cfg" / "id", identity, "correct horse")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = path.read_text()
    doc = json.loads(text)
    assert doc["kdf"]["log_n"] == 10 and doc["recipient"] == str(identity.recipient)
    assert identity._raw().hex() not in text
    assert load_identity(path, "correct horse").recipient == identity.recipient
    assert identity_recipient(path) == identity.recipient


def test_wrong_passphrase_is_one_clear_line(tmp_path, identity):
    path = write_identity(tmp_path / "id", identity, "right")
    with pytest.raises(IdentityError) as caught:
        load_identity(path, "wrong")
    assert str(caught.value) == f"wrong passphrase for backup identity {path} (or the file was changed)"
    assert "\n" not in str(caught.value)


def test_identity_with_changed_cost_or_recipient_does_not_unlock(tmp_path, identity):
    path = write_identity(tmp_path / "id", identity, "pw")
    doc = json.loads(path.read_text())
    doc["kdf"]["log_n"] = 11
    path.write_text(json.dumps(doc))
    with pytest.raises(IdentityError, match="wrong passphrase"):
        load_identity(path, "pw")
    doc["kdf"]["log_n"] = 40
    path.write_text(json.dumps(doc))
    with pytest.raises(IdentityError, match="refusing scrypt parameters"):
        load_identity(path, "pw")


def test_identity_refuses_overwrite_and_non_identity_files(tmp_path, identity):
    path = write_identity(tmp_path / "id", identity, "pw")
    with pytest.raises(IdentityError, match="already exists"):
        write_identity(path, identity, "pw")
    (tmp_path / "other").write_text("hello")
    with pytest.raises(IdentityError, match="not a sopctl backup identity"):
        load_identity(tmp_path / "other", "pw")
    with pytest.raises(IdentityError, match="does not exist"):
        load_identity(tmp_path / "missing", "pw")
    with pytest.raises(IdentityError, match="empty"):
        write_identity(tmp_path / "id2", identity, "")


def test_scrypt_cost_default_and_test_override(monkeypatch):
    monkeypatch.delenv("SOPCTL_BACKUP_SCRYPT_LOG_N")
    assert scrypt_log_n() == 18
    monkeypatch.setenv("SOPCTL_BACKUP_SCRYPT_LOG_N", "3")
    with pytest.raises(IdentityError, match="outside"):
        scrypt_log_n()
