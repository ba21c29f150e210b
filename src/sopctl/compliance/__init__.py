"""Compliance with SOP/AS/32: which SOP items exist, what evidences each, and how they stand.

`catalog` is the root of the feature: it loads `checks/sop.yml`, the SOP's header and its 40 items,
and every other part (checks, workflows, attestations, the report) refers to items by their ids.
"""

from sopctl.compliance.catalog import (
    Catalog,
    Role,
    Section,
    Signatory,
    SopDate,
    SopHeader,
    SopItem,
    TimeStandard,
    load_catalog,
    validate_check_refs,
)

__all__ = [
    "Catalog",
    "Role",
    "Section",
    "Signatory",
    "SopDate",
    "SopHeader",
    "SopItem",
    "TimeStandard",
    "load_catalog",
    "validate_check_refs",
]
