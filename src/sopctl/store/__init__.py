"""The results store: an embedded SQLite database of runs, check results, evidence, waivers and
attestations (and the backup feature's archives and restore tests). See docs/store.md.

    from sopctl.store import Store

    store = Store.open("var/sopctl.db")
    with store.run("audit", what=command.display, inventory="inventory.yml") as run:
        run.add_result("ssh-root-login", "pc-01", "pass", sop_ids=["C.3"], observed="no", expected="no")
    store.latest_results(month="2025-03")
"""

from sopctl.store.core import DEFAULT_BUSY_TIMEOUT, Run, Store, StoreError
from sopctl.store.migrations import MIGRATIONS, SCHEMA_VERSION, Migration
from sopctl.store.models import (COUNTED, RESULT_STATUSES, RUN_STATUSES, Attestation, EvidenceRow, ResultRow,
                                 RunRow, Waiver, host_matches)
from sopctl.store.values import OUTPUT_CAP, parse_time, trim_output

__all__ = [
    "COUNTED", "DEFAULT_BUSY_TIMEOUT", "MIGRATIONS", "OUTPUT_CAP", "RESULT_STATUSES", "RUN_STATUSES",
    "SCHEMA_VERSION", "Attestation", "EvidenceRow", "Migration", "ResultRow", "Run", "RunRow", "Store",
    "StoreError", "Waiver", "host_matches", "parse_time", "trim_output",
]
