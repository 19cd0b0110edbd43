#!/usr/bin/env python3
"""Lints deploy/Dockerfile for the rules scopegate's image keeps.

    python3 deploy/lint_dockerfile.py [--self-test] [DOCKERFILE]

No container engine runs on the project's machines, so the image is never
built here; this checks what can be checked from the text (Python's standard
library only):

- multi-stage: at least two FROM, and a stage runs
  `cargo build --release --locked --bin scopegate`;
- every base image names a tag or a digest, never `latest` (stage names
  excepted);
- no ADD of a URL (or a git repository);
- ENTRYPOINT and CMD are exec form (JSON arrays), ENTRYPOINT ["/scopegate"];
- the final stage's last USER is numeric and not 0 (uid, or uid:gid);
- the final stage copies only from earlier stages, only the binary (and CA
  certificates), and runs nothing (no RUN: the runtime has no shell, and
  nothing is written at run time);
- the final stage EXPOSEs 8080 and 9090.

--self-test first runs the rules on Dockerfiles that break each of them and
fails if one is not caught. Exit 0 when clean, 1 on findings.
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

CERT_PATHS = ("/etc/ssl/certs/", "/etc/ssl/certs/ca-certificates.crt")


@dataclass
class Instruction:
    line: int
    keyword: str
    args: str


@dataclass
class Stage:
    image: str
    name: str | None
    line: int
    instructions: list[Instruction] = field(default_factory=list)


def instructions(text: str) -> list[Instruction]:
    """Logical instructions: comments dropped, `\\` continuations joined."""
    escape = "\\"
    out: list[Instruction] = []
    pending, start = "", 0
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.rstrip()
        directive = re.match(r"^#\s*escape\s*=\s*(\S)\s*$", line)
        if directive and not out and not pending:
            escape = directive.group(1)
            continue
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if pending and line.lstrip().startswith("#"):
            continue  # a comment inside a continued instruction
        if not pending:
            start = number
        if line.endswith(escape):
            pending += line[: -len(escape)] + " "
            continue
        pending += line
        keyword, _, args = pending.strip().partition(" ")
        out.append(Instruction(start, keyword.upper(), args.strip()))
        pending = ""
    if pending:
        keyword, _, args = pending.strip().partition(" ")
        out.append(Instruction(start, keyword.upper(), args.strip()))
    return out


def flags(args: str) -> tuple[dict[str, str], str]:
    """Leading --flag=value / --flag value options, and the rest."""
    found: dict[str, str] = {}
    rest = args
    while rest.startswith("--"):
        token, _, rest = rest.partition(" ")
        name, eq, value = token[2:].partition("=")
        found[name] = value if eq else "true"
        rest = rest.lstrip()
    return found, rest


def stages(items: list[Instruction]) -> list[Stage]:
    out: list[Stage] = []
    for item in items:
        if item.keyword == "FROM":
            _, rest = flags(item.args)
            words = rest.split()
            name = words[2] if len(words) >= 3 and words[1].lower() == "as" else None
            out.append(Stage(words[0] if words else "", name, item.line))
        elif out:
            out[-1].instructions.append(item)
    return out


def exec_form(args: str) -> list[str] | None:
    try:
        value = json.loads(args)
    except json.JSONDecodeError:
        return None
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return value
    return None


def image_problem(image: str, earlier: set[str]) -> str | None:
    if image.lower() in earlier or image == "scratch":
        return None
    if "$" in image:
        return f"base image `{image}` is built from a variable; name it literally"
    if "@sha256:" in image:
        return None
    last = image.rsplit("/", 1)[-1]
    if ":" not in last:
        return f"base image `{image}` has no tag (it means :latest); name a version"
    if last.rsplit(":", 1)[1] == "latest":
        return f"base image `{image}` uses the `latest` tag; name a version"
    return None


def lint(text: str) -> list[str]:
    problems: list[str] = []
    items = instructions(text)
    all_stages = stages(items)
    if len(all_stages) < 2:
        problems.append(f"not multi-stage: {len(all_stages)} FROM (want a build and a runtime stage)")
    names: set[str] = set()
    for stage in all_stages:
        problem = image_problem(stage.image, names)
        if problem:
            problems.append(f"line {stage.line}: {problem}")
        if stage.name:
            names.add(stage.name.lower())
    for item in items:
        if item.keyword == "ADD":
            _, rest = flags(item.args)
            sources = rest.split()[:-1]
            if any(re.match(r"^(https?|git|ssh)://|^git@", s) for s in sources):
                problems.append(f"line {item.line}: ADD of a URL; fetch in a RUN step with a checksum, or COPY")
        if item.keyword in ("ENTRYPOINT", "CMD") and exec_form(item.args) is None:
            problems.append(f"line {item.line}: {item.keyword} is not exec form (a JSON array of strings)")
    if not any(
        item.keyword == "RUN"
        and re.search(r"cargo build\b(?=.*--release)(?=.*--locked)(?=.*--bin[ =]scopegate\b)", item.args)
        for stage in all_stages[:-1]
        for item in stage.instructions
    ):
        problems.append("no build stage runs `cargo build --release --locked --bin scopegate`")
    if all_stages:
        problems += final_stage(all_stages[-1], names)
    return problems


def final_stage(stage: Stage, earlier: set[str]) -> list[str]:
    problems: list[str] = []
    where = f"final stage (line {stage.line})"
    users = [item for item in stage.instructions if item.keyword == "USER"]
    if not users:
        problems.append(f"{where}: no USER (set a numeric non-root uid)")
    else:
        user = users[-1].args.strip()
        match = re.fullmatch(r"(\d+)(?::(\d+))?", user)
        if not match:
            problems.append(f"line {users[-1].line}: USER `{user}` is not numeric (runAsNonRoot needs a uid)")
        elif int(match.group(1)) == 0 or (match.group(2) is not None and int(match.group(2)) == 0):
            problems.append(f"line {users[-1].line}: USER `{user}` is root")
    entrypoints = [item for item in stage.instructions if item.keyword == "ENTRYPOINT"]
    if not entrypoints or exec_form(entrypoints[-1].args) != ["/scopegate"]:
        problems.append(f'{where}: ENTRYPOINT is not ["/scopegate"]')
    for item in stage.instructions:
        if item.keyword == "RUN":
            problems.append(f"line {item.line}: RUN in the final stage (the runtime image runs nothing at build)")
        if item.keyword == "ADD":
            problems.append(f"line {item.line}: ADD in the final stage (COPY --from a build stage only)")
        if item.keyword == "VOLUME":
            problems.append(f"line {item.line}: VOLUME in the final stage (the image writes nothing)")
        if item.keyword == "COPY":
            problems += final_copy(item, earlier)
    exposed = {
        port.split("/")[0]
        for item in stage.instructions
        if item.keyword == "EXPOSE"
        for port in item.args.split()
    }
    for port in ("8080", "9090"):
        if port not in exposed:
            problems.append(f"{where}: does not EXPOSE {port}")
    return problems


def final_copy(item: Instruction, earlier: set[str]) -> list[str]:
    options, rest = flags(item.args)
    source = options.get("from")
    if source is None:
        return [f"line {item.line}: COPY from the build context in the final stage (copy the binary --from the build stage)"]
    if source.lower() not in earlier:
        return [f"line {item.line}: COPY --from={source} is not an earlier stage"]
    words = exec_form(rest) or rest.split()
    problems = []
    for path in words[:-1]:
        if not (path.rstrip("/").endswith("/scopegate") or path.startswith(CERT_PATHS)):
            problems.append(f"line {item.line}: the final stage copies `{path}` (only the binary and CA certificates)")
    return problems


GOOD = """\
# syntax=docker/dockerfile:1
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin scopegate \\
 && cp target/release/scopegate /out/scopegate
FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /out/scopegate /scopegate
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/
USER 65532:65532
EXPOSE 8080 9090
ENTRYPOINT ["/scopegate"]
CMD ["serve", "--config", "/etc/scopegate/config.toml"]
"""

# Each: (what it breaks, replacement of one line of GOOD, the finding expected).
BAD = [
    ("single stage", None, "not multi-stage"),
    ("latest base", ("FROM gcr.io/distroless/cc-debian12:nonroot", "FROM gcr.io/distroless/cc-debian12:latest"), "`latest` tag"),
    ("untagged base", ("FROM rust:1.95-bookworm AS build", "FROM rust AS build"), "has no tag"),
    ("named user", ("USER 65532:65532", "USER nonroot"), "not numeric"),
    ("root user", ("USER 65532:65532", "USER 0"), "is root"),
    ("root group", ("USER 65532:65532", "USER 65532:0"), "is root"),
    ("shell entrypoint", ('ENTRYPOINT ["/scopegate"]', "ENTRYPOINT /scopegate"), "not exec form"),
    ("shell cmd", ('CMD ["serve", "--config", "/etc/scopegate/config.toml"]', "CMD serve --dev"), "not exec form"),
    ("add url", ("WORKDIR /src", "ADD https://example.com/x.tar.gz /x"), "ADD of a URL"),
    ("copy context", ("COPY --from=build /out/scopegate /scopegate", "COPY . /app"), "from the build context"),
    ("copy extra", ("COPY --from=build /out/scopegate /scopegate", "COPY --from=build /src /src"), "copies `/src`"),
    ("run in final", ("USER 65532:65532", "RUN mkdir /data\nUSER 65532:65532"), "RUN in the final stage"),
    ("no locked", ("RUN cargo build --release --locked --bin scopegate \\", "RUN cargo build --release --bin scopegate \\"), "cargo build"),
    ("no expose", ("EXPOSE 8080 9090", "EXPOSE 8080"), "EXPOSE 9090"),
    ("no user", ("USER 65532:65532", ""), "no USER"),
]


def self_test() -> list[str]:
    failures = []
    if lint(GOOD):
        failures.append(f"self-test: the good Dockerfile has findings: {lint(GOOD)}")
    for label, change, expected in BAD:
        if change is None:
            text = "\n".join(line for line in GOOD.splitlines() if not line.startswith("FROM gcr.io")) + "\n"
        else:
            assert change[0] in GOOD, label
            text = GOOD.replace(change[0], change[1], 1)
        found = lint(text)
        if not any(expected in problem for problem in found):
            failures.append(f"self-test `{label}`: expected a finding with `{expected}`, got {found}")
    return failures


def main(argv: list[str]) -> int:
    args = [a for a in argv if a != "--self-test"]
    failures = self_test() if "--self-test" in argv else []
    path = Path(args[0]) if args else Path(__file__).with_name("Dockerfile")
    failures += [f"{path}: {problem}" for problem in lint(path.read_text())]
    for failure in failures:
        print(f"lint_dockerfile: {failure}", file=sys.stderr)
    if not failures:
        extra = f" (and {len(BAD) + 1} self-test cases)" if "--self-test" in argv else ""
        print(f"lint_dockerfile: {path} is clean{extra}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
