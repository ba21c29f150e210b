"""Website monitoring against the real lab: an access log of 100,000 generated lines placed on a lab host
and summarised over SSH through the CLI, compared with an independent count; content freshness read from
a web root over SSH; the compliance report's F.1 and F.3 from what was stored.

The log is generated here (tests/unit/website/loggen.py keeps its own counts while generating), then
written to the host with the plain OpenSSH client (`cat > file`), part of it gzip-compressed as a rotated
file, next to an old rotated file that must be skipped. The web servers run on 127.0.0.1 in this
process; the lab hosts (127.0.1.x) serve only SSH.
"""

from __future__ import annotations

import datetime as _dt
import gzip
import json
import subprocess

import pytest
import yaml

from sopctl.compliance import load_catalog
from sopctl.compliance.status import evaluate_month
from sopctl.lab import core
from sopctl.store import Store
from tests.helpers import REPO, ssh_run
from tests.unit.website.cli import sopctl
from tests.unit.website.loggen import THRESHOLD_404, generate
from tests.unit.website.servers import Route, Site
from tests.unit.website.test_accesslog import assert_matches

LINES = 100_000
LOG_DIR = "/var/log/nginx-lab"
NOW = _dt.datetime.now(_dt.timezone.utc)


def month() -> str:
    return _dt.datetime.now().astimezone().strftime("%Y-%m")


def ssh_write(lab, host: str, path: str, data: bytes) -> None:
    """Write bytes to a file on a lab host with the plain OpenSSH client: `cat > file`."""
    address = lab.host(host).address
    argv = ["ssh", "-i", str(core.STATE_DIR / "id_ed25519"), "-o", "BatchMode=yes",
            "-o", f"UserKnownHostsFile={core.STATE_DIR / 'known_hosts'}", "-o", "StrictHostKeyChecking=yes",
            f"root@{address}", f"mkdir -p \"$(dirname '{path}')\" && cat > '{path}'"]
    done = subprocess.run(argv, input=data, capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr.decode()


@pytest.fixture(scope="module")
def host(lab):
    return lab.hosts[-1].name        # srv-01


@pytest.fixture(scope="module")
def generated(lab, host):
    lines, expected = generate(month(), LINES, seed=2018)
    cut = LINES * 3 // 10
    ssh_write(lab, host, f"{LOG_DIR}/access.log.1.gz", gzip.compress(b"".join(lines[:cut])))
    ssh_write(lab, host, f"{LOG_DIR}/access.log", b"".join(lines[cut:]))
    old, _ = generate("2024-01", 500, seed=1)
    ssh_write(lab, host, f"{LOG_DIR}/access.log.9.gz", gzip.compress(b"".join(old)))
    ssh_run(lab, host, f"touch -d '2024-02-01 00:00' {LOG_DIR}/access.log.9.gz")
    listing = ssh_run(lab, host, f"wc -l {LOG_DIR}/access.log; ls {LOG_DIR}")
    assert f"{LINES - cut} " in listing
    return expected


@pytest.fixture(scope="module")
def web_roots(lab, host):
    ssh_run(lab, host, "rm -rf /srv/www && mkdir -p /srv/www/fresh/berita /srv/www/stale/berita /srv/www/stale/cache"
                       " && echo a > /srv/www/fresh/index.html && echo b > /srv/www/fresh/berita/1.html"
                       " && touch -d '40 days ago' /srv/www/fresh/index.html"
                       " && touch -d '3 days ago' /srv/www/fresh/berita/1.html"
                       " && echo c > /srv/www/stale/index.html && echo d > '/srv/www/stale/berita/a b.html'"
                       " && touch -d '100 days ago' /srv/www/stale/index.html '/srv/www/stale/berita/a b.html'"
                       " && echo e > /srv/www/stale/cache/page.tmp")       # rewritten on every visit: excluded


@pytest.fixture(scope="module")
def servers():
    plain = {"/": Route()}                   # no Last-Modified, no sitemap: the web root decides freshness
    started = {"fresh": Site(dict(plain)), "stale": Site(dict(plain))}
    yield started
    for site in started.values():
        site.close()


@pytest.fixture(scope="module")
def inventory(lab, host, servers, tmp_path_factory):
    data = yaml.safe_load(lab.inventory.read_text())
    far = str((NOW + _dt.timedelta(days=365)).date())
    data["all"]["vars"]["websites"] = [
        {"name": "portal", "url": servers["fresh"].url, "host": host, "web_root": "/srv/www/fresh",
         "access_log": f"{LOG_DIR}/access.log*", "suspicious_404_threshold": THRESHOLD_404, "sitemap": None,
         "domain_expires": far, "hosting_expires": far, "max_content_age_days": 14, "timeout": 5},
        {"name": "arsip", "url": servers["stale"].url, "host": host, "web_root": "/srv/www/stale",
         "web_root_exclude": ["cache"], "access_log": "/var/log/nowhere/access.log", "sitemap": None,
         "domain_expires": far, "hosting_expires": far, "max_content_age_days": 14, "timeout": 5},
    ]
    path = tmp_path_factory.mktemp("website-lab") / "inventory.yml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    return tmp_path_factory.mktemp("website-store") / "sopctl.db"


def test_access_log_summary_over_ssh_matches_an_independent_count(generated, inventory, db):
    done = sopctl("website.access-summary", "--month", month(), "-i", str(inventory), "--store", str(db), "--json",
                  timeout=600)
    assert done.returncode == 1, done.stderr                 # the site with no log fails the task
    out = json.loads(done.stdout)
    results = {r["website"]: r for r in out["results"]}
    portal = results["portal"]
    assert portal["status"] == "pass", portal
    data = portal["data"]
    assert_matches(data, generated)
    files = {f["path"]: f for f in data["files"]}
    assert files[f"{LOG_DIR}/access.log.9.gz"]["error"].startswith("skipped")
    assert files[f"{LOG_DIR}/access.log"]["lines"] + files[f"{LOG_DIR}/access.log.1.gz"]["lines"] == LINES
    assert "many 404s from 203.0.113.66" in portal["observed"]
    assert "gzip -dc" in portal["command"] and "cat --" in portal["command"]
    missing = results["arsip"]
    assert missing["status"] == "fail" and missing["observed"].startswith("access log not found")


def test_the_report_shows_f3_from_the_stored_summary(generated, db):
    catalog = load_catalog(REPO / "checks" / "sop.yml")
    with Store.open(db) as store:
        report = evaluate_month(catalog, store, month(), _dt.date.today())
        evidence = [e for e in store.evidence_for("F.3", month()) if e.kind == "website-access-summary"]
    f3 = report.item("F.3")
    assert f3.status == "partly"
    assert (f3.hosts_passing, f3.hosts_failing) == (["portal"], ["arsip"])
    assert len(evidence) == 1 and evidence[0].data["requests"] == generated.requests
    assert evidence[0].data["unique_visitors"] == len(generated.visitors)


def test_freshness_from_the_web_root_over_ssh(web_roots, inventory, db):
    done = sopctl("website.check", "-i", str(inventory), "--store", str(db), "--json")
    out = json.loads(done.stdout)
    status = {(r["website"], r["check"]): r for r in out["results"]}
    fresh, stale = status[("portal", "website-fresh")], status[("arsip", "website-fresh")]
    assert fresh["status"] == "pass" and fresh["data"]["source"] == "web-root"
    assert 2.9 < fresh["data"]["age_days"] < 3.2
    assert stale["status"] == "fail" and stale["data"]["source"] == "web-root"
    assert 99.9 < stale["data"]["age_days"] < 100.2                      # the cache folder was not counted
    assert "-name cache -prune -o" in stale["command"]
    assert status[("portal", "website-available")]["status"] == "pass"
    catalog = load_catalog(REPO / "checks" / "sop.yml")
    with Store.open(db) as store:
        report = evaluate_month(catalog, store, month(), _dt.date.today())
    f1 = report.item("F.1")
    assert f1.status == "partly"
    assert (f1.hosts_passing, f1.hosts_failing) == (["portal"], ["arsip"])
