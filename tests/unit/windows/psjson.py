"""ConvertTo-Json as each PowerShell edition writes it, for hand-written samples (no PowerShell runs here).

Written to the documented shapes, NOT captured from a real PC:

- Windows PowerShell 5.1 (JavaScriptSerializer): CRLF; 4-space indent, nested containers indented from the
  column of their opening bracket; `"key":  value` (two spaces); an empty array as `[`, an empty line,
  `]`; `'` `<` `>` `&` escaped as \\u0027 \\u003c \\u003e \\u0026; DateTime as "\\/Date(ms)\\/" (ms since
  1970 UTC); enums as their numbers.
- PowerShell 7 (Newtonsoft): CRLF, 2-space indent, `"key": value`, `[]`; DateTime as ISO 8601 with the
  PC's offset and 7 fraction digits when there is a fraction; enums as numbers too (unless
  -EnumsAsStrings).

`-Compress` (used by sopctl's combined script for the outer object) writes no whitespace in either.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

CRLF = "\r\n"


def _string51(text: str) -> str:
    out = json.dumps(text, ensure_ascii=False)
    for char, code in (("'", "\\u0027"), ("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        out = out.replace(char, code)
    return out


def _date51(moment: datetime) -> str:
    ms = int(round(moment.astimezone(timezone.utc).timestamp() * 1000))
    return f'"\\/Date({ms})\\/"'


def _date7(moment: datetime) -> str:
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    if moment.microsecond:
        text += f".{moment.microsecond:06d}0"
    offset = moment.strftime("%z")
    text += "Z" if offset in ("+0000", "") and moment.tzinfo is timezone.utc else f"{offset[:3]}:{offset[3:]}"
    return f'"{text}"'


def _scalar(value: Any, edition: str) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return _date51(value) if edition == "5.1" else _date7(value)
    if isinstance(value, (int, float)):
        return json.dumps(value)
    if isinstance(value, str):
        return _string51(value) if edition == "5.1" else json.dumps(value, ensure_ascii=False)
    raise TypeError(f"no JSON form for {type(value).__name__}")


def _ps51(value: Any, column: int) -> str:
    if isinstance(value, dict):
        inner = column + 4
        lines = []
        for key, item in value.items():
            key_text = _string51(str(key))
            lines.append(" " * inner + key_text + ":  " + _ps51(item, inner + len(key_text) + 3))
        return "{" + CRLF + ("," + CRLF).join(lines) + CRLF + " " * column + "}"
    if isinstance(value, list):
        if not value:
            return "[" + CRLF + CRLF + " " * column + "]"
        inner = column + 4
        return ("[" + CRLF + ("," + CRLF).join(" " * inner + _ps51(item, inner) for item in value) + CRLF
                + " " * column + "]")
    return _scalar(value, "5.1")


def _pwsh7(value: Any, indent: int) -> str:
    pad, inner = "  " * indent, "  " * (indent + 1)
    if isinstance(value, dict):
        if not value:
            return "{}"
        lines = [inner + json.dumps(str(k), ensure_ascii=False) + ": " + _pwsh7(v, indent + 1) for k, v in value.items()]
        return "{" + CRLF + ("," + CRLF).join(lines) + CRLF + pad + "}"
    if isinstance(value, list):
        if not value:
            return "[]"
        return "[" + CRLF + ("," + CRLF).join(inner + _pwsh7(v, indent + 1) for v in value) + CRLF + pad + "]"
    return _scalar(value, "7")


def _compressed(value: Any, edition: str) -> str:
    string = _string51 if edition == "5.1" else (lambda s: json.dumps(s, ensure_ascii=False))
    if isinstance(value, dict):
        return "{" + ",".join(string(str(k)) + ":" + _compressed(v, edition) for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(_compressed(v, edition) for v in value) + "]"
    return _scalar(value, edition)


def convert_to_json(value: Any, edition: str, compress: bool = False) -> str:
    """`value | ConvertTo-Json [-Compress]` as Windows PowerShell 5.1 ("5.1") or PowerShell 7 ("7") writes it."""
    if edition not in ("5.1", "7"):
        raise ValueError(edition)
    if compress:
        return _compressed(value, edition)
    return _ps51(value, 0) if edition == "5.1" else _pwsh7(value, 0)
