"""The TypeScript client project in clients/typescript/ (`make typescript-client`
installs its pinned tools): types generated from a live service's /openapi.json
with openapi-typescript, checked with tsc, and src/flow.ts run with node."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from testing.processes import REPO

CLIENT_DIR = REPO / "clients" / "typescript"
GENERATED = CLIENT_DIR / "src" / "generated" / "openapi.ts"
FLOW_JS = CLIENT_DIR / "dist" / "flow.js"
PACKAGES = ("openapi-fetch", "openapi-typescript", "typescript")


def client_installed() -> bool:
    return shutil.which("node") is not None and all(
        (CLIENT_DIR / "node_modules" / name / "package.json").is_file() for name in PACKAGES
    )


def pinned_versions() -> dict[str, str]:
    """The exact versions package.json asks for."""
    manifest = json.loads((CLIENT_DIR / "package.json").read_text())
    return {**manifest["dependencies"], **manifest["devDependencies"]}


def installed_version(package: str) -> str:
    return json.loads((CLIENT_DIR / "node_modules" / package / "package.json").read_text())["version"]


def _run(args: Sequence[str], *, env: Mapping[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        list(args),
        cwd=CLIENT_DIR,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _bin(name: str) -> str:
    return str(CLIENT_DIR / "node_modules" / ".bin" / name)


def generate_types(schema_url: str) -> subprocess.CompletedProcess[str]:
    """openapi-typescript over the schema at `schema_url`, into src/generated/:
    a .ts module rather than a .d.ts, so that tsc checks it too (skipLibCheck
    skips the packages' declarations). `--default-non-nullable false`: a
    request body's field with a default stays optional (openapi-typescript's
    default makes it required)."""
    GENERATED.unlink(missing_ok=True)
    return _run([_bin("openapi-typescript"), schema_url, "--default-non-nullable", "false", "--output", str(GENERATED)])


def typecheck() -> subprocess.CompletedProcess[str]:
    """tsc over src/ (the flow and the generated types), strict, nothing emitted."""
    return _run([_bin("tsc"), "--project", ".", "--noEmit", "--strict"])


def typecheck_module(source: str) -> subprocess.CompletedProcess[str]:
    """tsc, with the project's settings, over one more module `source`, which
    may import `../src/...` (the flow's helpers and the generated types)."""
    with tempfile.TemporaryDirectory(dir=CLIENT_DIR, prefix=".tsc-") as folder:
        Path(folder, "module.ts").write_text(source)
        config = {
            "extends": "../tsconfig.json",
            "compilerOptions": {"rootDir": "..", "noEmit": True},
            "include": ["module.ts"],
        }
        Path(folder, "tsconfig.json").write_text(json.dumps(config))
        return _run([_bin("tsc"), "--project", folder])


def build() -> subprocess.CompletedProcess[str]:
    """tsc into dist/ (nothing is emitted when the types do not check)."""
    shutil.rmtree(FLOW_JS.parent, ignore_errors=True)
    return _run([_bin("tsc"), "--project", "."])


def run_flow(base_url: str, token: str, *steps: str) -> subprocess.CompletedProcess[str]:
    """node dist/flow.js against the service at `base_url`, as the user of `token`."""
    return _run(["node", str(FLOW_JS), *steps], env={"TODO_API_URL": base_url, "TODO_API_TOKEN": token})
