"""The built-in lab: real OpenSSH hosts on loopback, each with its own root filesystem.

Host K (1-based) listens on 127.0.1.K:22. Its root is an overlay mount (lower: the live `/`, upper: a
per-host directory), made inside a private mount and UTS namespace created with `unshare`, so:
- a write on one host lands in that host's upper directory only, never on another host or the machine;
- the mounts exist only inside the host's namespace and disappear by themselves when its last process
  exits, so a killed run can never leave `/` bind-mounted somewhere we might later delete;
- each host has its own hostname.

Everything lives under one fixed state folder, `/var/lib/sopctl-lab`, so a lab left by an earlier checkout
or a killed run is found through its pid files and replaced. Processes are stopped by pid only, and only
after checking that the pid is still our sshd (its command line names the host's listen address).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from ..atomic import write_atomic
from ..errors import LabError
from ..transport.quoting import sh

STATE_DIR = Path(os.environ.get("SOPCTL_LAB_DIR", "/var/lib/sopctl-lab"))
ADDRESS_PREFIX = "127.0.1."
SSHD = "/usr/sbin/sshd"
PID_FILE = "/run/lab-sshd.pid"  # inside the host's root
HOST_KEY = "/etc/ssh/lab_host_ed25519_key"  # inside the host's root
MAX_HOSTS = 250


@dataclass(frozen=True)
class LabHost:
    """One lab host: its index K, name, address and group."""

    index: int
    name: str
    group: str

    @property
    def address(self) -> str:
        return f"{ADDRESS_PREFIX}{self.index}"

    @property
    def dir(self) -> Path:
        return STATE_DIR / "hosts" / f"{self.index:03d}"

    @property
    def upper(self) -> Path:
        return self.dir / "upper"

    @property
    def pid_file(self) -> Path:
        return self.upper / PID_FILE.lstrip("/")


@dataclass(frozen=True)
class HostState:
    host: LabHost
    state: str  # running | stopped | stale
    pid: int | None


def plan(count: int) -> list[LabHost]:
    """pc-01 … pc-(N-1) in group `pcs`, and srv-01 in group `servers` for the last host."""
    if not 1 <= count <= MAX_HOSTS:
        raise LabError(f"the lab holds 1 to {MAX_HOSTS} hosts, not {count}")
    hosts = [LabHost(k, f"pc-{k:02d}", "pcs") for k in range(1, count)]
    return hosts + [LabHost(count, "srv-01", "servers")]


def require_root() -> None:
    if os.geteuid() != 0:
        raise LabError("the lab needs root (it mounts overlays and starts sshd): run it as root")


def require_sshd() -> None:
    if not os.access(SSHD, os.X_OK):
        raise LabError(f"{SSHD} not found: install it with `apt-get install -y openssh-server`")


# --- processes -------------------------------------------------------------------------------------

def _read_pid(host: LabHost) -> int | None:
    try:
        return int(host.pid_file.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def _alive(pid: int) -> bool:
    """A pid that exists and is not a zombie (the machine's init may never reap our daemons)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _is_our_sshd(pid: int, host: LabHost) -> bool:
    """Only kill a pid whose command line is the sshd we started for this host's address."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return False
    return "sshd" in cmdline and f"ListenAddress={host.address}:22" in cmdline


def _namespace(pid: int) -> str | None:
    try:
        return os.readlink(f"/proc/{pid}/ns/mnt")
    except OSError:
        return None


def _namespace_members(namespace: str) -> list[int]:
    """Every process in the host's private mount namespace: all of them were started on that host."""
    if namespace == _namespace(os.getpid()):
        return []  # never treat the machine's own namespace as a lab host's
    members = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and _namespace(int(entry.name)) == namespace:
            members.append(int(entry.name))
    return members


def _kill_all(pids: list[int], deadline_s: float = 5.0) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in pids:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        end = time.monotonic() + deadline_s
        while time.monotonic() < end and any(_alive(p) for p in pids):
            time.sleep(0.02)
        if not any(_alive(p) for p in pids):
            return


def running_pid(host: LabHost) -> int | None:
    pid = _read_pid(host)
    return pid if pid and _alive(pid) and _is_our_sshd(pid, host) else None


def stop_host(host: LabHost) -> None:
    """Stop a host's sshd and every process started on it; its filesystem stays."""
    pid = running_pid(host)
    if pid is None:
        return
    namespace = _namespace(pid)
    members = _namespace_members(namespace) if namespace else []
    _kill_all(sorted(set(members) | {pid}))
    host.pid_file.unlink(missing_ok=True)


# --- filesystems -----------------------------------------------------------------------------------

def _mounts_under(path: Path) -> list[str]:
    prefix = str(path.resolve()) + "/"
    with open("/proc/self/mountinfo", encoding="utf-8") as fh:
        points = [line.split()[4] for line in fh]
    return [p for p in points if (p + "/").startswith(prefix)]


def _remove_dir(path: Path) -> None:
    """Delete a host's folder, refusing if anything is mounted below it in our namespace."""
    if not path.exists():
        return
    mounted = _mounts_under(path)
    if mounted:
        raise LabError(f"refusing to delete {path}: still mounted there: {', '.join(mounted)}")
    shutil.rmtree(path)


def _write(path: Path, text: str, mode: int = 0o644) -> None:
    write_atomic(path, text, mode)


def client_key() -> Path:
    """The lab's client key pair (allowed for root on every host), made once."""
    key = STATE_DIR / "id_ed25519"
    if not key.exists():
        STATE_DIR.mkdir(parents=True, exist_ok=True)
        _run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "sopctl-lab", "-f", str(key)])
    return key


def _prepare(host: LabHost) -> None:
    """Seed the upper layer: hostname, host key, root's authorized key, sshd's run directory."""
    upper = host.upper
    for sub, mode in (("etc/ssh", 0o755), ("root/.ssh", 0o700), ("run/sshd", 0o755)):
        (upper / sub).mkdir(parents=True, exist_ok=True)
        os.chmod(upper / sub, mode)
    os.chmod(upper / "root", 0o700)
    (host.dir / "work").mkdir(exist_ok=True)
    (host.dir / "root").mkdir(exist_ok=True)
    _write(upper / "etc/hostname", host.name + "\n")
    _seed_root_dotfiles(upper)
    key = upper / HOST_KEY.lstrip("/")
    if not key.exists():
        _run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", host.name, "-f", str(key)])
    pub = client_key().with_suffix(".pub").read_text()
    _write(upper / "root/.ssh/authorized_keys", pub, 0o600)
    _write(host.dir / "meta.json", json.dumps({"index": host.index, "name": host.name,
                                               "group": host.group, "address": host.address}))


def _seed_root_dotfiles(upper: Path) -> None:
    """A fresh Debian root's shell startup files, not this machine's (whose .bashrc may run slow tools)."""
    for name in (".bashrc", ".profile"):
        for source in (Path("/usr/share/base-files/dot" + name), Path("/etc/skel") / name):
            if source.exists():
                _write(upper / "root" / name, source.read_text())
                break


def _start(host: LabHost) -> None:
    root = host.dir / "root"
    # /proc/sys and /sys are the machine's kernel: read-only, so no playbook on a lab host can change
    # the machine's sysctls. sshd logs to /var/log/auth.log (there is no syslog daemon in a lab host).
    script = sh(
        "mount -t overlay overlay -o {} {} && mount --rbind /proc {} && mount --bind {} {} "
        "&& mount -o remount,bind,ro {} && mount --rbind /dev {} && mount --rbind -o ro /sys {} "
        "&& hostname {} && exec chroot {} {} -E /var/log/auth.log -o {} -o {} -o {}",
        f"lowerdir=/,upperdir={host.upper},workdir={host.dir / 'work'}", root,
        root / "proc", root / "proc/sys", root / "proc/sys", root / "proc/sys", root / "dev", root / "sys",
        host.name, root, SSHD,
        f"ListenAddress={host.address}:22", f"PidFile={PID_FILE}", f"HostKey={HOST_KEY}",
    )
    _run(["unshare", "--mount", "--uts", "--propagation", "private", "sh", "-c", script.text])
    _wait_listening(host)


def _wait_listening(host: LabHost, timeout_s: float = 10.0) -> None:
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        try:
            with socket.create_connection((host.address, 22), timeout=0.5):
                if running_pid(host):
                    return
        except OSError:
            pass
        time.sleep(0.05)
    raise LabError(f"{host.name}: sshd did not start listening on {host.address}:22 within {timeout_s:g}s")


def _run(argv: list[str]) -> None:
    done = subprocess.run(argv, capture_output=True, text=True)
    if done.returncode != 0:
        raise LabError(f"{argv[0]} failed ({done.returncode}): {done.stderr.strip() or done.stdout.strip()}")


# --- the lab as a whole ----------------------------------------------------------------------------

def existing() -> list[LabHost]:
    """Hosts found on disk (from any earlier run or checkout), by their meta files."""
    found = []
    for meta in sorted((STATE_DIR / "hosts").glob("*/meta.json")):
        try:
            data = json.loads(meta.read_text())
            found.append(LabHost(int(data["index"]), data["name"], data["group"]))
        except (OSError, ValueError, KeyError):
            found.append(LabHost(int(meta.parent.name), "?", "?"))
    return found


def destroy(host: LabHost) -> None:
    stop_host(host)
    _remove_dir(host.dir)


def status() -> list[HostState]:
    states = []
    for host in existing():
        pid = running_pid(host)
        state = "running" if pid else ("stale" if _read_pid(host) else "stopped")
        states.append(HostState(host, state, pid))
    return states


def start_host(host: LabHost) -> None:
    """(Re)start one host's sshd on its existing filesystem."""
    if running_pid(host) is None:
        _prepare(host)
        _start(host)


def up(count: int = 3, fresh: bool = False) -> list[LabHost]:
    """Make the lab exactly `count` running hosts; keep healthy ones unless `fresh`."""
    require_root()
    require_sshd()
    wanted = plan(count)
    for host in existing():
        if fresh or host not in wanted:
            destroy(host)
    for host in wanted:
        start_host(host)
    write_known_hosts(wanted)
    return wanted


def down() -> list[LabHost]:
    require_root()
    hosts = existing()
    for host in hosts:
        destroy(host)
    for name in ("known_hosts", "inventory.yml"):
        (STATE_DIR / name).unlink(missing_ok=True)
    shutil.rmtree(STATE_DIR / "inventory", ignore_errors=True)
    return hosts


def host_public_key(host: LabHost) -> list[str]:
    """Key type and base64 of the host key we generated for it."""
    return (host.upper / (HOST_KEY.lstrip("/") + ".pub")).read_text().split()[:2]


def write_known_hosts(hosts: list[LabHost]) -> Path:
    """The lab's known_hosts, from the host keys we generated ourselves: nothing is trusted on first use."""
    lines = [" ".join([h.address, *host_public_key(h)]) for h in hosts]
    path = STATE_DIR / "known_hosts"
    _write(path, "\n".join(lines) + "\n")
    return path


@contextlib.contextmanager
def exclusive():
    """Hold the lab for a whole test session or benchmark: a second one waits instead of tearing the
    hosts down under the first one's feet (the lab is one per machine, whatever checkout runs it)."""
    STATE_DIR.mkdir(parents=True, exist_ok=True)
    with open(STATE_DIR / "session.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def find(name: str) -> LabHost:
    for host in existing():
        if host.name == name:
            return host
    raise LabError(f"no lab host named {name!r}; lab hosts: {', '.join(h.name for h in existing()) or 'none'}")
