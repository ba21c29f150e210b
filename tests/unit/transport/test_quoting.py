import base64

import pytest

from sopctl.transport.quoting import (MASK, WINDOWS_COMMAND_LINE_MAX, Command, Secret, decode_powershell,
                                      decode_stdin_script, powershell, ps, sh)


def test_values_are_quoted_and_templates_are_not():
    cmd = sh("grep -c {} {}", "a b'c", "/etc/my file")
    assert cmd.text == "grep -c 'a b'\"'\"'c' '/etc/my file'"
    assert cmd.display == cmd.text


def test_shell_metacharacters_stay_literal():
    cmd = sh("echo {}", "$(reboot); `id` && rm -rf /")
    assert cmd.text == "echo '$(reboot); `id` && rm -rf /'"


def test_secret_runs_but_is_never_displayed():
    cmd = sh("chpasswd <<< {}", Secret("root:hunter2"))
    assert "hunter2" in cmd.text
    assert "hunter2" not in cmd.display and MASK in cmd.display
    assert "hunter2" not in str(cmd) and "hunter2" not in repr(Secret("hunter2"))
    assert str(Secret("x")) == MASK


def test_commands_splice_without_requoting():
    inner = sh("cat {}", "/a b")
    outer = sh("sudo -n sh -c {}", inner.text) + " ; echo done"
    assert outer.text == "sudo -n sh -c 'cat '\"'\"'/a b'\"'\"'' ; echo done"
    assert sh("test -e {} || {}", "/x", Command("true", "true")).text == "test -e /x || true"


def test_field_count_must_match():
    with pytest.raises(ValueError, match="2 fields for 1"):
        sh("cp {} {}", "a")


def test_powershell_literals_double_single_quotes():
    assert ps("Get-Item -LiteralPath {}", "C:\\it's $env:TEMP").text == \
        "Get-Item -LiteralPath 'C:\\it''s $env:TEMP'"


def test_powershell_encoded_command_round_trips_utf16le():
    inv = powershell("Get-Date | ConvertTo-Json")
    assert inv.stdin is None
    assert inv.command.text.startswith("powershell -NoProfile -NonInteractive -ExecutionPolicy Bypass "
                                       "-EncodedCommand ")
    script = decode_powershell(inv.command.text)
    assert script.startswith("$ProgressPreference='SilentlyContinue';")
    assert "[Console]::OutputEncoding=[Text.Encoding]::UTF8;" in script
    assert script.endswith("Get-Date | ConvertTo-Json")
    encoded = inv.command.text.rsplit(" ", 1)[1]
    assert base64.b64decode(encoded) == script.encode("utf-16-le")


def test_powershell_secret_masked_in_display():
    inv = powershell(ps("net user x {}", Secret("pa55")))
    assert "pa55" in decode_powershell(inv.command.text)
    assert "pa55" not in inv.command.display


def test_long_powershell_script_goes_through_stdin_as_one_script_block():
    script = "Write-Output " + ps_long()
    inv = powershell(script)
    assert len(inv.command.text) < WINDOWS_COMMAND_LINE_MAX
    boot = decode_powershell(inv.command.text)
    assert "[scriptblock]::Create" in boot and "$input" in boot  # not `-Command -`, which runs line by line
    carried = decode_stdin_script(inv.stdin)
    assert carried.startswith("$ProgressPreference='SilentlyContinue';") and carried.endswith(script)
    assert all(len(line) <= 76 for line in inv.stdin.splitlines())


def ps_long():
    return "'" + "x" * 4000 + "'"
