"""The built-in lab of real SSH hosts on loopback (see core.py for how each host is isolated)."""
