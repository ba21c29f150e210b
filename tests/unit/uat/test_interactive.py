"""An interactive run through a real terminal: pexpect spawns the program on a pseudo-terminal, reads its
prompts (with the progress "8/9") and types the tester's answers, as a person would."""

from __future__ import annotations

import hashlib

import pexpect

from sopctl.store import Store
from sopctl.uat import records

from .support import VAULT_PASSWORD, cli_command, cli_env


def _spawn(project, *args, env=None):
    command = cli_command()
    child = pexpect.spawn(command[0], [*command[1:], *args], cwd=str(project), env=env or cli_env(),
                          encoding="utf-8", timeout=60, dimensions=(50, 220))
    return child


def test_manual_steps_are_asked_one_by_one_on_a_terminal(project, app):
    env = cli_env()
    env.pop("SOPCTL_VAULT_PASSWORD")             # on a terminal, the vault password is asked too
    child = _spawn(project, "uat", "--app", "uji", "--tester", "Siti Aminah", env=env)
    child.expect_exact("Vault password: ")
    child.sendline(VAULT_PASSWORD)
    child.expect(r"\[7/9\] basis-data · Basis data · Basis data menerima koneksi \.\.\. Lulus")
    child.expect_exact("[8/9] cetak-laporan · Manual · Cetak laporan perkara")
    child.expect_exact("Pertanyaan: Buka Dasbor, pilih perkara 0123/Pdt.G/2026/PA.Btl dan cetak laporannya.")
    child.expect_exact("Lulus bila: PDF terbuka dan memuat nomor perkara yang benar")
    child.expect_exact("Hasil [p=lulus / f=gagal / s=lewati]: ")
    child.sendline("mungkin")
    child.expect_exact("jawab p, f atau s")
    child.expect_exact("Hasil [p=lulus / f=gagal / s=lewati]: ")
    child.sendline("f")
    child.expect_exact("Komentar (wajib untuk gagal/lewati): ")
    child.sendline("")
    child.expect_exact("komentar wajib diisi")
    child.sendline("Printer PTSP tidak mencetak nomor perkara")
    child.expect_exact("Berkas bukti (tangkapan layar; kosong = tidak ada): ")
    child.sendline("bukti/tidak-ada.png")
    child.expect_exact("berkas tidak ada:")
    child.sendline("bukti/cetak.png")
    child.expect_exact("-> Gagal")
    child.expect_exact("[9/9] tampilan-ponsel · Manual · Tampilan di ponsel (opsional)")
    child.expect_exact("Hasil [p=lulus / f=gagal / s=lewati]: ")
    child.sendline("p")
    child.expect_exact("Komentar: ")
    child.sendline("menu terbaca")
    child.expect_exact("Berkas bukti")
    child.sendline("")
    child.expect_exact("Kesimpulan: TIDAK LULUS — 8 lulus, 1 gagal, 0 galat, 0 dilewati dari 9 langkah")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 1

    screenshot = project / "bukti" / "cetak.png"
    with Store.open(project / "var" / "sopctl.db") as db:
        (uat_run,) = records.runs(db, "uji")
        assert (uat_run.result, uat_run.tester) == ("failed", "Siti Aminah")
        steps = {s.step_id: s for s in records.steps(db, uat_run.id)}
        printed = steps["cetak-laporan"]
        assert (printed.result, printed.detail, printed.answered_by) == (
            "fail", "Printer PTSP tidak mencetak nomor perkara", "terminal")
        assert printed.evidence[0]["sha256"] == hashlib.sha256(screenshot.read_bytes()).hexdigest()
        assert (steps["tampilan-ponsel"].result, steps["tampilan-ponsel"].detail) == ("pass", "menu terbaca")
        assert db.evidence_for("D.2")[0].data["status"] == "non-compliant"


def test_closing_the_terminal_midway_stores_no_result(project, app):
    child = _spawn(project, "uat", "--app", "uji")
    child.expect_exact("[8/9] cetak-laporan")
    child.expect_exact("Hasil [p=lulus / f=gagal / s=lewati]: ")
    child.sendeof()
    child.expect(pexpect.EOF)
    output = child.before
    child.close()
    assert child.exitstatus == 2
    assert "the input ended before every manual step was answered; the run was not stored" in output
    with Store.open(project / "var" / "sopctl.db") as db:
        (run,) = db.runs(kind="uat")
        assert run.status == "incomplete"            # the attempt is visible, and counts for nothing
        assert records.runs(db) == [] and db.evidence_for("D.2") == []
    assert not (project / "reports").exists()
