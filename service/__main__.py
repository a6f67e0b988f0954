"""`python -m service [--host H] [--port P] [--workers N]`: run the HTTP service (settings from MATCHER_*)."""

from __future__ import annotations

import argparse

from .app import serve


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m service", description="Run the regio-matcher HTTP service.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    serve(host=args.host, port=args.port, workers=args.workers)


if __name__ == "__main__":
    main()
