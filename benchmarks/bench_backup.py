"""Time sopctl's backup and restore test beside restic and the bare SSH stream, on the same lab host data.

Run as root from the repository: `python3 benchmarks/bench_backup.py [--repeats 3] [--big-gb 2]`.
Needs restic for its rows (`apt-get install restic`; skipped, and said so, when missing).

Data (made on the lab host srv-01 once per run): /bench/data = one large random file and thousands of small
text files, about 300 MB together. Rows:
* sopctl backup: pre-commands none, remote GNU tar over the host's paramiko connection, parsed, hashed,
  compressed, encrypted and written here (one fresh process, like `invoke backup`);
* sopctl restore-test: decrypt, restore into a scratch folder, verify every file (fresh process; the identity is
  unlocked with a small scrypt cost so the row measures the archive work: at log_n 18 unlocking adds ~1 s
  and 256 MiB, once per run). The scratch folder is sopctl's default, as `invoke restore-test` uses it when
  sopctl.backup.scratch is unset: the RAM disk /dev/shm when it has room (its pages are not in the peak
  RSS column; they are freed when the test ends);
* sopctl restore-test, scratch on disk: the same with the scratch folder set to a disk folder (this run's
  temporary folder), as with sopctl.backup.scratch set;
* restic backup / restic restore + check --read-data: restic reading the same files directly (no SSH) into a
  local repository, and restoring (to disk, so compared with the disk row) and verifying them;
* ssh host tar c | cat: OpenSSH and tar alone, the transport's limit.
Peak memory is each child's ru_maxrss (resource.getrusage), including the Python interpreter. Every case starts
after a sync, so none pays for writing out the previous one's files.
With --big-gb N, one more backup of an N GiB file measures peak memory on a large backup.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _lab import have, lab_inventory, machine
from tabulate import tabulate

from sopctl.lab import core

REPO = Path(__file__).resolve().parents[1]
DATA = "/bench/data"
MAKE_DATA = r"""
set -e
rm -rf /bench && mkdir -p /bench/data/text
head -c 200M /dev/urandom > /bench/data/large.bin
python3 - <<'EOF'
import random, os
random.seed(7)
words = "perkara sidang putusan hakim panitera jurusita mediasi banding kasasi gugatan nomor tahun".split()
for i in range(5000):
    folder = f"/bench/data/text/{i // 250:02d}"
    os.makedirs(folder, exist_ok=True)
    n = random.randint(2000, 38000)
    text = " ".join(random.choice(words) + (str(random.randint(0, 999)) if random.random() < .2 else "")
                    for _ in range(n // 7))
    with open(f"{folder}/berkas-{i:05d}.txt", "w") as handle:
        handle.write(text[:n] + "\n")
EOF
du -sb /bench/data | cut -f1
"""

CHILD = r"""
import json, os, resource, sys, time
from pathlib import Path
sys.path.insert(0, {src!r})
from sopctl.backup import service, read_recipients, load_identity
from sopctl.backup.service import HostPlan
from sopctl.backup.source import SourceSpec
mode, inventory, host, path, folder = sys.argv[1:6]
started = time.perf_counter()
if mode == "backup":
    from sopctl.inventory import load_inventory
    from sopctl.engine.targets import connection_spec
    from sopctl.transport import HostSession
    inv = load_inventory(inventory)
    session = HostSession(connection_spec(host, inv.host_vars(host)))
    session.open()
    started = time.perf_counter()
    plan = HostPlan(host, SourceSpec((path,)))
    outcome = service.backup_host(session, plan, read_recipients([Path(folder) / "recipients.txt"]), Path(folder))
    session.close()
    result = {{"archive": str(outcome.path), "size": outcome.summary.size, "files": outcome.summary.files}}
else:
    identity = load_identity(Path(folder) / "identity", "bench")
    started = time.perf_counter()
    report = service.verify_archive(Path(path), identity, scratch=Path(folder) if mode == "restore-test-disk" else None)
    assert report.ok, report.as_dict()
    result = {{"files": report.files}}
result["seconds"] = time.perf_counter() - started
result["rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(result))
"""


def child(mode: str, inventory: Path, host: str, path: str, folder: Path) -> dict:
    import json

    os.sync()                    # every case starts with no dirty pages of the one before being written out
    done = subprocess.run([sys.executable, "-c", CHILD.format(src=str(REPO / "src")), mode, str(inventory), host, path,
                           str(folder)], capture_output=True, text=True, env={**os.environ, "SOPCTL_BACKUP_SCRYPT_LOG_N": "10"})
    if done.returncode != 0:
        raise SystemExit(f"sopctl {mode} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def timed(argv: list[str], env: dict | None = None) -> tuple[float, float]:
    """(seconds, peak RSS MB) of one command, from wait4's resource usage of that process (and its children)."""
    os.sync()
    started = time.perf_counter()
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               env={**os.environ, **(env or {})})
    stderr = process.stderr.read()
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(argv[:4])} failed ({process.returncode}): {stderr[-500:]!r}")
    return elapsed, usage.ru_maxrss / 1024


def ssh_argv(address: str, command: str) -> list[str]:
    return ["ssh", "-i", str(core.STATE_DIR / "id_ed25519"), "-o", "BatchMode=yes", "-o",
            f"UserKnownHostsFile={core.STATE_DIR / 'known_hosts'}", "-o", "StrictHostKeyChecking=yes",
            f"root@{address}", command]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--big-gb", type=float, default=2.0, help="size of the peak-memory case (0 to skip)")
    args = parser.parse_args()
    from sopctl.backup import Identity, write_identity

    with tempfile.TemporaryDirectory(prefix="sopctl-bench-") as tmp, core.exclusive():
        tmp = Path(tmp)
        inventory = lab_inventory(2, tmp)
        host = core.find("srv-01")
        size = int(subprocess.run(ssh_argv(host.address, MAKE_DATA), capture_output=True, text=True,
                                  check=True).stdout.split()[-1])
        identity = Identity.generate()
        os.environ["SOPCTL_BACKUP_SCRYPT_LOG_N"] = "10"
        write_identity(tmp / "identity", identity, "bench")
        (tmp / "recipients.txt").write_text(f"{identity.recipient}\n")
        local_data = host.upper / DATA.lstrip("/")           # the same files, as restic reads them locally

        rows: dict[str, list[tuple[float, float]]] = {}
        for _ in range(args.repeats):
            for archive in (tmp / "srv-01").glob("*.sopbak"):
                archive.unlink()
            out = child("backup", inventory, "srv-01", DATA, tmp)
            rows.setdefault("sopctl backup (SSH, encrypted)", []).append((out["seconds"], out["rss_mb"]))
            test = child("restore-test", inventory, "srv-01", out["archive"], tmp)
            rows.setdefault("sopctl restore-test (decrypt, restore, verify)", []).append(
                (test["seconds"], test["rss_mb"]))
            disk = child("restore-test-disk", inventory, "srv-01", out["archive"], tmp)
            rows.setdefault("sopctl restore-test, scratch on disk", []).append((disk["seconds"], disk["rss_mb"]))
            rows.setdefault("ssh host tar c | cat (transport limit)", []).append(
                timed(["sh", "-c", " ".join(f"'{a}'" for a in ssh_argv(host.address, f"tar -C / -cf - {DATA.lstrip('/')}"))
                       + " | cat > /dev/null"]))
            if have("restic"):
                repo = tmp / "restic-repo"
                shutil.rmtree(repo, ignore_errors=True)
                shutil.rmtree(tmp / "restic-restore", ignore_errors=True)
                env = {"RESTIC_PASSWORD": "bench", "RESTIC_REPOSITORY": str(repo), "RESTIC_CACHE_DIR": str(tmp / "rc")}
                timed(["restic", "init"], env)
                rows.setdefault("restic backup (local files)", []).append(timed(["restic", "backup", "-q", str(local_data)], env))
                restore_s, restore_mb = timed(["restic", "restore", "latest", "--target", str(tmp / "restic-restore")], env)
                check_s, check_mb = timed(["restic", "check", "--read-data"], env)
                rows.setdefault("restic restore + check --read-data", []).append((restore_s + check_s,
                                                                                 max(restore_mb, check_mb)))
        big = None
        if args.big_gb:
            count = int(args.big_gb * 1024)
            subprocess.run(ssh_argv(host.address, f"mkdir -p /bench/big && head -c {count}M /dev/urandom > /bench/big/big.bin"),
                           check=True)
            for archive in (tmp / "srv-01").glob("*.sopbak"):
                archive.unlink()
            big = child("backup", inventory, "srv-01", "/bench/big", tmp)
            big_test = child("restore-test", inventory, "srv-01", big["archive"], tmp)
            subprocess.run(ssh_argv(host.address, "rm -rf /bench"), check=True)

    median = {name: (statistics.median(s for s, _ in v), max(m for _, m in v)) for name, v in rows.items()}
    ours_b = median["sopctl backup (SSH, encrypted)"][0]
    ours_r = median["sopctl restore-test (decrypt, restore, verify)"][0]
    ours_disk = median["sopctl restore-test, scratch on disk"][0]
    bare = median["ssh host tar c | cat (transport limit)"][0]
    table = []
    for name, (seconds, rss) in median.items():
        base = ours_disk if ("restore" in name and "sopctl" not in name) else ours_b    # restic restores to disk
        table.append([name, f"{seconds:.2f}", f"{size / seconds / 1e6:.0f}", f"{rss:.0f}",
                      f"{seconds / base:.2f}x" if "sopctl" not in name else "1.00x"])
    print(f"machine: {machine()}")
    print(f"data: {size / 1e6:.0f} MB ({DATA} on lab host srv-01: 200 MB random file + 5000 text files); "
          f"median of {args.repeats} runs\n")
    print(tabulate(table, headers=["case", "seconds", "MB/s", "peak RSS MB", "vs sopctl"], tablefmt="github"))
    print(f"\nsopctl backup / bare SSH stream: {ours_b / bare:.2f}x   "
          f"sopctl restore-test / bare SSH stream: {ours_r / bare:.2f}x   "
          f"(scratch on disk: {ours_disk / bare:.2f}x)")
    if "restic backup (local files)" in median:
        print(f"restic backup / sopctl backup: {median['restic backup (local files)'][0] / ours_b:.2f}x   "
              f"restic restore+check / sopctl restore-test on disk: "
              f"{median['restic restore + check --read-data'][0] / ours_disk:.2f}x  (above 1 = sopctl faster)")
    else:
        print("restic not installed: apt-get install restic to add its rows")
    if big:
        print(f"\n{args.big_gb:g} GiB backup: {big['seconds']:.1f} s, peak RSS {big['rss_mb']:.0f} MB; "
              f"its restore-test: {big_test['seconds']:.1f} s, peak RSS {big_test['rss_mb']:.0f} MB")


if __name__ == "__main__":
    main()
