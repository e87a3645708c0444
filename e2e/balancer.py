"""nginx round robin in front of two gunicorn instances, configured by the
shipped deploy/nginx/todo-api.conf.

The shipped file is an http-context file (Debian includes conf.d/*.conf inside
`http {}`). Rendering it changes only what must differ on a test machine: the
two upstream ports, nginx's listen address and the access log's path; every
other directive runs exactly as shipped. The main configuration around it
holds what an operator's /etc/nginx/nginx.conf would: pid, error log, temp
paths, one worker process, all under a temporary prefix directory.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections import Counter
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import Any

from e2e.live import ARTIFACTS, LiveService
from testing.processes import REPO, free_port, stop_process, wait_until_answering

SHIPPED_CONF = REPO / "deploy" / "nginx" / "todo-api.conf"
# The lines of the shipped file a test rendering replaces; each must occur once.
SHIPPED_UPSTREAMS = ("server 127.0.0.1:8001 ", "server 127.0.0.1:8002 ")
SHIPPED_LISTEN = "listen 80;"
SHIPPED_ACCESS_LOG = "access_log /var/log/nginx/todo-api.access.log "


def find_nginx() -> str | None:
    """E2E_NGINX, else nginx on PATH, else Debian's /usr/sbin/nginx (not on
    an unprivileged user's PATH)."""
    configured = os.environ.get("E2E_NGINX")
    if configured:
        return configured if Path(configured).is_file() else None
    found = shutil.which("nginx")
    if found:
        return found
    return "/usr/sbin/nginx" if Path("/usr/sbin/nginx").is_file() else None


def replace_once(text: str, old: str, new: str) -> str:
    count = text.count(old)
    if count != 1:
        raise AssertionError(f"{SHIPPED_CONF} should contain {old!r} once, found {count}: update e2e/balancer.py")
    return text.replace(old, new)


def render_site(upstream_ports: Sequence[int], listen_port: int, access_log: Path) -> str:
    """The shipped file with test ports and paths."""
    text = SHIPPED_CONF.read_text()
    for shipped, port in zip(SHIPPED_UPSTREAMS, upstream_ports, strict=True):
        text = replace_once(text, shipped, f"server 127.0.0.1:{port} ")
    text = replace_once(text, SHIPPED_LISTEN, f"listen 127.0.0.1:{listen_port};")
    return replace_once(text, SHIPPED_ACCESS_LOG, f"access_log {access_log} ")


def main_conf(prefix: Path, site: Path) -> str:
    temp_paths = "\n".join(
        f"    {kind}_temp_path {prefix / kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return f"""\
worker_processes 1;
pid {prefix / "nginx.pid"};
error_log {prefix / "error.log"} notice;
events {{
    worker_connections 512;
}}
http {{
{temp_paths}
    include {site};
}}
"""


class Balancer:
    """nginx (master and one worker) in front of two LiveService instances,
    which it starts before itself and stops after itself."""

    def __init__(self, nginx: str, instances: Sequence[LiveService], *, name: str = "balancer") -> None:
        self.nginx = nginx
        self.instances = list(instances)
        self.name = name
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None
        self._tmp = tempfile.TemporaryDirectory(prefix="e2e-nginx-")
        self.prefix = Path(self._tmp.name)
        # As root, nginx's workers run as an unprivileged user: they must be
        # able to reach the temp directories nginx creates in here.
        self.prefix.chmod(0o711)
        self.access_log = self.prefix / "access.log"
        self.error_log = self.prefix / "error.log"

    def command(self) -> list[str]:
        return [self.nginx, "-p", str(self.prefix), "-c", str(self.prefix / "nginx.conf"), "-e", str(self.error_log)]

    def start(self, *, timeout: float = 30) -> Balancer:
        for instance in self.instances:
            if instance.process is None:
                instance.start()
        site = self.prefix / "todo-api.conf"
        site.write_text(render_site([instance.port for instance in self.instances], self.port, self.access_log))
        (self.prefix / "nginx.conf").write_text(main_conf(self.prefix, site))
        check = subprocess.run([*self.command(), "-t"], capture_output=True, text=True, check=False)
        if check.returncode != 0:
            raise RuntimeError(f"nginx -t refused the rendered configuration:\n{check.stderr}")
        self.process = subprocess.Popen(
            [*self.command(), "-g", "daemon off;"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        try:
            wait_until_answering(self.process, self.url("/health"), name="nginx", log=self.errors, timeout=timeout)
        except RuntimeError:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """nginx first (SIGQUIT: finish what is in flight), then the instances;
        the logs are kept in e2e/artifacts/."""
        if self.process is not None:
            stop_process(self.process, sig=signal.SIGQUIT, timeout=15)
        for instance in self.instances:
            instance.stop()
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        for log in (self.access_log, self.error_log):
            if log.exists():
                shutil.copy(log, ARTIFACTS / f"{self.name}-{self.port}-nginx-{log.name}")
        self._tmp.cleanup()

    def url(self, path: str) -> str:
        return self.base_url + path

    def errors(self) -> str:
        return self.error_log.read_text(errors="replace") if self.error_log.exists() else ""

    def entries(self) -> list[dict[str, Any]]:
        """The access log, one JSON object per request."""
        if not self.access_log.exists():
            return []
        return [json.loads(line) for line in self.access_log.read_text().splitlines() if line]

    def wait_for_entries(self, count: int, *, timeout: float = 10) -> list[dict[str, Any]]:
        """At least `count` entries: nginx logs a request after answering it,
        so the last lines may trail the client's view by a moment."""
        deadline = time.monotonic() + timeout
        while len(entries := self.entries()) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(entries) >= count, f"nginx logged {len(entries)} requests, expected at least {count}"
        return entries

    def entries_for(self, request_ids: Collection[str], *, timeout: float = 10) -> dict[str, dict[str, Any]]:
        """The entry of each request id."""
        deadline = time.monotonic() + timeout
        while True:
            found = {entry["request_id"]: entry for entry in self.entries() if entry["request_id"] in request_ids}
            if len(found) == len(request_ids) or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        assert set(found) == set(request_ids), f"not in nginx's access log: {set(request_ids) - set(found)}"
        return found

    def served_by(self, entry: dict[str, Any]) -> LiveService | None:
        """The instance that answered: the last upstream nginx tried
        (`$upstream_addr` lists every attempt), None when nginx answered itself."""
        if not entry["upstream"]:
            return None
        port = int(entry["upstream"].split(", ")[-1].rsplit(":", 1)[1])
        return next(instance for instance in self.instances if instance.port == port)

    def split(self, entries: Sequence[dict[str, Any]]) -> Counter[int]:
        """How many of `entries` each instance answered, by port."""
        return Counter(instance.port for entry in entries if (instance := self.served_by(entry)) is not None)

    def __enter__(self) -> Balancer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
