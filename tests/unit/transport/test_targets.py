from sopctl.engine.targets import RunSettings, connection_spec
from sopctl.transport.quoting import Secret


def test_ansible_connection_variables_are_honoured():
    spec = connection_spec("web", {
        "ansible_host": "127.0.1.9", "ansible_port": "2222", "ansible_user": "admin",
        "ansible_ssh_private_key_file": "/keys/id", "ansible_password": "pw",
        "ansible_ssh_common_args": "-o StrictHostKeyChecking=yes -o UserKnownHostsFile=/lab/known_hosts",
    })
    assert (spec.address, spec.port, spec.user, spec.key_file) == ("127.0.1.9", 2222, "admin", "/keys/id")
    assert spec.known_hosts == "/lab/known_hosts" and spec.known_hosts_name == "[127.0.1.9]:2222"
    assert isinstance(spec.password, Secret) and spec.password.reveal() == "pw"
    assert "pw" not in repr(spec)


def test_sopctl_known_hosts_wins_and_defaults_apply():
    spec = connection_spec("pc-01", {"sopctl_known_hosts": "/k", "ansible_ssh_extra_args": "-oUserKnownHostsFile=/x"},
                           RunSettings(connect_timeout=3))
    assert spec.known_hosts == "/k" and spec.address == "pc-01" and spec.user == "root"
    assert spec.connect_timeout == 3 and spec.shell == "sh" and spec.known_hosts_name == "pc-01"


def test_windows_hosts_use_powershell():
    spec = connection_spec("pc-win", {"ansible_shell_type": "powershell", "ansible_ssh_timeout": 5})
    assert spec.shell == "powershell" and spec.user == "Administrator" and spec.connect_timeout == 5
