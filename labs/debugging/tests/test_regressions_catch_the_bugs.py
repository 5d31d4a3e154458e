"""Hidden test of the debugging lab: tests/test_regressions.py fails when a bug comes back.

Each test copies the project's source, puts one module back as it shipped (from buggy/), and runs
the learner's regression tests against that copy: they must fail.
"""

# ruff: noqa: S101, S603 (copied to .labforge/; runs pytest on the learner's own tests)

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import {{ project.package }} as package

PACKAGE = Path(package.__file__).resolve().parent
PROJECT = PACKAGE.parents[1]
BUGGY = Path(__file__).resolve().parent / "buggy"
REGRESSIONS = PROJECT / "tests" / "test_regressions.py"


def run_regressions_with(module: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """The learner's regression tests, against the source with `module` as it shipped."""
    src = tmp_path / "src"
    shutil.copytree(PACKAGE.parent, src, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copyfile(BUGGY / Path(module).name, src / PACKAGE.name / module)
    env = {**os.environ, "PYTHONPATH": str(src), "PYTHONDONTWRITEBYTECODE": "1"}
    where = subprocess.run(
        [sys.executable, "-c", f"import {PACKAGE.name}; print({PACKAGE.name}.__file__)"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert where.stdout.strip().startswith(str(src)), "the copy of the source is not the one used"
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(REGRESSIONS)],
        cwd=PROJECT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("module", "bug"),
    [
        ("memory.py", "the crash of GET /items?search=... on items without a description"),
        ("api/items.py", "the 200 OK for a withdrawal larger than the stock"),
    ],
    ids=["the search crash back in memory.py", "the withdraw 200 back in api/items.py"],
)
def test_the_regression_tests_catch_the_bug(module: str, bug: str, tmp_path: Path) -> None:
    assert REGRESSIONS.exists(), "write your regression tests in tests/test_regressions.py"
    result = run_regressions_with(module, tmp_path)
    tail = (result.stdout + result.stderr)[-1500:]
    assert result.returncode != 0, (
        f"with {bug} put back in src/{PACKAGE.name}/{module}, tests/test_regressions.py still "
        "passes: it needs a test that fails on that bug"
    )
    assert result.returncode == 1, f"pytest could not run tests/test_regressions.py:\n{tail}"
