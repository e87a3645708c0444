"""The layout's one rule: imports run one way. `todo_project` wires the apps;
`tasks` (the domain) builds on `api` (what every endpoint shares); `api` knows
neither, so the plumbing can be read, tested and reused on its own."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FORBIDDEN = {
    "api": {"tasks", "todo_project"},
    "tasks": {"todo_project"},
}


def imported_packages(path: Path) -> set[str]:
    packages: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            packages.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            packages.add(node.module.split(".")[0])
    return packages


def application_modules(app: str) -> list[Path]:
    """The app's code, not its tests: a test may drive the whole service."""
    return [path for path in sorted((ROOT / app).rglob("*.py")) if "tests" not in path.relative_to(ROOT).parts]


@pytest.mark.parametrize("app", sorted(FORBIDDEN))
def test_an_app_never_imports_the_packages_that_build_on_it(app: str) -> None:
    offenders = {
        str(path.relative_to(ROOT)): sorted(imported_packages(path) & FORBIDDEN[app])
        for path in application_modules(app)
        if imported_packages(path) & FORBIDDEN[app]
    }

    assert offenders == {}


def test_the_rule_sees_every_kind_of_import_back(tmp_path: Path) -> None:
    module = tmp_path / "module.py"
    module.write_text("from tasks.models import Task\nimport todo_project.settings\nfrom . import sibling\n")

    assert imported_packages(module) == {"tasks", "todo_project"}
    assert len(application_modules("api")) > 10


# --- Test code ----------------------------------------------------------------------

# What each kind of test code may not import: helpers shared by several test
# modules, or by the tests and the benchmark, live in testing/.
TEST_CODE_FORBIDDEN = {
    "api/tests": ("api.tests", "tasks.tests", "conftest", "e2e", "bench"),
    "tasks/tests": ("api.tests", "tasks.tests", "conftest", "e2e", "bench"),
    "e2e": ("api.tests", "tasks.tests", "conftest", "e2e.conftest", "bench"),
    "bench": ("api.tests", "tasks.tests", "conftest", "e2e"),
    "testing": ("api.tests", "tasks.tests", "conftest", "e2e", "bench"),
}


def imported_modules(path: Path) -> set[str]:
    modules: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules.add(node.module)
    return modules


# The one exception: the soak (bench/soak.py) runs the very deployment the
# scale-out tests run, nginx from the shipped configuration in front of two
# instances, through the same code, so a change to that deployment reaches both.
TEST_CODE_ALLOWED = {"bench/soak.py": {"e2e.balancer", "e2e.live"}}


@pytest.mark.parametrize("folder", sorted(TEST_CODE_FORBIDDEN))
def test_test_code_imports_shared_helpers_from_testing_only(folder: str) -> None:
    forbidden = TEST_CODE_FORBIDDEN[folder]
    offenders = {
        name: bad
        for path in sorted((ROOT / folder).rglob("*.py"))
        if "node_modules" not in path.parts
        if (name := str(path.relative_to(ROOT)))
        if (
            bad := sorted(
                m
                for m in imported_modules(path) - TEST_CODE_ALLOWED.get(name, set())
                if any(m == f or m.startswith(f"{f}.") for f in forbidden)
            )
        )
    }

    assert offenders == {}
