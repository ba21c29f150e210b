"""The small real web application the UAT tests start on loopback (see app.py)."""

from tests.uat_app.app import USERS, UatApp
from tests.uat_app.certs import make_certificate

__all__ = ["USERS", "UatApp", "make_certificate"]
