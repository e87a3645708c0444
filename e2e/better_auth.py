"""A real Better Auth instance (interop/better-auth/server.mjs under Node) on a
loopback port, and a person who signs up with it and collects its tokens."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import uuid
from dataclasses import dataclass

import requests

from e2e.live import ARTIFACTS
from testing.processes import REPO, free_port, stop_process, wait_until_answering

INTEROP_DIR = REPO / "interop" / "better-auth"
SESSION_DATA_COOKIE = "better-auth.session_data"


def interop_installed() -> bool:
    return shutil.which("node") is not None and (INTEROP_DIR / "node_modules" / "better-auth").is_dir()


def installed_version() -> str:
    return json.loads((INTEROP_DIR / "node_modules" / "better-auth" / "package.json").read_text())["version"]


class BetterAuthServer:
    """`node server.mjs`: memory adapter, email+password, jwt() plugin, cookie
    cache with strategy "jwt". `base_url` is the origin it signs tokens for
    (its own address unless `base_url` is given)."""

    def __init__(self, secret: str, *, name: str = "better-auth", base_url: str | None = None) -> None:
        self.port = free_port()
        self.address = f"http://127.0.0.1:{self.port}"
        self.base_url = base_url or self.address
        self.env = {
            **{key: value for key, value in os.environ.items() if not key.startswith("BETTER_AUTH_")},
            "PORT": str(self.port),
            "BETTER_AUTH_SECRET": secret,
            "BETTER_AUTH_URL": self.base_url,
        }
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        self.log_path = ARTIFACTS / f"{name}-{self.port}.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, *, timeout: float = 30) -> BetterAuthServer:
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                ["node", "server.mjs"], cwd=INTEROP_DIR, env=self.env, stdout=log, stderr=subprocess.STDOUT
            )
        try:
            wait_until_answering(
                self.process, f"{self.address}/api/auth/ok", name="Better Auth", log=self.log, timeout=timeout
            )
        except RuntimeError:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process, timeout=10)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def rotate_keys(self) -> None:
        """Expire the current signing keys (the test-only hook in server.mjs):
        the next token is signed with a new key; old keys stay published."""
        requests.post(f"{self.address}/__test__/rotate-keys", timeout=5).raise_for_status()

    def jwks(self) -> dict:
        return requests.get(f"{self.address}/api/auth/jwks", timeout=5).json()

    def sign_up(self, name: str) -> BetterAuthUser:
        session = requests.Session()
        email = f"{name.lower()}-{uuid.uuid4().hex[:8]}@example.com"
        response = session.post(
            f"{self.address}/api/auth/sign-up/email",
            json={"email": email, "password": f"correct-horse-{uuid.uuid4().hex}", "name": name},
            headers={"Origin": self.base_url},
            timeout=10,
        )
        response.raise_for_status()
        return BetterAuthUser(server=self, session=session, id=response.json()["user"]["id"])

    def __enter__(self) -> BetterAuthServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@dataclass
class BetterAuthUser:
    server: BetterAuthServer
    session: requests.Session
    id: str

    def jwt(self) -> str:
        """What `authClient.token()` returns: GET /api/auth/token."""
        response = self.session.get(f"{self.server.address}/api/auth/token", timeout=10)
        response.raise_for_status()
        return response.json()["token"]

    def session_data_cookie(self) -> str:
        """The cookie cache's JWT, as Better Auth sets it on sign-in and get-session."""
        response = self.session.get(f"{self.server.address}/api/auth/get-session", timeout=10)
        response.raise_for_status()
        value = self.session.cookies.get(SESSION_DATA_COOKIE)
        if not value:
            raise AssertionError(f"no {SESSION_DATA_COOKIE} cookie: {response.headers}")
        return value
