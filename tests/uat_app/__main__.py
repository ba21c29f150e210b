"""`python -m tests.uat_app --cert C --key K [--slow-ms N]`: serve the test application until killed."""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path

from tests.uat_app.app import UatApp


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.uat_app")
    parser.add_argument("--cert", type=Path)
    parser.add_argument("--key", type=Path)
    parser.add_argument("--version", default="1.0.0")
    parser.add_argument("--slow-ms", type=int, default=1500)
    args = parser.parse_args()
    app = UatApp(args.cert, args.key, version=args.version, slow_ms=args.slow_ms).start()
    print(f"PORT {app.port}", flush=True)
    signal.signal(signal.SIGTERM, lambda *_: (app.stop(), sys.exit(0)))
    try:
        signal.pause()
    except KeyboardInterrupt:
        app.stop()


if __name__ == "__main__":
    main()
