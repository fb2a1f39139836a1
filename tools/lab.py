"""`make lab`: start JupyterLab on the course wherever a learner types it.

The server's root is the repository (as on Binder), so the notebooks' links to
``../exercises/`` and ``../docs/`` work; the URL opens ``notebooks/00_start_here.ipynb``.

* as root (containers, cloud notebooks, CI-like machines) JupyterLab refuses to start unless
  given ``--allow-root``: pass it, and say so in one line;
* with no display (no ``DISPLAY``/``WAYLAND_DISPLAY`` on Linux, an SSH session) do not try to
  open a browser (``--no-browser``);
* print the URL to open (notebook 00, with the token), on a free port from 8888 up.

``LAB_PORT`` chooses the port, ``LAB_IP`` the address to listen on (default localhost; 0.0.0.0
to reach a container from its host).
"""

from __future__ import annotations

import os
import secrets
import socket
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIRST = "notebooks/00_start_here.ipynb"


def free_port(start: int = 8888, tries: int = 100) -> int:
    for port in range(start, start + tries):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise SystemExit(f"make lab: no free port between {start} and {start + tries - 1}; "
                     "set LAB_PORT")


def has_display(env: dict, platform: str = sys.platform) -> bool:
    if platform in ("darwin", "win32") or env.get("BROWSER"):
        return True
    return bool(env.get("DISPLAY") or env.get("WAYLAND_DISPLAY"))


def is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def command(env: dict, port: int, token: str, root: bool, display: bool) -> list[str]:
    args = [sys.executable, "-m", "jupyter", "lab", f"--ServerApp.root_dir={ROOT}",
            f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
            f"--ServerApp.ip={env.get('LAB_IP', 'localhost')}",
            f"--IdentityProvider.token={token}"]
    if root:
        args.append("--allow-root")
    if not display:
        args.append("--no-browser")
    return args


def main() -> int:
    env = dict(os.environ)
    port = int(env["LAB_PORT"]) if env.get("LAB_PORT") else free_port()
    token = secrets.token_hex(24)
    root, display = is_root(), has_display(env)
    if root:
        print("make lab: you are root (a container or cloud machine?), so JupyterLab starts "
              "with --allow-root.")
    if not display:
        print("make lab: no display here, so no browser is opened: open the URL below.")
    host = "localhost" if env.get("LAB_IP", "localhost") in ("localhost", "0.0.0.0", "") \
        else env["LAB_IP"]
    print(f"make lab: open http://{host}:{port}/lab/tree/{FIRST}?token={token}  "
          "(Ctrl+C stops the server)", flush=True)
    args = command(env, port, token, root, display)
    os.execv(args[0], args)
    return 0  # not reached


if __name__ == "__main__":
    sys.exit(main())
