"""The command line: Invoke tasks, the same collection as `tasks.py` and the `sopctl` program."""

from invoke import Collection

from . import backup, compliance, hosts, keeper, lab, maintain, play, requests, uat, vault, website

ns = Collection()
ns.add_task(hosts.ping)
ns.add_task(hosts.facts)
ns.add_task(play.play)
ns.add_task(maintain.maintain)
for _task in (compliance.audit, compliance.report, compliance.waive, compliance.waivers, compliance.attest):
    ns.add_task(_task)
ns.add_collection(lab.ns)
ns.add_collection(keeper.ns)  # keeper.status, keeper.stop (play --persist)
ns.add_collection(vault.ns)
ns.add_collection(uat.ns)
for _task in backup.ns_tasks:  # restore-test, restore
    ns.add_task(_task)
ns.add_collection(backup.ns)  # backup (its default task), backup.keygen, backup.list, backup.prune
ns.add_collection(website.ns)  # website.list/check/access-summary/renewals/report
ns.add_collection(website.incident_ns)  # incident.open/update/close/list/sweep
ns.add_collection(requests.ns)  # request.new/route/verify/consider/approve/reject/done/list/show/sweep
ns.configure({
    "sopctl": {
        "inventory": "inventory/lab.yml",
        "forks": 20,
        "connect_timeout": 10,
        "command_timeout": 300,
        "persist": 0,
        "holidays": [],
    },
})
