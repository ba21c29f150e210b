"""User acceptance tests of new applications: SOP/AS/32 D.2 "Hasil Test", D.3 "Catatan Pertimbangan",
D.6 "Persetujuan Aplikasi". See docs/uat.md.

    checklist = load_checklist("checks/uat/sipp.yml")        # checklist.py: YAML -> Checklist (InputError)
    outcome = Runner(checklist, answers=..., hosts=...).run(tester)   # runner.py: steps.py, hosts.py, web.py
    html, md = document.render(outcome, "id")                # document.py + templates/uat-result.*.j2
    records.save_run(store, run, outcome, documents)         # records.py: tables of migration 3 + D.2 evidence
    records.record_review(...); records.record_approval(...) # D.3, D.6 (the chain is checked)
"""

from sopctl.uat.checklist import Answer, Checklist, Step, find_checklist, load_answers, load_checklist
from sopctl.uat.records import ChainRefused, chain, record_approval, record_review, save_run
from sopctl.uat.runner import EvidenceFile, Runner, Secrets, StepResult, TerminalPrompter, UatOutcome

__all__ = [
    "Answer", "ChainRefused", "Checklist", "EvidenceFile", "Runner", "Secrets", "Step", "StepResult",
    "TerminalPrompter", "UatOutcome", "chain", "find_checklist", "load_answers", "load_checklist",
    "record_approval", "record_review", "save_run",
]
