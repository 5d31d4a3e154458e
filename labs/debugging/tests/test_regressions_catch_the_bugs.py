"""Hidden test of the debugging lab: tests/test_regressions.py fails when a bug comes back.

For each bug: copy the project's source, put one module back as it shipped (from buggy/), and run
the learner's regression tests against that copy: they must fail. The runs start together (one
process each) and each test waits for its own, so the check takes as long as the slower run.
"""

# ruff: noqa: S101, S603 (copied to .labforge/; runs pytest on the learner's own tests)

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import {{ project.package }} as package

PACKAGE = Path(package.__file__).resolve().parent
PROJECT = PACKAGE.parents[1]
BUGGY = Path(__file__).resolve().parent / "buggy"
REGRESSIONS = PROJECT / "tests" / "test_regressions.py"
BUGS = {
    "memory.py": "the crash of GET /items?search=... on items without a description",
    "api/items.py": "the 200 OK for a withdrawal larger than the stock",
}


def start_regressions_with(module: str, root: Path) -> subprocess.Popen[str]:
    """Starts the learner's regression tests against the source with `module` as it shipped."""
    src = root / "src"
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
    return subprocess.Popen(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(REGRESSIONS)],
        cwd=PROJECT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, subprocess.Popen[str]]]:
    """Every bug's run, started at once; none outlives the tests."""
    if not REGRESSIONS.exists():
        yield {}
        return
    started = {
        module: start_regressions_with(module, tmp_path_factory.mktemp("bug")) for module in BUGS
    }
    yield started
    for process in started.values():
        process.kill()
        process.wait()


@pytest.mark.parametrize(
    "module", list(BUGS), ids=["the search crash back in memory.py", "the withdraw 200 back in api/items.py"]
)
def test_the_regression_tests_catch_the_bug(
    module: str, runs: dict[str, subprocess.Popen[str]]
) -> None:
    assert REGRESSIONS.exists(), "write your regression tests in tests/test_regressions.py"
    output, _ = runs[module].communicate(timeout=120)
    tail = output[-1500:]
    returncode = runs[module].returncode
    assert returncode != 0, (
        f"with {BUGS[module]} put back in src/{PACKAGE.name}/{module}, tests/test_regressions.py "
        "still passes: it needs a test that fails on that bug"
    )
    assert returncode == 1, f"pytest could not run tests/test_regressions.py:\n{tail}"
