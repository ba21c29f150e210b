"""What the backup commands do, without the command line: back up hosts, test and perform restores, prune.

Layering: this module uses the transport (sessions, quoting), the store and the format modules; the CLI
(`sopctl.cli.backup`) only parses options, calls these functions and prints.
"""

from __future__ import annotations

import datetime as _dt
import getpass
import os
import re
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from .. import __version__
from ..inventory.model import VaultValue
from ..store.values import format_time
from ..transport.quoting import Command, Secret, as_command, sh
from . import ledger
from .archive import EXTENSION, PARTIAL, ArchiveSummary, OpenArchive, write_archive
from .errors import ArchiveError, BackupError, IdentityError, ScratchFull
from .keys import PASSPHRASE_ENV, Identity, Recipient, load_identity
from .manifest import COMPARED, compared, display, name_bytes
from .restore import DirectorySink, RestoreReport, TarSink, restore_records
from .source import (
    ChannelStream,
    SourceSpec,
    TarWarnings,
    bulk_transport,
    hash_members,
    iter_members,
    open_stream,
    tar_command,
)

DEFAULT_SOP = "D.7"
SOP_ITEMS = ("D.7", "F.2")
_HOST_DIR = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.@:-]*$")
TAR_OK = (0, 1)       # 1 = some file changed while it was read: a warning, reported per file


# ------------------------------------------------------------------------------------------------- plans


@dataclass(frozen=True)
class HostPlan:
    """One host's backup, from its inventory variables."""

    host: str
    source: SourceSpec
    pre_commands: tuple[Command, ...] = ()
    sop: str = DEFAULT_SOP


def sop_item(host: str, hostvars: dict) -> str:
    sop = str(hostvars.get("backup_sop") or DEFAULT_SOP)
    if sop not in SOP_ITEMS:
        raise BackupError(f"{host}: backup_sop is {sop!r}; use one of {', '.join(SOP_ITEMS)}")
    return sop


def host_plan(host: str, hostvars: dict) -> HostPlan | None:
    """The host's plan, or None when it has no `backup_paths`."""
    source = SourceSpec.from_vars(host, hostvars)
    if source is None:
        return None
    commands = hostvars.get("backup_pre_commands") or []
    if isinstance(commands, (str, Secret, VaultValue)):
        commands = [commands]
    pre = []
    for command in commands:
        if isinstance(command, VaultValue):
            from ..vault import Vault

            command = Vault().decrypt_value(command, f"{host}: backup_pre_commands")
        if isinstance(command, Secret):
            pre.append(Command(command.reveal(), "***"))
        elif isinstance(command, str):
            pre.append(as_command(command))
        else:
            raise BackupError(f"{host}: backup_pre_commands must be a list of shell commands")
    return HostPlan(host, source, tuple(pre), sop_item(host, hostvars))


# ------------------------------------------------------------------------------------------------ backup


@dataclass
class BackupOutcome:
    """One host's backup: the archive written (path, summary) or why there is none."""

    host: str
    sop: str
    path: Path | None = None
    created_at: str | None = None
    summary: ArchiveSummary | None = None
    seconds: float = 0.0
    pre_commands: list[dict] = field(default_factory=list)
    archive_id: int | None = None


def host_folder(root: Path, host: str) -> Path:
    if not _HOST_DIR.match(host):
        raise BackupError(f"host name {host!r} cannot name a backup folder")
    return root / host


def archive_name(created: _dt.datetime) -> str:
    return created.strftime("%Y%m%dT%H%M%SZ") + EXTENSION


def _new_file(folder: Path, created: _dt.datetime) -> tuple[Path, Path, int]:
    """(final path, temp path, open fd) for a new archive; the temp name is hidden and ends .partial."""
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    base = archive_name(created)
    for attempt in range(1, 100):
        name = base if attempt == 1 else base.replace(EXTENSION, f"-{attempt}{EXTENSION}")
        final, temp = folder / name, folder / f".{name}{PARTIAL}"
        if final.exists():
            continue
        try:
            return final, temp, os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            continue
    raise BackupError(f"{folder}: cannot find a free archive name for {base}")


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def run_pre_commands(session, plan: HostPlan) -> list[dict]:
    done = []
    for command in plan.pre_commands:
        result = session.run(command)
        done.append({"command": command.display, "rc": result.rc, "seconds": round(result.duration, 3)})
        if result.rc != 0:
            tail = (result.stderr or result.stdout).strip().splitlines()[-1:] or [""]
            raise BackupError(f"{plan.host}: pre-backup command failed (exit {result.rc}): {command.display}: "
                              f"{tail[0][:300]}")
    return done


def backup_host(session, plan: HostPlan, recipients: list[Recipient], root: Path) -> BackupOutcome:
    """Run the pre-backup commands, stream the host's tar into a new archive, rename it into place."""
    started = time.perf_counter()
    outcome = BackupOutcome(plan.host, plan.sop)
    outcome.pre_commands = run_pre_commands(session, plan)
    created = _dt.datetime.now(_dt.UTC)
    final, temp, fd = _new_file(host_folder(root, plan.host), created)
    command = tar_command(plan.source)
    info = {"host": plan.host, "created": format_time(created), "paths": list(plan.source.paths),
            "exclude": list(plan.source.exclude), "sop": plan.sop, "sopctl": __version__,
            "source": command.display, "pre_commands": [c["command"] for c in outcome.pre_commands]}
    try:
        with os.fdopen(fd, "wb", buffering=1024 * 1024) as out:
            stream = open_stream(session, command, session.spec.command_timeout)
            summary = write_archive(out, recipients, info, iter_members(stream),
                                    lambda: _finish_tar(plan.host, stream))
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, final)
        _fsync_dir(final.parent)
    except BaseException:
        try:
            temp.unlink()
        except FileNotFoundError:
            pass
        raise
    outcome.path, outcome.created_at, outcome.summary = final, info["created"], summary
    outcome.seconds = time.perf_counter() - started
    return outcome


def _finish_tar(host: str, stream: ChannelStream) -> TarWarnings:
    rc = stream.drain()
    warnings = TarWarnings.parse(bytes(stream.stderr))
    if rc not in TAR_OK:
        detail = "; ".join(warnings.lines()[-3:]) or "no message"
        raise BackupError(f"{host}: remote tar failed (exit {rc}): {detail}")
    return warnings


# ------------------------------------------------------------------------------------------------ identity


def passphrase(prompt: str = "Backup identity passphrase: ", *, confirm: bool = False) -> str:
    """$SOPCTL_BACKUP_PASSPHRASE, else a prompt on a terminal, else an IdentityError saying how to give it."""
    value = os.environ.get(PASSPHRASE_ENV)
    if value:
        return value
    if not (sys.stdin and sys.stdin.isatty()):
        raise IdentityError(f"no passphrase for the backup identity: set {PASSPHRASE_ENV} or run from a terminal")
    value = getpass.getpass(prompt)
    if confirm and getpass.getpass("Again: ") != value:
        raise IdentityError("the two passphrases differ")
    if not value:
        raise IdentityError("the passphrase is empty")
    return value


def unlock(path: Path) -> Identity:
    return load_identity(path, passphrase())


# ------------------------------------------------------------------------------------------------ restore


def resolve_archive(path: str | os.PathLike, root: Path) -> Path:
    """A stored archive path is relative to the project's backups root's parent, or absolute."""
    path = Path(path)
    return path if path.is_absolute() else root / path


def _check_identity_of(report: RestoreReport, row: ledger.ArchiveRow | None) -> None:
    """The ARCHIVE record must name the host and time the store recorded: a file swapped for another
    archive of the same host (an older one, say) is caught here, although its chunks are genuine."""
    if row is None or not report.info:
        return
    if report.info.get("host") != row.host or report.info.get("created") != row.created_at:
        report.problem(f"the archive says it is {report.info.get('host')} at {report.info.get('created')}, the "
                       f"store recorded {row.host} at {row.created_at}: the file was replaced")
        report.ok = False


RAM_SCRATCH = Path("/dev/shm")
RAM_SHARE = 2           # a restore test takes at most this fraction (1/2) of free RAM and of the RAM disk


def verify_archive(path: Path, identity: Identity, *, scratch: Path | None = None, row: ledger.ArchiveRow | None = None,
                   keep_manifest: bool = False, name: str | None = None) -> RestoreReport:
    """Restore into a fresh scratch folder, verify everything, delete the folder, return the report.

    Without `scratch` (sopctl.backup.scratch unset), the folder is on the RAM disk when one is mounted at
    /dev/shm, limited to half of what is free both there and in memory: a restore test checks the archive,
    not the disk, and creating thousands of files on a disk file system can cost more than all the
    decryption. A restore that would pass that limit stops and runs again in the system temp folder.
    """
    if scratch is None:
        budget = ram_scratch_budget()
        if budget:
            try:
                return _verify_in(RAM_SCRATCH, budget, path, identity, row, keep_manifest, name)
            except ScratchFull:
                pass                # too large for the RAM share: the same test again, on disk
    return _verify_in(scratch, None, path, identity, row, keep_manifest, name)


def _verify_in(scratch: Path | None, limit: int | None, path: Path, identity: Identity,
               row: ledger.ArchiveRow | None, keep_manifest: bool, name: str | None) -> RestoreReport:
    folder = Path(tempfile.mkdtemp(prefix="sopctl-restore-test-", dir=scratch))
    try:
        try:
            archive = OpenArchive(path, identity, name=name or str(path))
        except ArchiveError as exc:
            return RestoreReport(name or str(path), error=str(exc), failed_chunk=exc.chunk)
        except IdentityError as exc:            # encrypted to other keys only: this archive cannot be tested
            return RestoreReport(name or str(path), error=str(exc))
        with archive:
            sink = DirectorySink(folder, limit=limit)
            try:
                report = restore_records(archive, sink, keep_manifest=keep_manifest)
            finally:
                sink.close()
        _check_identity_of(report, row)
        return report
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def ram_scratch_budget(folder: Path = RAM_SCRATCH) -> int:
    """Bytes a restore test may use on the RAM disk at `folder`: 0 when it is not a tmpfs mount point."""
    if not _is_tmpfs(folder):
        return 0
    try:
        st = os.statvfs(folder)
    except OSError:
        return 0
    if not os.access(folder, os.W_OK | os.X_OK):
        return 0
    return min(st.f_bavail * st.f_frsize, _mem_available()) // RAM_SHARE


def _is_tmpfs(folder: Path) -> bool:
    try:
        with open("/proc/self/mounts", encoding="utf-8", errors="replace") as mounts:
            return any(fields[1] == str(folder) and fields[2] == "tmpfs"
                       for fields in (line.split() for line in mounts) if len(fields) > 2)
    except OSError:
        return False


def _mem_available() -> int:
    """MemAvailable from /proc/meminfo in bytes (0 when unknown: then no RAM disk is used)."""
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def restore_to_dir(path: Path, identity: Identity, target: Path, *, name: str | None = None) -> RestoreReport:
    with OpenArchive(path, identity, name=name) as archive:
        sink = DirectorySink(target, reread=False)
        try:
            return restore_records(archive, sink)
        finally:
            sink.close()


class _ChannelWriter:
    def __init__(self, channel):
        self.channel = channel

    def write(self, data) -> int:
        self.channel.sendall(bytes(data))
        return len(data)


def restore_to_host(session, path: Path, identity: Identity, dest: str, *, name: str | None = None) -> RestoreReport:
    """Stream verified entries as tar into `tar -x` on the host under `dest` (created if missing)."""
    if not dest.startswith("/"):
        raise BackupError(f"--to {dest!r}: on a host, give an absolute folder (/ puts files back where they were)")
    command = sh("mkdir -p -- {} && LC_ALL=C tar --extract --file=- --preserve-permissions --same-owner "
                 "--numeric-owner --directory={}", dest, dest)
    with OpenArchive(path, identity, name=name) as archive:
        channel = bulk_transport(session).open_session()
        channel.exec_command(command.text)
        sink = TarSink(_ChannelWriter(channel))
        try:
            report = restore_records(archive, sink)
        finally:
            sink.close()
            channel.shutdown_write()
        stream = ChannelStream(channel, session.spec.command_timeout)
        rc = stream.drain()
    if rc != 0:
        message = bytes(stream.stderr).decode("utf-8", "replace").strip().splitlines()[-1:] or [""]
        report.problem(f"{session.spec.name}: remote tar exited {rc}: {message[0][:300]}")
        report.ok = False
    return report


# ------------------------------------------------------------------------------------------- against source


@dataclass
class SourceChanges:
    """How the live files differ from an archive's manifest."""

    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    content: list[str] = field(default_factory=list)
    metadata: list[str] = field(default_factory=list)
    counts: dict = field(default_factory=dict)

    def as_dict(self, limit: int = 20) -> dict:
        return {"counts": self.counts, "added": self.added[:limit], "removed": self.removed[:limit],
                "content": self.content[:limit], "metadata": self.metadata[:limit]}

    @property
    def summary(self) -> str:
        c = self.counts
        return (f"since the backup: {c['added']} added, {c['removed']} removed, {c['content']} with other content, "
                f"{c['metadata']} with other metadata")


def compare_with_source(session, plan: HostPlan, manifest: dict[bytes, dict]) -> SourceChanges:
    """Stream the host's files again (same tar command, nothing stored) and compare with `manifest`."""
    stream = open_stream(session, tar_command(plan.source), session.spec.command_timeout)
    changes = SourceChanges()
    seen: set[bytes] = set()
    for entry, digest in hash_members(iter_members(stream)):
        raw = name_bytes(entry, "path") or b""
        seen.add(raw)
        live = compared({**entry, "sha256": digest})
        old = manifest.get(raw)
        if old is None:
            changes.added.append(display(raw))
        elif (old["sha256"], old["size"]) != (live["sha256"], live["size"]) or old["type"] != live["type"]:
            changes.content.append(display(raw))
        elif old != live:
            fields = [k for k in COMPARED if old.get(k) != live.get(k)]
            changes.metadata.append(f"{display(raw)} ({', '.join(fields)})")
    _finish_tar(plan.host, stream)
    changes.removed = [display(raw) for raw in manifest if raw not in seen]
    changes.counts = {"added": len(changes.added), "removed": len(changes.removed), "content": len(changes.content),
                      "metadata": len(changes.metadata)}
    return changes
