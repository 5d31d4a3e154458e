"""Hidden tests of the dockerize lab, non-root step: the final image runs as a user of its own,
who cannot change the app's files."""

# ruff: noqa: S101 (copied to .labforge/, outside the tests/ folder that allows assert)

import re

from labforge_dockerfile import read

ROOT = ("root", "0")
# Users every Debian image has; any other name must be created in the image.
BUILT_IN = ("nobody", "daemon", "www-data")


def final_user() -> tuple[str, int]:
    users = [i for i in read().image() if i.keyword == "USER"]
    assert users, (
        "the final image has no USER: the server runs as root (a USER in another stage, one the "
        "final stage is not built FROM, does not count)"
    )
    return users[-1].args.split(":")[0].strip(), users[-1].line


def test_the_final_image_runs_as_a_user_other_than_root() -> None:
    user, line = final_user()
    assert user not in ROOT, f"line {line}: the last USER of the final image is root"


def test_a_named_user_exists_in_the_image() -> None:
    user, line = final_user()
    if user.isdigit() or user.startswith("$") or user in BUILT_IN + ROOT:
        return
    created = [
        i
        for i in read().image()
        if i.keyword == "RUN"
        and re.search(r"\b(useradd|adduser)\b", i.args)
        and re.search(rf"(?<![\w-]){re.escape(user)}(?![\w-])", i.args)
    ]
    assert created, (
        f"line {line}: USER {user}, but no useradd/adduser in the final image creates {user}: "
        "the container would not start (unable to find user)"
    )


def test_root_keeps_the_files() -> None:
    for i in read().image():
        owner = re.search(r"--chown=(\S+)", i.args) if i.keyword in ("COPY", "ADD") else None
        if owner:
            assert owner.group(1).split(":")[0] in ROOT, (
                f"{i}: the files are given to {owner.group(1)}, so the server could rewrite its "
                "own code; leave them owned by root, as COPY does by default"
            )
        if i.keyword != "RUN":
            continue
        for target in re.findall(r"\bchown\s+(?:-\S+\s+)*(\S+)", i.args):
            assert target.split(":")[0] in ROOT, (
                f"{i}: chown gives files to {target}, so the server could rewrite them; leave "
                "them owned by root"
            )
        assert not re.search(
            r"\bchmod\s+(?:-\S+\s+)*(?:[0-7]?[0-7][0-7][2367]|\S*[ao]\+\w*w)", i.args
        ), (
            f"{i}: chmod makes files writable by everyone; the server must not be able to change "
            "its code"
        )
