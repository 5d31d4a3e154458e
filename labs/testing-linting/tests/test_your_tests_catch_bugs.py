"""Hidden test of the testing-linting lab: the project's tests fail when the stock report breaks.

Coverage says which lines the tests ran, not whether they checked what those lines did. For each
function of inventory.py: run the project's tests with that function broken (by the pytest plugin
labforge_mutants.py, beside this file); at least one test must fail. The runs start together (one
process each) and each test waits for its own.
"""

# ruff: noqa: S101, S603 (copied to .labforge/; runs pytest on the learner's own tests)

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
# This copy runs from a folder under the project's .labforge/.
PROJECT = next((p.parent for p in HERE.parents if p.name == ".labforge"), Path.cwd())
BUGS = {
    "reorder_quantity": "reorder_quantity ordering the exact shortfall instead of whole packs",
    "is_low": "is_low answering the opposite of what it should",
    "parse_names": "parse_names finding no names in any text",
    "stock_report": "stock_report reporting on no items, whatever it is given",
}


def start_tests_with(bug: str) -> subprocess.Popen[str]:
    """Starts the project's tests with `bug` in inventory.py."""
    env = {
        **os.environ,
        "PYTHONPATH": str(HERE),
        "PYTHONDONTWRITEBYTECODE": "1",
        "LABFORGE_MUTANT": bug,
    }
    command = [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider"]
    return subprocess.Popen(
        [*command, "-p", "labforge_mutants", "tests"],
        cwd=PROJECT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


@pytest.fixture(scope="module")
def runs() -> Iterator[dict[str, subprocess.Popen[str]]]:
    """Every bug's run, started at once; none outlives the tests."""
    started = {bug: start_tests_with(bug) for bug in BUGS}
    yield started
    for process in started.values():
        process.kill()
        process.wait()


@pytest.mark.parametrize("bug", list(BUGS))
def test_a_test_fails_when_the_function_breaks(
    bug: str, runs: dict[str, subprocess.Popen[str]]
) -> None:
    output, _ = runs[bug].communicate(timeout=150)
    tail = output[-1500:]
    returncode = runs[bug].returncode
    assert returncode != 0, (
        f"with {BUGS[bug]}, every test in tests/ still passes: coverage counts the lines a test "
        f"runs, not what it checks; assert on what {bug} returns"
    )
    assert returncode == 1, f"pytest could not run tests/ with the broken {bug}:\n{tail}"
