#!/usr/bin/env python3
"""Copies what `docker build -f deploy/Dockerfile .` would send as its context.

    python3 deploy/docker_context.py REPO DEST [--list]

Applies REPO/.dockerignore the way Docker does (moby's patternmatcher): each
pattern is cleaned and anchored at the context root; `*` and `?` stay within
one path segment, `**` spans any number of them; a path is excluded when it
or one of its parent folders matches, and a later `!pattern` re-includes.
deploy/check.sh then runs `cargo metadata --locked --offline` in DEST, which
fails if the context lacks a file Cargo needs (a target Cargo.toml names,
Cargo.lock) or if Cargo.lock is stale. With --list, prints the files instead.
"""

from __future__ import annotations

import os
import posixpath
import re
import shutil
import sys
from pathlib import Path


def patterns(text: str) -> list[tuple[bool, re.Pattern]]:
    out = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        negate = line.startswith("!")
        if negate:
            line = line[1:].strip()
        line = posixpath.normpath(line).lstrip("/")
        regex = ""
        i = 0
        while i < len(line):
            if line.startswith("**/", i):
                regex += "(?:.*/)?"
                i += 3
            elif line.startswith("**", i):
                regex += ".*"
                i += 2
            elif line[i] == "*":
                regex += "[^/]*"
                i += 1
            elif line[i] == "?":
                regex += "[^/]"
                i += 1
            else:
                regex += re.escape(line[i])
                i += 1
        out.append((negate, re.compile(regex + r"\Z")))
    return out


def excluded(path: str, rules: list[tuple[bool, re.Pattern]]) -> bool:
    parts = path.split("/")
    candidates = ["/".join(parts[: n + 1]) for n in range(len(parts))]
    result = False
    for negate, regex in rules:
        if any(regex.match(c) for c in candidates):
            result = not negate
    return result


def context_files(repo: Path) -> list[str]:
    ignore = repo / ".dockerignore"
    rules = patterns(ignore.read_text()) if ignore.exists() else []
    # Re-includes (!) can reach inside excluded folders, so only prune a
    # folder when there are none.
    prune = not any(negate for negate, _ in rules)
    files = []
    for root, dirs, names in os.walk(repo):
        rel_root = os.path.relpath(root, repo)
        rel_root = "" if rel_root == "." else rel_root + "/"
        if prune:
            dirs[:] = [d for d in dirs if not excluded(rel_root + d, rules)]
        for name in names:
            rel = rel_root + name
            if not excluded(rel, rules):
                files.append(rel)
    return sorted(files)


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    repo, dest = Path(argv[0]), Path(argv[1])
    files = context_files(repo)
    if "--list" in argv:
        print("\n".join(files))
        return 0
    for rel in files:
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(repo / rel, target, follow_symlinks=False)
    print(f"docker_context: {len(files)} files", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
