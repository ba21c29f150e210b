"""The IT service-request register (SOP/AS/32 section B: B.1-B.6). See docs/service-requests.md.

Named `requests_register` so it never shadows the `requests` HTTP library.
"""

from .calendar import WorkCalendar, load_calendar, parse_at
from .register import ACTIONS, ITEMS, KIND, Register, Request, days_from_catalog, summarise

__all__ = ["ACTIONS", "ITEMS", "KIND", "Register", "Request", "WorkCalendar", "days_from_catalog", "load_calendar",
           "parse_at", "summarise"]
