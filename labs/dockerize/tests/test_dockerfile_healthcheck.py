"""Hidden tests of the dockerize lab, healthcheck step: the final image's HEALTHCHECK asks the
liveness endpoint with a program the image has, and can fail."""

# ruff: noqa: S101 (copied to .labforge/, outside the tests/ folder that allows assert)

import re

from labforge_dockerfile import Instruction, command_of, first_program, installs, read


def healthcheck() -> Instruction:
    checks = [i for i in read().image() if i.keyword == "HEALTHCHECK"]
    assert checks, (
        "the final image has no HEALTHCHECK (one in another stage, which the final stage is not "
        "built FROM, does not count)"
    )
    assert checks[-1].args.strip().upper() != "NONE", f"{checks[-1]}: it turns the check off"
    return checks[-1]


def test_it_asks_the_liveness_endpoint() -> None:
    check = healthcheck()
    _, text = command_of(check)
    assert "/ready" not in text, (
        f"{check}: /ready depends on the database; a health check that asks it marks every "
        "container unhealthy during a database hiccup. Ask /health"
    )
    assert re.search(r":8000/health\b", text), f"{check}: ask GET /health on port 8000"


def test_it_can_fail() -> None:
    check = healthcheck()
    _, text = command_of(check)
    swallowed = re.search(
        r"\|\|\s*(?:true|:|exit\s+0)(?!\w)|;\s*(?:true|exit\s+0)\b|\bexit\(0\)", text
    )
    if swallowed is None and not re.search(r"\bexit\(\s*[1-9]|\braise\b", text):
        # An exception caught and not turned into a failing exit status is a success.
        swallowed = re.search(r"\bexcept\b[^;]*", text)
    assert not swallowed, (
        f"{check}: `{swallowed.group(0) if swallowed else ''}` makes it succeed whatever the app "
        "answers; a health check that never fails never reports a sick container"
    )


def test_its_program_is_in_the_image() -> None:
    check = healthcheck()
    program = first_program(check)
    if program not in ("curl", "wget"):
        return
    assert any(installs(i, program) for i in read().image()), (
        f"{check}: the slim image has no {program}, so this check can only fail; use the "
        "image's Python (urllib.request) instead"
    )
