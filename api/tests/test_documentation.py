"""The guides stay true to the repository: every link resolves, every test a
guide cites as proof exists, and nothing points outside the repository."""

import ast
import re
import subprocess
from functools import cache
from pathlib import Path

import pytest

from testing.processes import REPO

GUIDES = sorted([*REPO.glob("*.md"), *REPO.glob("docs/**/*.md")])
# `tasks/tests/test_x.py::TestClass::test_name`, with or without the link around the path.
CITED_TEST = re.compile(r"((?:api|tasks|e2e|testing|bench)/[\w/]+\.py)`?\)?`?((?:::\w+)*)")
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


@cache
def names_defined_in(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    return {node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef | ast.ClassDef)}


def test_there_are_guides_to_check() -> None:
    assert {"README.md", "CHANGELOG.md", "api.md", "security.md"} <= {guide.name for guide in GUIDES}


@pytest.mark.parametrize("guide", GUIDES, ids=lambda guide: str(guide.relative_to(REPO)))
def test_every_relative_link_resolves(guide: Path) -> None:
    targets = [match.group(1) for match in LINK.finditer(guide.read_text())]
    broken = [target for target in targets if "://" not in target and not (guide.parent / target).exists()]

    assert broken == []


@pytest.mark.parametrize("guide", GUIDES, ids=lambda guide: str(guide.relative_to(REPO)))
def test_every_cited_test_exists(guide: Path) -> None:
    missing = []
    for match in CITED_TEST.finditer(guide.read_text()):
        path, names = REPO / match.group(1), [name for name in match.group(2).split("::") if name]
        if not path.exists():
            missing.append(match.group(1))
        elif set(names) - names_defined_in(path):
            missing.append(match.group(0))

    assert missing == []


def test_no_tracked_file_points_outside_the_repository() -> None:
    git_ls_files = ["git", "ls-files"]  # git from PATH, in the repository
    tracked = subprocess.run(git_ls_files, cwd=REPO, capture_output=True, text=True, check=True).stdout.split()  # noqa: S603
    outside = [
        name
        for name in tracked
        if (REPO / name).is_file() and re.search(rb"\.\./shared|shared/API\.md", (REPO / name).read_bytes())
    ]

    assert outside == []
