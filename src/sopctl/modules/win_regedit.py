"""win_regedit: keep a registry key or value (Ansible's `ansible.windows.win_regedit`).

Options:

- `path` (str, required, alias `key`): the key, `HKLM:\\SOFTWARE\\MyCompany` (also `HKEY_LOCAL_MACHINE\\...`,
  `Registry::...`); hives HKLM, HKCU, HKCR, HKU, HKCC. Over SSH, HKCU is the hive of the account sopctl
  logs in with, not of the PC's user.
- `name` (str, aliases `entry`, `value`): the value's name; `""` is the key's (Default) value. Without
  `name` the task is about the key itself: `present` makes sure it exists, `absent` deletes it.
- `data` (raw): the value's data. string/expandstring: text (an expandstring is compared unexpanded,
  `%SystemRoot%` stays as written); dword/qword: a number, decimal or `0x` hex (`0xffffffff` is the
  largest dword); multistring: a list of strings; binary/none: `hex:be,ef`, `be,ef`, `0xbe,0xef` or a list
  of numbers 0-255. No data means the type's empty value ("", 0, [], no bytes), as in Ansible.
- `type` (str, default `string`, alias `datatype`): `string`, `expandstring`, `multistring`, `dword`,
  `qword`, `binary`, `none`.
- `state` (str, default `present`): `present` or `absent`.
- `delete_key` (bool, default true): with `state: absent` and no `name`, delete the whole key (with its
  subkeys); false clears only the key's (Default) value.

A value is changed when its data or its type differs (`data_changed`, `data_type_changed`, as Ansible
returns them). Data is compared exactly (strings case-sensitively, as Ansible's `-cne`). The host is read
through .NET's RegistryKey in the 64-bit view, and written the same way (CreateSubKey / SetValue with the
RegistryValueKind), so a dword above 0x7fffffff keeps its bits and (Default) works like any other name.

Check mode: full. Diff: the key in .reg file form, before and after:

    [HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Policies\\System]
    "InactivityTimeoutSecs"=dword:00000384

Returns: `changed`, `data_changed`, `data_type_changed`.

Not supported (deliberately): `hive` (loading a hive file with RegLoadKey); an unknown option is an error.

EXAMPLES:

    - name: Lock an idle PC after 15 minutes
      win_regedit:
        path: HKLM:\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Policies\\System
        name: InactivityTimeoutSecs
        data: 900
        type: dword

    - name: Forget a vendor's key
      win_regedit:
        path: HKLM:\\SOFTWARE\\OldVendor
        state: absent
"""

from __future__ import annotations

import re
from types import SimpleNamespace
from typing import Any

from sopctl.modules.base import ModuleArgError, ModuleSpec, Option, Plan, text_diff
from sopctl.modules.winps import (
    RegistryPath,
    action,
    observation,
    observe,
    registry_path,
)
from sopctl.transport.quoting import Command, ps, ps_quote

TYPES = ("none", "binary", "dword", "expandstring", "multistring", "string", "qword")
#: our type name -> .NET RegistryValueKind name
KINDS = {"none": "None", "binary": "Binary", "dword": "DWord", "expandstring": "ExpandString",
         "multistring": "MultiString", "string": "String", "qword": "QWord"}
TYPE_OF_KIND = {kind: name for name, kind in KINDS.items()}

SPEC = ModuleSpec(
    name="win_regedit",
    options={
        "path": Option("str", required=True, aliases=("key",), help="registry key, like HKLM:\\SOFTWARE\\X"),
        "name": Option("str", aliases=("entry", "value"), help="value name; '' is (Default)"),
        "data": Option("raw", help="value data"),
        "type": Option("str", default="string", choices=TYPES, aliases=("datatype",), help="value type"),
        "state": Option("str", default="present", choices=("present", "absent")),
        "delete_key": Option("bool", default=True, help="absent without name deletes the whole key"),
    },
    check_mode="full",
    diff=True,
    doc=__doc__,
)


# ------------------------------------------------------------------------------------------ data


def wanted_data(kind: str, data: Any) -> Any:
    """The option's data in the form the host reports it: str, int (unsigned), list[str], list[int]."""
    if kind in ("string", "expandstring"):
        if isinstance(data, (dict, list)):
            raise ModuleArgError(f"win_regedit: data for type {kind} must be text, not a {type(data).__name__}")
        return "" if data is None else _text(data)
    if kind in ("dword", "qword"):
        bits = 32 if kind == "dword" else 64
        if data is None:
            return 0
        if isinstance(data, bool):
            return int(data)
        try:
            number = int(data) if isinstance(data, int) else _int_text(str(data).strip())
        except ValueError:
            raise ModuleArgError(f"win_regedit: data {data!r} is not a number for type {kind}") from None
        if not 0 <= number < 2 ** bits:
            raise ModuleArgError(f"win_regedit: data {data!r} does not fit a {kind} "
                                 f"(0 to 0x{2 ** bits - 1:x})")
        return number
    if kind == "multistring":
        if data is None:
            return []
        items = data if isinstance(data, list) else [data]
        return [_text(item) for item in items]
    return _bytes(data)  # binary, none


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "True" if value else "False"  # what PowerShell's ToString gives, as Ansible passes it
    return str(value)


def _int_text(text: str) -> int:
    return int(text, 16) if text.lower().startswith("0x") else int(text)


def _bytes(data: Any) -> list[int]:
    if data is None or data == "":
        return []
    if isinstance(data, bool):
        raise ModuleArgError("win_regedit: binary data must be hex text (hex:be,ef) or a list of bytes")
    if isinstance(data, int):
        values = [data]
    elif isinstance(data, list):
        values = []
        for item in data:
            values.append(_int_text(item.strip()) if isinstance(item, str) else int(item))
    else:
        text = re.sub(r"^hex(\([0-9a-f]\))?:", "", str(data).strip().lower())
        text = re.sub(r"[\s\\]", "", text)
        parts = [p for p in re.split(r"[,:]", text) if p]
        if len(parts) == 1 and len(parts[0]) > 2 and not parts[0].startswith("0x"):
            if len(parts[0]) % 2:
                raise ModuleArgError(f"win_regedit: binary data {data!r} has an odd number of hex digits")
            parts = [parts[0][i:i + 2] for i in range(0, len(parts[0]), 2)]
        try:
            values = [int(p, 16) for p in parts]
        except ValueError:
            raise ModuleArgError(f"win_regedit: binary data {data!r} is not hex bytes (like hex:be,ef)") from None
    if any(not 0 <= v <= 255 for v in values):
        raise ModuleArgError(f"win_regedit: binary data {data!r} has a value outside 0-255")
    return values


def observed_data(kind: str, data: Any) -> Any:
    """The host's answer as `wanted_data` shapes it (.NET gives signed Int32/Int64 for dword/qword)."""
    if kind == "DWord":
        return int(data) % 2 ** 32
    if kind == "QWord":
        return int(data) % 2 ** 64
    if kind in ("MultiString",):
        return [str(v) for v in (data if isinstance(data, list) else [] if data is None else [data])]
    if kind in ("Binary", "None"):
        return [int(v) for v in (data if isinstance(data, list) else [] if data is None else [data])]
    return "" if data is None else str(data)


def reg_line(name: str, kind: str, data: Any) -> str:
    """One value as a .reg file writes it."""
    shown = "@" if name == "" else '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if kind == "String":
        return f'{shown}="' + str(data).replace("\\", "\\\\").replace('"', '\\"') + '"'
    if kind == "DWord":
        return f"{shown}=dword:{int(data):08x}"
    if kind == "QWord":
        return f"{shown}=hex(b):" + ",".join(f"{b:02x}" for b in int(data).to_bytes(8, "little"))
    if kind == "ExpandString":
        raw = (str(data) + "\0").encode("utf-16-le")
        return f"{shown}=hex(2):" + ",".join(f"{b:02x}" for b in raw)
    if kind == "MultiString":
        raw = "".join(v + "\0" for v in data) + "\0"
        return f"{shown}=hex(7):" + ",".join(f"{b:02x}" for b in raw.encode("utf-16-le"))
    if kind == "None":
        return f"{shown}=hex(0):" + ",".join(f"{b:02x}" for b in data)
    return f"{shown}=hex:" + ",".join(f"{b:02x}" for b in data)


# --------------------------------------------------------------------------------------- scripts

_READ = """$b = [Microsoft.Win32.RegistryKey]::OpenBaseKey({}, 'Registry64')
$k = $b.OpenSubKey({})
if ($null -eq $k) { return @{ key = $false } }
try {
  $n = {}
  if ($null -eq $n -or $k.GetValueNames() -notcontains $n) { return @{ key = $true; exists = $false } }
  $kind = $k.GetValueKind($n).ToString()
  $v = $k.GetValue($n, $null, 'DoNotExpandEnvironmentNames')
  if ($kind -eq 'Binary' -or $kind -eq 'None') { $v = @($v | ForEach-Object { [int]$_ }) }
  elseif ($kind -eq 'MultiString') { $v = @($v) }
  @{ key = $true; exists = $true; kind = $kind; data = $v }
} finally { $k.Close() }"""


def read_script(key: RegistryPath, name: str | None) -> Command:
    """Observe the key, and the value `name` (None: the key only)."""
    name_literal = Command("$null", "$null") if name is None else name
    body = ps(_READ, key.hive, key.subkey, name_literal)
    shown = (ps("Get-Item -LiteralPath {}", key.ps_path) if name is None else
             ps("Get-ItemProperty -LiteralPath {} -Name {}", key.ps_path, name or "(default)"))
    return observation(body, shown.display)


def ps_data(kind: str, data: Any) -> Command:
    """The data as a typed PowerShell literal that SetValue stores as `kind` without conversion."""
    if kind in ("string", "expandstring"):
        return ps("[string]{}", data)
    if kind == "dword":
        signed = data - 2 ** 32 if data >= 2 ** 31 else data
        return Command(f"[int32]{signed}", f"[int32]{signed}")
    if kind == "qword":
        signed = data - 2 ** 64 if data >= 2 ** 63 else data
        literal = f"[int64]{signed}" if signed != -2 ** 63 else "[int64]::MinValue"
        return Command(literal, literal)
    if kind == "multistring":
        text = "[string[]]@(" + ", ".join(ps_quote(v) for v in data) + ")"
        return Command(text, text)
    text = "[byte[]]@(" + ", ".join(str(b) for b in data) + ")"
    return Command(text, text)


def set_value_action(key: RegistryPath, name: str, kind: str, data: Any) -> dict:
    value = ps_data(kind, data)
    body = ps("$b = [Microsoft.Win32.RegistryKey]::OpenBaseKey({}, 'Registry64')\n"
              "$k = $b.CreateSubKey({})\n"
              "try { $k.SetValue({}, {}, [Microsoft.Win32.RegistryValueKind]::{}) } finally { $k.Close() }",
              key.hive, key.subkey, name, value, Command(KINDS[kind], KINDS[kind]))
    shown = ps("New-ItemProperty -LiteralPath {} -Name {} -PropertyType {} -Value {} -Force", key.ps_path,
               name or "(default)", Command(KINDS[kind], KINDS[kind]), value)
    return action(body, shown.display)


def create_key_action(key: RegistryPath) -> dict:
    body = ps("$b = [Microsoft.Win32.RegistryKey]::OpenBaseKey({}, 'Registry64')\n"
              "$b.CreateSubKey({}).Close()", key.hive, key.subkey)
    return action(body, ps("New-Item -Path {} -Force", key.ps_path).display)


def delete_value_action(key: RegistryPath, name: str) -> dict:
    body = ps("$b = [Microsoft.Win32.RegistryKey]::OpenBaseKey({}, 'Registry64')\n"
              "$k = $b.OpenSubKey({}, $true)\n"
              "if ($null -ne $k) { try { $k.DeleteValue({}, $false) } finally { $k.Close() } }",
              key.hive, key.subkey, name)
    return action(body, ps("Remove-ItemProperty -LiteralPath {} -Name {}", key.ps_path,
                           name or "(default)").display)


def delete_key_action(key: RegistryPath) -> dict:
    body = ps("$b = [Microsoft.Win32.RegistryKey]::OpenBaseKey({}, 'Registry64')\n"
              "$b.DeleteSubKeyTree({}, $false)", key.hive, key.subkey)
    return action(body, ps("Remove-Item -LiteralPath {} -Recurse", key.ps_path).display)


# ------------------------------------------------------------------------------------------ plan


def plan(params: dict, host) -> Plan:
    key = registry_path(params["path"])
    if not key.subkey and (params["state"] == "absent" and params["name"] is None):
        raise ModuleArgError(f"win_regedit: will not delete the hive {key.long_hive} itself")
    name, kind, state = params["name"], params["type"], params["state"]
    warnings = []
    if name is None and params["data"] is not None and state == "present":
        name = ""  # data without a name: the (Default) value, which Ansible writes as a string
        if kind != "string":
            warnings.append("the data type when name is not specified can only be 'string', the type has "
                            "automatically been converted")
            kind = "string"
    data = wanted_data(kind, params["data"]) if state == "present" and name is not None else None

    found = observe(host, read_script(key, name))
    header = f"[{key.reg_path}]"
    result = {"data_changed": False, "data_type_changed": False}
    actions: list[dict] = []
    before_lines: list[str] | None = [header] if found.get("key") else None
    after_lines: list[str] | None

    if state == "present":
        after_lines = [header]
        if name is None:  # the key only
            if not found.get("key"):
                actions.append(create_key_action(key))
        else:
            now_kind = found.get("kind") if found.get("exists") else None
            now_data = observed_data(now_kind, found.get("data")) if now_kind else None
            if now_kind is not None and before_lines is not None:
                before_lines.append(reg_line(name, now_kind, now_data))
            if now_kind is None:
                actions.append(set_value_action(key, name, kind, data))
                result["data_changed"] = True
            else:
                type_changed = now_kind != KINDS[kind]
                data_changed = now_data != data
                if type_changed or data_changed:
                    actions.append(set_value_action(key, name, kind, data))
                result.update(data_changed=data_changed, data_type_changed=type_changed)
            after_lines.append(reg_line(name, KINDS[kind], data))
    else:
        after_lines = [header] if found.get("key") else None
        if not found.get("key"):
            pass
        elif name is None and params["delete_key"]:
            actions.append(delete_key_action(key))
            after_lines = None
        else:
            target = "" if name is None else name
            value = found if name is not None else observe(host, read_script(key, ""))
            if value.get("exists"):
                now_kind = value["kind"]
                before_lines = [header, reg_line(target, now_kind, observed_data(now_kind, value.get("data")))]
                actions.append(delete_value_action(key, target))
                result["data_changed"] = True

    if warnings:
        result["warnings"] = warnings
    diff = []
    if actions:
        diff = [text_diff(_reg_text(before_lines), _reg_text(after_lines), key.ps_path)]
    return Plan(actions=actions, result=result, diff=diff)


def _reg_text(lines: list[str] | None) -> str:
    return "" if lines is None else "\n".join(lines) + "\n"


MODULE = SimpleNamespace(spec=SPEC, plan=plan, windows=True)
