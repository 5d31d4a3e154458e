"""Hidden tests of the dockerize lab, multi-stage step: the final image carries no build tools.

They read the Dockerfile as Docker would build it: the final image is the last stage plus every
stage it is built FROM, and it receives what it copies from other stages.
"""

# ruff: noqa: S101 (copied to .labforge/, outside the tests/ folder that allows assert)

import re

from labforge_dockerfile import installs, read

COMPILERS = ("gcc", "g++", "clang", "build-essential", "libc6-dev", "make", "cmake")


def test_the_final_image_installs_no_compiler() -> None:
    dockerfile = read()
    for i in dockerfile.image():
        for package in COMPILERS:
            assert not installs(i, package), (
                f"line {i.line}: the final image installs {package}; a compiler "
                "belongs in the build stage, or nowhere; the final stage, and any stage it is "
                "built FROM, must not install one"
            )


def test_no_dev_tools_reach_the_final_image() -> None:
    dockerfile = read()
    for stage in dockerfile.contributing():
        for i in stage.instructions:
            assert not (i.keyword == "RUN" and "[dev]" in i.args), (
                f"{i}: the [dev] extras (pytest, ruff...) are installed in a stage whose files "
                "reach the final image; install the runtime dependencies only"
            )


def test_the_ca_bundle_stays_in_the_build_stage() -> None:
    dockerfile = read()
    for i in dockerfile.image():
        assert not re.search(r"ca-certificates/|ca-bundle|PIP_CERT", i.args), (
            f"{i}: the CA bundle made for pip reaches the final image; it belongs to the build "
            "stage only (a final stage built FROM the build stage inherits all of it)"
        )


def test_the_final_image_is_based_on_the_python_image_argument() -> None:
    dockerfile = read()
    base = dockerfile.lineage()[0].base
    assert re.fullmatch(r"\$PYTHON_IMAGE|\$\{PYTHON_IMAGE(?::?-[^}]*)?\}", base), (
        f"the final image is based on {base!r}: base it on " + "${PYTHON_IMAGE}, like the build "
        "stage, so the copied virtual environment finds the same Python (labforge passes the "
        "base image through that build argument)"
    )
