"""Encrypted, verified backups of hosts (SOP D.7 and F.2). The archive format is docs/backup-format.md;
the commands are docs/backup.md.

    from sopctl.backup import Identity, write_archive, OpenArchive, DirectorySink, restore_records

Modules, lowest first: `keys` (X25519 recipients, the passphrase-encrypted identity), `container` (header,
recipient stanzas, authenticated chunks), `pipeline` (read-ahead and read-back threads), `payload`
(compressed blocks and records), `manifest` (entry fields, safe paths), `source` (remote GNU tar over SSH,
tar parsing), `archive` (write/open an archive), `restore` (verified extraction into a folder or a tar
stream), `retention` (prune policy), `ledger` (store rows), `service` (what the commands do).
"""

from .archive import EXTENSION, ArchiveSummary, OpenArchive, write_archive
from .errors import (
    ArchiveError,
    BackupError,
    IdentityError,
    RecipientError,
    UnsafeEntry,
)
from .keys import Identity, Recipient, load_identity, read_recipients, write_identity
from .restore import DirectorySink, RestoreReport, TarSink, restore_records
from .retention import Candidate, Policy, decide
from .source import Member, SourceSpec, TarWarnings, iter_members, tar_command

__all__ = [
    "EXTENSION", "ArchiveError", "ArchiveSummary", "BackupError", "Candidate", "DirectorySink", "Identity",
    "IdentityError", "Member", "OpenArchive", "Policy", "Recipient", "RecipientError", "RestoreReport",
    "SourceSpec", "TarSink", "TarWarnings", "UnsafeEntry", "decide", "iter_members", "load_identity",
    "read_recipients", "restore_records", "tar_command", "write_archive", "write_identity",
]
