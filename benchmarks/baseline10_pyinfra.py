"""The same 10 operations as baseline10.yml, as a pyinfra deploy (for bench_playbook.py)."""

from io import StringIO

from pyinfra.operations import files, server

files.directory(name="Folder", path="/srv/bench", mode="755")
files.put(name="Login banner", src=StringIO("Pengadilan Agama Batulicin - authorised use only.\n"),
          dest="/srv/bench/issue.net", mode="644")
files.put(name="Seed sshd_config", src=StringIO("Port 22\nPermitRootLogin yes\nPasswordAuthentication yes\n"
                                                 "X11Forwarding yes\n"),
          dest="/srv/bench/sshd_config", force=False)
files.line(name="No root login", path="/srv/bench/sshd_config", line="^#?PermitRootLogin.*",
           replace="PermitRootLogin no")
files.line(name="No passwords", path="/srv/bench/sshd_config", line="^#?PasswordAuthentication.*",
           replace="PasswordAuthentication no")
files.line(name="Max auth tries", path="/srv/bench/sshd_config", line="^#?MaxAuthTries.*",
           replace="MaxAuthTries 4")
files.line(name="No X11", path="/srv/bench/sshd_config", line="^#?X11Forwarding.*", replace="X11Forwarding no")
files.put(name="Password ageing file", src=StringIO("PASS_MAX_DAYS 99999\n"), dest="/srv/bench/login.defs",
          force=False, mode="640")
files.line(name="Password ageing", path="/srv/bench/login.defs", line="^PASS_MAX_DAYS.*", replace="PASS_MAX_DAYS 90")
server.shell(name="Read the banner back", commands=["cat /srv/bench/issue.net"])
