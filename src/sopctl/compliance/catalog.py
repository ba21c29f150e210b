"""The SOP catalog: SOP/AS/32's header facts and its 40 items, loaded from `checks/sop.yml`.

The compliance report has one line per SOP item, so everything else in the compliance feature (checks,
workflows, attestations, the report) hangs off the ids defined here. The file is written by hand, so
loading validates it fully and reports the first mistake as `file:line: field: what is wrong`; a file
with any mistake yields no catalog at all (all-or-nothing), never a partial one.

The schema is described field by field in docs/sop-catalog.md.
"""

from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

from sopctl.errors import InputError
from sopctl.yamlsrc import Fields, NodeList, describe, field_error, load_yaml

SCHEMA_VERSION = 1
SOP_ID = re.compile(r"^[A-F]\.[1-9]$")
ROLE_ID = re.compile(r"^[a-z][a-z0-9_]*$")
CHECK_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")
SECTIONS = ("A", "B", "C", "D", "E", "F")
EVIDENCE_KINDS = ("auto", "workflow", "attest")
TIME_KINDS = ("day", "deadline", "duration")
CADENCES = ("yearly", "monthly", "per-request", "per-application", "per-publication", "per-incident")
WORKFLOW_KINDS = ("service-request", "uat-run", "uat-review", "uat-approval", "incident")


# --------------------------------------------------------------------------------------------- model


@dataclass(frozen=True)
class Role:
    """One "Pelaksana" column of the SOP's tables: who carries items out."""

    id: str
    name_id: str
    name_en: str


@dataclass(frozen=True)
class SopDate:
    """A date of the SOP, with the SOP's own words for it (reports quote the SOP, not our format)."""

    date: _dt.date
    text: str


@dataclass(frozen=True)
class Signatory:
    """Who approved ("Disahkan oleh") the SOP; position and NIP are None when the SOP does not give them."""

    name: str
    position: str | None = None
    nip: str | None = None


@dataclass(frozen=True)
class SopHeader:
    """The SOP's cover facts, which a report header cites."""

    number: str
    title: str
    organisation: str
    created: SopDate
    effective: SopDate
    approved_by: Signatory
    parent_organisation: str | None = None
    revised: SopDate | None = None
    legal_basis: tuple[str, ...] = ()
    qualifications: tuple[str, ...] = ()
    related: tuple[str, ...] = ()
    equipment: tuple[str, ...] = ()
    warning: str | None = None
    recording: str | None = None
    document_status: str | None = None
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Section:
    """One of the SOP's six tables (A-F): its heading and its role columns."""

    letter: str
    title_id: str
    title_en: str
    roles: tuple[str, ...]
    roles_marked: bool = True


@dataclass(frozen=True)
class TimeStandard:
    """The "Waktu" (time standard) cell of an item, as data, with the SOP's words in `text`.

    kind "day": `day` of the procedure's cycle; "deadline": by `day_of_month` every month; "duration": takes
    between `min_minutes` and `max_minutes` (equal for a fixed duration).
    """

    kind: str
    text: str
    day: int | None = None
    day_of_month: int | None = None
    min_minutes: int | None = None
    max_minutes: int | None = None

    @property
    def minutes(self) -> int | None:
        """The fixed duration, or None for a range or a non-duration."""
        return self.min_minutes if self.min_minutes == self.max_minutes else None


@dataclass(frozen=True)
class SopItem:
    """One row of the SOP's tables: one line of the compliance report."""

    id: str
    section: str
    title_id: str
    title_en: str
    roles: tuple[str, ...]
    requirement: str
    time: TimeStandard
    output: str
    cadence: str
    evidence: str
    checks: tuple[str, ...] = ()
    attest: bool = False
    generated: bool = False
    workflow: str | None = None
    note: str | None = None
    line: int | None = field(default=None, compare=False)

    @property
    def number(self) -> int:
        """The row number within its section (the 3 of C.3)."""
        return int(self.id.split(".")[1])


@dataclass(frozen=True)
class Catalog:
    """The whole SOP: header, roles, sections and items in SOP order."""

    header: SopHeader
    roles: Mapping[str, Role]
    sections: Mapping[str, Section]
    items: tuple[SopItem, ...]
    path: str = ""
    _index: dict[str, SopItem] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_index", {item.id: item for item in self.items})

    def item(self, item_id: str) -> SopItem:
        """The item with this id; KeyError names the id, since a wrong id is a programming error here."""
        try:
            return self._index[item_id]
        except KeyError:
            raise KeyError(f"no SOP item {item_id!r} in {self.path or 'the catalog'}") from None

    def __contains__(self, item_id: object) -> bool:
        return item_id in self._index

    def by_section(self) -> dict[str, tuple[SopItem, ...]]:
        """Items grouped by section letter, sections and items in SOP order (how the report is laid out)."""
        groups: dict[str, list[SopItem]] = {}
        for item in self.items:
            groups.setdefault(item.section, []).append(item)
        return {letter: tuple(items) for letter, items in groups.items()}

    def referenced_checks(self) -> dict[str, tuple[str, ...]]:
        """Check id -> ids of the items it evidences, so a check result can be filed under its items."""
        refs: dict[str, list[str]] = {}
        for item in self.items:
            for check in item.checks:
                refs.setdefault(check, []).append(item.id)
        return {check: tuple(ids) for check, ids in refs.items()}


# ------------------------------------------------------------------------------------ public loaders


def load_catalog(path: str | Path, known_checks: set[str] | None = None) -> Catalog:
    """Load and validate the catalog at `path`; with `known_checks`, every referenced check must be one.

    Raises InputError (file, line, field) on the first problem; nothing is returned for a bad file.
    """
    path = str(path)
    root = _Fields.root(path, load_yaml(path))
    root.only("schema", "sop", "roles", "sections", "items")
    if root.integer("schema") != SCHEMA_VERSION:
        raise root.error("schema", f"must be {SCHEMA_VERSION}, the version this sopctl reads")
    roles = _load_roles(root.mapping("roles"))
    sections = _load_sections(root.mapping("sections"), roles)
    items = _load_items(root, roles, sections, known_checks)
    return Catalog(_load_header(root.mapping("sop")), roles, sections, items, path)


def validate_check_refs(catalog: Catalog, checks_to_items: Mapping[str, Iterable[str]],
                        path: str | Path) -> None:
    """Refuse a check (defined in `path`) that claims to evidence an SOP item the catalog lacks.

    `checks_to_items` maps check id -> SOP ids (a single id string is accepted too). When it comes from
    `load_yaml()`, the error points at the offending line.
    """
    for check, ids in checks_to_items.items():
        for index, sop_id in enumerate([ids] if isinstance(ids, str) else list(ids)):
            if sop_id in catalog:
                continue
            message = (f"check {check!r} refers to SOP item {sop_id!r}, "
                       f"which {catalog.path or 'the catalog'} does not define")
            if isinstance(ids, NodeList):
                raise field_error(path, ids, index, message)
            raise field_error(path, checks_to_items, check, message)


# ----------------------------------------------------------------------------- typed field access


class _Fields(Fields):
    """The catalog's reads: the shared typed reads, plus its document root, id lists and dates."""

    @classmethod
    def root(cls, path: str, data: Any) -> _Fields:
        """The document itself must be a mapping."""
        if not isinstance(data, dict):
            raise InputError("must be a mapping of schema, sop, roles, sections, items, "
                             f"not {describe(data)}", path=path, line=getattr(data, "line", None))
        return cls(path, data)

    def ids(self, key: str, pattern: re.Pattern[str], what: str, required: bool = True) -> tuple[str, ...]:
        """A list of distinct identifiers matching `pattern`."""
        values = self.texts(key, required)
        for index, value in enumerate(values):
            if not pattern.match(value):
                raise field_error(self.path, self.node[key], index, f"{value!r} is not a valid {what} id")
            if value in values[:index]:
                raise field_error(self.path, self.node[key], index, f"{what} {value!r} is listed twice")
        return values

    def date(self, key: str) -> _dt.date:
        """A date, written as YAML's unquoted ISO date or a quoted YYYY-MM-DD."""
        value = self.get(key, (_dt.date, str))
        if isinstance(value, _dt.datetime) or not isinstance(value, (_dt.date, str)):
            raise self.error(key, "must be a date (YYYY-MM-DD)")
        try:
            return value if isinstance(value, _dt.date) else _dt.date.fromisoformat(value)
        except ValueError:
            raise self.error(key, f"{value!r} is not a date (YYYY-MM-DD)") from None


# --------------------------------------------------------------------------------------- sections


def _load_header(sop: _Fields) -> SopHeader:
    """The `sop:` block: cover facts of the SOP."""
    sop.only("number", "title", "organisation", "parent_organisation", "dates", "approved_by",
             "legal_basis", "qualifications", "related", "equipment", "warning", "recording",
             "document_status", "notes")
    dates = sop.mapping("dates")
    dates.only("created", "revised", "effective")
    return SopHeader(
        number=sop.text("number"), title=sop.text("title"), organisation=sop.text("organisation"),
        parent_organisation=sop.text("parent_organisation", required=False),
        created=_load_date(dates, "created"), revised=_load_date(dates, "revised", required=False),
        effective=_load_date(dates, "effective"), approved_by=_load_signatory(sop.mapping("approved_by")),
        legal_basis=sop.texts("legal_basis"), qualifications=sop.texts("qualifications"),
        related=sop.texts("related"), equipment=sop.texts("equipment"),
        warning=sop.text("warning", required=False), recording=sop.text("recording", required=False),
        document_status=sop.text("document_status", required=False), notes=sop.texts("notes"))


def _load_date(dates: _Fields, key: str, required: bool = True) -> SopDate | None:
    """`{date: 2018-01-02, text: "02 Januari 2018"}`: the date and the SOP's words for it."""
    block = dates.mapping(key, required)
    if block is None:
        return None
    block.only("date", "text")
    return SopDate(block.date("date"), block.text("text"))


def _load_signatory(signer: _Fields) -> Signatory:
    """The approver; a NIP must be quoted, or YAML would read its 18 digits as a number."""
    signer.only("name", "position", "nip")
    nip = signer.text("nip", required=False)
    if nip is not None and not re.fullmatch(r"\d{18}", nip):
        raise signer.error("nip", "must be the 18 digits of a NIP")
    return Signatory(signer.text("name"), signer.text("position", required=False), nip)


def _load_roles(block: _Fields) -> dict[str, Role]:
    """`roles:`: role id -> its Indonesian and English names."""
    roles = {}
    for role_id in block.node:
        if not isinstance(role_id, str) or not ROLE_ID.match(role_id):
            raise block.error(role_id, f"{role_id!r} is not a valid role id (lowercase, digits, _)")
        names = block.mapping(role_id)
        names.only("name_id", "name_en")
        roles[role_id] = Role(role_id, names.text("name_id"), names.text("name_en"))
    return roles


def _load_sections(block: _Fields, roles: Mapping[str, Role]) -> dict[str, Section]:
    """`sections:`: the six tables, each with its heading and role columns."""
    sections = {}
    for letter in block.node:
        if letter not in SECTIONS:
            raise block.error(letter, f"{letter!r} is not a section; expected one of {', '.join(SECTIONS)}")
        table = block.mapping(letter)
        table.only("title_id", "title_en", "roles", "roles_marked")
        columns = _role_refs(table, roles)
        marked = table.get("roles_marked", bool, required=False)
        sections[letter] = Section(letter, table.text("title_id"), table.text("title_en"), columns,
                                   True if marked is None else marked)
    return sections


def _role_refs(fields: _Fields, roles: Mapping[str, Role]) -> tuple[str, ...]:
    """A `roles:` list whose every id is defined in the top-level `roles:`."""
    refs = fields.ids("roles", ROLE_ID, "role")
    for index, role_id in enumerate(refs):
        if role_id not in roles:
            raise field_error(fields.path, fields.node["roles"], index,
                              f"role {role_id!r} is not defined under roles:")
    return refs


# ------------------------------------------------------------------------------------------ items

_ITEM_FIELDS = ("id", "section", "title_id", "title_en", "roles", "requirement", "time", "output",
                "cadence", "evidence", "checks", "attest", "generated", "workflow", "note")


def _load_items(root: _Fields, roles: Mapping[str, Role], sections: Mapping[str, Section],
                known_checks: set[str] | None) -> tuple[SopItem, ...]:
    """`items:`: every SOP item, ids unique and in SOP order."""
    entries = root.list_of("items")
    if not entries:
        raise root.error("items", "must list the SOP's items")
    items: list[SopItem] = []
    first_line: dict[str, int | None] = {}
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise field_error(root.path, entries, index, f"must be a mapping, not {describe(entry)}")
        fields = _Fields(root.path, entry)
        item = _load_item(fields, roles, sections, known_checks)
        _check_place(fields, item, items, first_line)
        first_line[item.id] = item.line
        items.append(item)
    return tuple(items)


def _check_place(fields: _Fields, item: SopItem, before: list[SopItem],
                 first_line: Mapping[str, int | None]) -> None:
    """Ids are unique (naming both lines) and ascend, so the file's order is the SOP's order."""
    if item.id in first_line:
        raise fields.error("id", f"duplicate id {item.id!r} (first at line {first_line[item.id]})")
    if before and _order(item.id) < _order(before[-1].id):
        raise fields.error("id", f"{item.id} comes after {before[-1].id}; keep items in SOP order")


def _order(item_id: str) -> tuple[str, int]:
    letter, number = item_id.split(".")
    return letter, int(number)


def _load_item(fields: _Fields, roles: Mapping[str, Role], sections: Mapping[str, Section],
               known_checks: set[str] | None) -> SopItem:
    """One item: identity, the SOP's columns, then how it is evidenced."""
    fields.only(*_ITEM_FIELDS)
    item_id, section = _load_identity(fields, sections)
    item_roles = _role_refs(fields, roles)
    for index, role_id in enumerate(item_roles):
        if role_id not in sections[section].roles:
            raise field_error(fields.path, fields.node["roles"], index,
                              f"role {role_id!r} is not a column of section {section}'s table")
    evidence = _load_evidence(fields, item_id, known_checks)
    return SopItem(
        id=item_id, section=section, title_id=fields.text("title_id"), title_en=fields.text("title_en"),
        roles=item_roles, requirement=fields.text("requirement"), time=_load_time(fields.mapping("time")),
        output=fields.text("output"), cadence=fields.choice("cadence", CADENCES),
        note=fields.text("note", required=False), line=fields.node.line, **evidence)


def _load_identity(fields: _Fields, sections: Mapping[str, Section]) -> tuple[str, str]:
    """`id` like C.3, and `section` equal to its letter and defined under sections:."""
    item_id = fields.text("id")
    if not SOP_ID.match(item_id):
        raise fields.error("id", f"{item_id!r} is not an SOP id (a letter A-F, a dot, a digit 1-9: C.3)")
    section = fields.choice("section", SECTIONS)
    if section != item_id[0]:
        raise fields.error("section", f"is {section} but id {item_id} is in section {item_id[0]}")
    if section not in sections:
        raise fields.error("section", f"section {section} is not defined under sections:")
    return item_id, section


def _load_time(time: _Fields) -> TimeStandard:
    """The `time:` block; which numbers it needs depends on its kind."""
    kind = time.choice("kind", TIME_KINDS)
    text = time.text("text")
    if kind == "day":
        time.only("kind", "text", "day")
        return TimeStandard(kind, text, day=time.integer("day", minimum=1))
    if kind == "deadline":
        time.only("kind", "text", "day_of_month")
        return TimeStandard(kind, text, day_of_month=time.integer("day_of_month", minimum=1, maximum=31))
    return _load_duration(time, text)


def _load_duration(time: _Fields, text: str) -> TimeStandard:
    """A duration is `minutes: N` or a `min_minutes`/`max_minutes` range, never both."""
    time.only("kind", "text", "minutes", "min_minutes", "max_minutes")
    if "minutes" in time.node:
        for key in ("min_minutes", "max_minutes"):
            if key in time.node:
                raise time.error(key, "give either minutes or min_minutes/max_minutes, not both")
        minutes = time.integer("minutes", minimum=1)
        return TimeStandard("duration", text, min_minutes=minutes, max_minutes=minutes)
    if "min_minutes" not in time.node and "max_minutes" not in time.node:
        raise time.error("minutes", "is required for a duration (or min_minutes and max_minutes)")
    low = time.integer("min_minutes", minimum=1)
    high = time.integer("max_minutes", minimum=1)
    if high < low:
        raise time.error("max_minutes", f"must not be less than min_minutes ({low})")
    return TimeStandard("duration", text, min_minutes=low, max_minutes=high)


def _load_evidence(fields: _Fields, item_id: str, known_checks: set[str] | None) -> dict[str, Any]:
    """How the item is evidenced; the fields allowed depend on the evidence kind."""
    evidence = fields.choice("evidence", EVIDENCE_KINDS)
    has = {key for key in ("checks", "attest", "generated", "workflow") if key in fields.node}
    allowed = {"auto": {"checks", "attest", "generated"}, "workflow": {"workflow"}, "attest": set()}[evidence]
    extra = sorted(has - allowed)
    if extra:
        raise fields.error(extra[0], f"does not apply to evidence {evidence}")
    if evidence == "workflow":
        return {"evidence": evidence, "workflow": fields.choice("workflow", WORKFLOW_KINDS)}
    if evidence == "attest":
        return {"evidence": evidence}
    return {"evidence": evidence, "attest": fields.flag("attest"), "generated": fields.flag("generated"),
            "checks": _load_checks(fields, item_id, known_checks)}


def _load_checks(fields: _Fields, item_id: str, known_checks: set[str] | None) -> tuple[str, ...]:
    """An auto item is either generated (no checks) or evidenced by checks, each known when we know them."""
    generated = fields.flag("generated")
    checks = fields.ids("checks", CHECK_ID, "check", required=False)
    if generated and checks:
        raise fields.error("checks", "a generated item has no checks")
    if not generated and not checks:
        raise fields.error("checks", "is required for an auto item (or generated: true)")
    for index, check in enumerate(checks):
        if known_checks is not None and check not in known_checks:
            raise field_error(fields.path, fields.node["checks"], index,
                              f"unknown check {check!r} (item {item_id}): no check has that id")
    return checks
