"""A month's worth of results (50 hosts x 60 checks, 12 audits = 36,000 rows): latest_results stays right.

Correctness only; the time is not asserted (CI machines vary). docs/store.md gives measured timings.
"""

from __future__ import annotations

HOSTS = [f"pc-{n:02d}" for n in range(50)]
CHECKS = [f"check-{n:02d}" for n in range(60)]
AUDITS = 12


def _status(audit: int, check: int, host: int) -> str:
    return ("pass", "fail", "error", "na")[(audit + check * 7 + host * 3) % 4]


def test_latest_results_over_36k_results(store):
    run_ids = []
    for audit in range(AUDITS):
        day = audit * 2 + 1
        with store.run("audit", month="2025-03") as run:
            run.add_results({"check_id": check, "host": host, "status": _status(audit, c, h), "sop_ids": ["C.3"],
                             "observed": f"a{audit}", "time": f"2025-03-{day:02d}T02:{c:02d}:{h:02d}Z"}
                            for c, check in enumerate(CHECKS) for h, host in enumerate(HOSTS))
        run_ids.append(run.id)
    # Another month, and an interrupted run at the end that must not count.
    with store.run("audit", month="2025-04") as april:
        april.add_results({"check_id": check, "host": "pc-00", "status": "pass", "time": "2025-04-01T00:00:00Z"}
                          for check in CHECKS)
    try:
        with store.run("audit", month="2025-03") as broken:
            broken.add_results({"check_id": check, "host": host, "status": "fail", "time": "2025-03-31T00:00:00Z"}
                               for check in CHECKS for host in HOSTS)
            raise RuntimeError("interrupted")
    except RuntimeError:
        pass

    total = store._query("SELECT count(*) FROM results")[0][0]
    assert total == AUDITS * len(CHECKS) * len(HOSTS) + len(CHECKS)

    latest = store.latest_results(month="2025-03")
    assert len(latest) == len(CHECKS) * len(HOSTS)
    assert [(r.check_id, r.host) for r in latest] == [(c, h) for c in CHECKS for h in HOSTS]
    last = AUDITS - 1
    for row in latest:
        c, h = CHECKS.index(row.check_id), HOSTS.index(row.host)
        assert (row.run_id, row.status, row.observed) == (run_ids[last], _status(last, c, h), f"a{last}")

    # As of the middle of the month: the 6th audit (day 11) is the newest.
    middle = store.latest_results(month="2025-03", as_of="2025-03-11")
    assert {r.run_id for r in middle} == {run_ids[5]} and len(middle) == 3000

    everything = store.latest_results()
    assert len(everything) == 3000
    assert sum(1 for r in everything if r.run_id == april.id) == len(CHECKS)
