"""The project's Dockerfile, read as Docker reads it, for the dockerize lab's hidden tests.

Continued lines are joined and comment lines dropped; each instruction keeps the line it starts
on. Stages start at each FROM. What ends up in the image is the last stage and the stages it is
built FROM (`FROM build AS runtime` inherits everything `build` did): its *lineage*. What it
receives from other stages (`COPY --from=...`) comes from their lineage in turn.
"""

# ruff: noqa: S101 (copied to .labforge/; its asserts are the hidden tests' messages)

import json
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

# The project: this module's copy runs from a folder under the project's .labforge/.
HERE = Path(__file__).resolve().parent
PROJECT = next((p.parent for p in HERE.parents if p.name == ".labforge"), Path.cwd())


@dataclass
class Instruction:
    line: int
    keyword: str
    args: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.keyword} {self.args}"


@dataclass
class Stage:
    index: int
    base: str
    name: str | None
    instructions: list[Instruction] = field(default_factory=list)


@dataclass
class Dockerfile:
    stages: list[Stage]

    def stage(self, ref: str) -> Stage | None:
        """The earlier stage `ref` names (by its name or its number), if any."""
        for stage in self.stages:
            if (stage.name and stage.name == ref.lower()) or str(stage.index) == ref:
                return stage
        return None

    def lineage(self, stage: Stage | None = None) -> list[Stage]:
        """`stage` (the last one by default) and the stages it is built FROM, the oldest first."""
        stage = stage or self.stages[-1]
        chain = [stage]
        while (parent := self.stage(chain[0].base)) is not None and parent.index < chain[0].index:
            chain.insert(0, parent)
        return chain

    def image(self) -> list[Instruction]:
        """Every instruction that builds the final image, in order."""
        return [i for stage in self.lineage() for i in stage.instructions]

    def contributing(self) -> list[Stage]:
        """The stages whose work reaches the image: its lineage, and what it copies from."""
        seen: list[Stage] = []
        todo = [self.stages[-1]]
        while todo:
            for stage in self.lineage(todo.pop()):
                if stage in seen:
                    continue
                seen.append(stage)
                for i in stage.instructions:
                    source = copied_from(i)
                    if source is not None and (other := self.stage(source)) is not None:
                        todo.append(other)
        return sorted(seen, key=lambda s: s.index)


def copied_from(i: Instruction) -> str | None:
    """The stage (or image) a COPY/ADD copies from, when it says `--from=`."""
    if i.keyword not in ("COPY", "ADD"):
        return None
    match = re.search(r"--from=(\S+)", i.args)
    return match.group(1).lower() if match else None


def instructions(text: str) -> list[Instruction]:
    result: list[Instruction] = []
    pending: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if line.startswith("#") or (not line and not pending):
            continue
        if not pending:
            start = number
        if line.endswith("\\"):
            pending.append(line[:-1].strip())
            continue
        pending.append(line)
        joined = " ".join(part for part in pending if part)
        pending = []
        keyword, _, args = joined.partition(" ")
        result.append(Instruction(start, keyword.upper(), args.strip()))
    if pending:
        joined = " ".join(part for part in pending if part)
        keyword, _, args = joined.partition(" ")
        result.append(Instruction(start, keyword.upper(), args.strip()))
    return result


def parse(text: str) -> Dockerfile:
    stages: list[Stage] = []
    for i in instructions(text):
        if i.keyword == "FROM":
            words = [w for w in i.args.split() if not w.startswith("--")]
            base = words[0] if words else ""
            name = words[2].lower() if len(words) >= 3 and words[1].lower() == "as" else None
            stages.append(Stage(len(stages), base, name))
        elif stages:
            stages[-1].instructions.append(i)
    return Dockerfile(stages)


def read() -> Dockerfile:
    path = PROJECT / "Dockerfile"
    assert path.exists(), "there is no Dockerfile in the project"
    dockerfile = parse(path.read_text())
    assert dockerfile.stages, "the Dockerfile has no FROM"
    return dockerfile


def command_of(i: Instruction) -> tuple[list[str] | None, str]:
    """A CMD, ENTRYPOINT or HEALTHCHECK's command: its argv in exec form (else None) and text."""
    text = i.args
    if i.keyword == "HEALTHCHECK":
        text = re.sub(r"^(?:--\S+\s+)*", "", text)
        text = re.sub(r"^CMD\s+", "", text, flags=re.IGNORECASE)
    if text.startswith("["):
        try:
            argv = json.loads(text)
        except ValueError:
            return None, text
        if isinstance(argv, list) and all(isinstance(a, str) for a in argv):
            return argv, " ".join(argv)
    return None, text


def first_program(i: Instruction) -> str:
    """The program a command runs first (`sh -c "..."` looked through)."""
    argv, text = command_of(i)
    if argv is None:
        try:
            argv = shlex.split(text)
        except ValueError:
            argv = text.split()
    if len(argv) >= 3 and Path(argv[0]).name in ("sh", "bash") and argv[1] == "-c":
        return first_program(Instruction(i.line, "CMD", argv[2]))
    return Path(argv[0]).name if argv else ""


def installs(i: Instruction, package: str) -> bool:
    """Whether a RUN installs `package` with the system's package manager."""
    if i.keyword != "RUN":
        return False
    for part in re.split(r"&&|;|\|\|", i.args):
        words = part.split()
        managers = [n for n, w in enumerate(words) if w in ("apt-get", "apt", "apk", "dnf", "yum")]
        if not managers:
            continue
        rest = words[managers[0] + 1 :]
        if any(w in ("install", "add") for w in rest) and package in rest:
            return True
    return False
