"""deploy/nginx.conf run for real in front of `outages serve`, for the tests that need the shipped front:
the nginx binary (Debian's, `make tools`), free ports, and the shipped server block with a test's ports and
folders inside a minimal main configuration. Everything listens on 127.0.0.1 only."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

CONF = Path(__file__).resolve().parent.parent / "deploy" / "nginx.conf"


def nginx_binary() -> str:
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail("nginx is missing under CI: run `make tools` (.ci/tools)")
        pytest.skip("nginx is not installed: `make tools`")
    return found


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_port(port: int, process: subprocess.Popen, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert process.poll() is None, "exited"
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"nothing listens on {port}")


def main_config(tmp: Path, nginx_port: int, app_port: int, site: Path, changes: dict[str, str] | None = None) -> Path:
    """deploy/nginx.conf with this test's ports and folders (its cache in `tmp`/cache), inside a minimal main
    configuration. `changes`: further text of the shipped file replaced, each found exactly once."""
    server = (CONF.read_text("utf-8").replace("listen 80;", f"listen 127.0.0.1:{nginx_port};")
              .replace("server 127.0.0.1:8000;", f"server 127.0.0.1:{app_port};")
              .replace("root /srv/outages/site;", f"root {site};")
              .replace("proxy_cache_path /var/cache/nginx/outages ", f"proxy_cache_path {tmp / 'cache'} "))
    assert str(site) in server and str(app_port) in server and str(tmp / "cache") in server
    for old, new in (changes or {}).items():
        assert server.count(old) == 1, old
        server = server.replace(old, new)
    (tmp / "outages.conf").write_text(server, "utf-8")
    temp = "".join(f"{name}_temp_path {tmp / name};\n" for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    main = tmp / "nginx.conf"
    main.write_text(
        # As root (CI) the workers would run as nobody, who cannot read pytest's private folders.
        ("user root;\n" if os.geteuid() == 0 else "")
        + f"worker_processes 1;\npid {tmp / 'nginx.pid'};\nerror_log {tmp / 'error.log'} warn;\n"
        + "events { worker_connections 1024; }\n"
        + f"http {{\ninclude /etc/nginx/mime.types;\naccess_log off;\n{temp}include {tmp / 'outages.conf'};\n}}\n",
        "utf-8")
    return main


def start_nginx(tmp: Path, nginx_port: int, app_port: int, site: Path,
                changes: dict[str, str] | None = None) -> subprocess.Popen:
    (tmp / "nginx").mkdir(exist_ok=True)
    conf = main_config(tmp / "nginx", nginx_port, app_port, site, changes)
    return subprocess.Popen([nginx_binary(), "-e", str(tmp / "nginx" / "error.log"), "-c", str(conf),
                             "-g", "daemon off;"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
