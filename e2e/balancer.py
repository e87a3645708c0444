"""nginx in front of two gunicorn instances, configured by the shipped
deploy/nginx/todo-api.conf.

The shipped file is an http-context file (Debian includes conf.d/*.conf inside
`http {}`). Rendering it changes only what must differ on a test machine: the
two upstream ports, the listen addresses (loopback, free ports), the server
name (localhost, which the instances' default DJANGO_ALLOWED_HOSTS accepts),
the certificate paths (a self-signed certificate made for the run) and the
access log's path; every other directive runs exactly as shipped. The main
configuration around it holds what an operator's /etc/nginx/nginx.conf would:
pid, error log, temp paths, one worker process, all under a temporary prefix
directory, and whatever else a test puts in `http {}` (`http_directives`),
such as the gzip settings an operator's nginx.conf may hold.
"""

from __future__ import annotations

import datetime
import ipaddress
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

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from e2e.live import ARTIFACTS, LiveService
from testing.processes import REPO, free_port, stop_process, wait_until_answering

SHIPPED_CONF = REPO / "deploy" / "nginx" / "todo-api.conf"
# What the shipped file says that a test rendering replaces, and how many
# times each occurs in it.
SHIPPED_UPSTREAMS = ("server 127.0.0.1:8000 ", "server 127.0.0.1:8001 ")
SHIPPED_SERVER_NAME = "server_name api.example.com;"
SHIPPED_CERTIFICATE = "ssl_certificate /etc/letsencrypt/live/api.example.com/fullchain.pem;"
SHIPPED_CERTIFICATE_KEY = "ssl_certificate_key /etc/letsencrypt/live/api.example.com/privkey.pem;"
SHIPPED_ACCESS_LOG = "access_log /var/log/nginx/todo-api.access.log "
# The name the tests reach the API by; the rendered file serves nothing else.
SERVER_NAME = "localhost"
# What the shipped file asks of the instances behind it (its header comment):
# HTTPS at the edge, and nginx's X-Forwarded-Proto believed.
INSTANCE_ENV = {"DJANGO_SECURE_SSL": "true", "DJANGO_TRUST_X_FORWARDED_PROTO": "true"}


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


def replace(text: str, old: str, new: str, *, times: int = 1) -> str:
    count = text.count(old)
    if count != times:
        raise AssertionError(
            f"{SHIPPED_CONF} should contain {old!r} {times} time(s), found {count}: update e2e/balancer.py"
        )
    return text.replace(old, new)


def render_site(
    upstream_ports: Sequence[int], http_port: int, https_port: int, certificate: Path, key: Path, access_log: Path
) -> str:
    """The shipped file with test ports, name and paths."""
    text = SHIPPED_CONF.read_text()
    for shipped, port in zip(SHIPPED_UPSTREAMS, upstream_ports, strict=True):
        text = replace(text, shipped, f"server 127.0.0.1:{port} ")
    text = replace(text, "listen 80 default_server;", f"listen 127.0.0.1:{http_port} default_server;")
    text = replace(text, "listen 443 ssl default_server;", f"listen 127.0.0.1:{https_port} ssl default_server;")
    text = replace(text, "listen 80;", f"listen 127.0.0.1:{http_port};")
    text = replace(text, "listen 443 ssl;", f"listen 127.0.0.1:{https_port} ssl;")
    text = replace(text, SHIPPED_SERVER_NAME, f"server_name {SERVER_NAME};", times=2)
    text = replace(text, SHIPPED_CERTIFICATE, f"ssl_certificate {certificate};")
    text = replace(text, SHIPPED_CERTIFICATE_KEY, f"ssl_certificate_key {key};")
    return replace(text, SHIPPED_ACCESS_LOG, f"access_log {access_log} ", times=2)


def make_self_signed_certificate(directory: Path, name: str) -> tuple[Path, Path]:
    """A certificate for `name` (and 127.0.0.1), valid for a day, and its key:
    the files nginx serves, and the one clients trust (`verify=`)."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName(name), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    certificate_path, key_path = directory / "certificate.pem", directory / "key.pem"
    certificate_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    key_path.chmod(0o600)
    return certificate_path, key_path


def main_conf(prefix: Path, site: Path, http_directives: Sequence[str] = ()) -> str:
    temp_paths = "\n".join(
        f"    {kind}_temp_path {prefix / kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    extra = "".join(f"    {directive}\n" for directive in http_directives)
    return f"""\
worker_processes 1;
pid {prefix / "nginx.pid"};
error_log {prefix / "error.log"} notice;
events {{
    worker_connections 512;
}}
http {{
{temp_paths}
{extra}    include {site};
}}
"""


class Balancer:
    """nginx (master and one worker) in front of two LiveService instances,
    which it starts before itself and stops after itself. Tests reach the API
    over HTTPS at `base_url` (https://localhost:PORT), trusting the run's own
    certificate (`verify`); `http_port` is the plain HTTP listener."""

    def __init__(
        self,
        nginx: str,
        instances: Sequence[LiveService],
        *,
        name: str = "balancer",
        http_directives: Sequence[str] = (),
    ) -> None:
        self.nginx = nginx
        self.instances = list(instances)
        self.name = name
        self.http_directives = list(http_directives)
        self.port = free_port()
        self.http_port = free_port()
        self.base_url = f"https://{SERVER_NAME}:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None
        self._tmp = tempfile.TemporaryDirectory(prefix="e2e-nginx-")
        self.prefix = Path(self._tmp.name)
        # As root, nginx's workers run as an unprivileged user: they must be
        # able to reach the temp directories nginx creates in here.
        self.prefix.chmod(0o711)
        self.access_log = self.prefix / "access.log"
        self.error_log = self.prefix / "error.log"
        self.certificate, self.certificate_key = make_self_signed_certificate(self.prefix, SERVER_NAME)
        self.verify: bool | str = str(self.certificate)

    def command(self) -> list[str]:
        return [self.nginx, "-p", str(self.prefix), "-c", str(self.prefix / "nginx.conf"), "-e", str(self.error_log)]

    def start(self, *, timeout: float = 30) -> Balancer:
        for instance in self.instances:
            if instance.process is None:
                instance.start()
        site = self.prefix / "todo-api.conf"
        site.write_text(
            render_site(
                [instance.port for instance in self.instances],
                self.http_port,
                self.port,
                self.certificate,
                self.certificate_key,
                self.access_log,
            )
        )
        (self.prefix / "nginx.conf").write_text(main_conf(self.prefix, site, self.http_directives))
        check = subprocess.run([*self.command(), "-t"], capture_output=True, text=True, check=False)
        if check.returncode != 0:
            raise RuntimeError(f"nginx -t refused the rendered configuration:\n{check.stderr}")
        self.process = subprocess.Popen(
            [*self.command(), "-g", "daemon off;"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        try:
            wait_until_answering(
                self.process, self.url("/health"), name="nginx", log=self.errors, timeout=timeout, verify=self.verify
            )
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
