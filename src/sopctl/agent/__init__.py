"""The host agent: a small stdlib-only program on each host, and its control-side client."""
