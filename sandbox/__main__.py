"""Start the API simulators.

python -m sandbox                          both: Fortnox on 8201, HubSpot on 8202
python -m sandbox fortnox --port 8201      only Fortnox
python -m sandbox hubspot --port 8202      only HubSpot
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import signal
import sys
import threading

from sandbox.core.server import build_server

DEFAULT_HOST = "127.0.0.1"
DEFAULT_FORTNOX_PORT = 8201
DEFAULT_HUBSPOT_PORT = 8202


def _fortnox_app(state_file: str | None):
    from sandbox.fortnox.app import create_app

    return create_app(state_file=state_file)


def _hubspot_app(state_file: str | None):
    from sandbox.hubspot.app import create_app

    return create_app(state_file=state_file)


def _state_path(base: str | None, name: str, both: bool) -> str | None:
    """One --state FILE for both simulators becomes FILE.fortnox.json and FILE.hubspot.json."""
    if not base:
        return None
    if not both:
        return base
    stem = base[:-5] if base.endswith(".json") else base
    return f"{stem}.{name}.json"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m sandbox",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("which", nargs="?", choices=["both", "fortnox", "hubspot"], default="both")
    parser.add_argument("--host", default=DEFAULT_HOST)
    parser.add_argument("--port", type=int, help="port, when starting one simulator")
    parser.add_argument("--fortnox-port", type=int, default=DEFAULT_FORTNOX_PORT)
    parser.add_argument("--hubspot-port", type=int, default=DEFAULT_HUBSPOT_PORT)
    parser.add_argument("--state", help="keep state in this JSON file across restarts")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")

    both = args.which == "both"
    servers = []
    if args.which in ("both", "fortnox"):
        port = args.port if (args.port and not both) else args.fortnox_port
        app = _fortnox_app(_state_path(args.state, "fortnox", both))
        servers.append(("fortnox", app, build_server(app, args.host, port)))
    if args.which in ("both", "hubspot"):
        port = args.port if (args.port and not both) else args.hubspot_port
        app = _hubspot_app(_state_path(args.state, "hubspot", both))
        servers.append(("hubspot", app, build_server(app, args.host, port)))

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    threads = []
    for name, _app, server in servers:
        print(f"sandbox {name} listening on http://{args.host}:{server.port}", flush=True)
        thread = threading.Thread(target=server.serve_forever, name=name, daemon=True)
        thread.start()
        threads.append(thread)
    with contextlib.suppress(KeyboardInterrupt):
        stop.wait()
    for _name, app, server in servers:
        server.shutdown()
        close = getattr(app, "close", None)
        if close:  # lets an app save its state file and stop its delivery threads
            close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
