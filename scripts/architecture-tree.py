#!/usr/bin/env python3
"""Writes (or with --check, verifies) the file tree of every crate in docs/architecture.md.

The tree sits between the markers `<!-- tree:start -->` and `<!-- tree:end -->`. Each Rust file
is listed with the first line of its `//!` module doc, so the tree says what each file holds and
cannot go stale: `make lint` runs this with --check, which fails when a file was added, moved or
removed without the tree following.
"""
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOC = os.path.join(ROOT, "docs", "architecture.md")
START, END = "<!-- tree:start -->", "<!-- tree:end -->"


def rust_files():
    out = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "crates"],
        cwd=ROOT, check=True, capture_output=True, text=True,
    ).stdout.split()
    return sorted(p for p in out if p.endswith(".rs") and os.path.exists(os.path.join(ROOT, p)))


def summary(path):
    with open(os.path.join(ROOT, path), encoding="utf-8") as f:
        for line in f:
            if line.startswith("//!"):
                text = line[3:].strip()
                if text:
                    return text
            elif line.strip():
                break
    return ""


def tree(paths):
    lines = []
    seen_dirs = set()
    for path in paths:
        parts = path.split("/")
        for depth in range(1, len(parts)):
            d = "/".join(parts[:depth])
            if d not in seen_dirs:
                seen_dirs.add(d)
                lines.append("  " * (depth - 1) + parts[depth - 1] + "/")
        text = summary(path)
        name = "  " * (len(parts) - 1) + parts[-1]
        if text:
            if len(text) > 90:
                text = text[:87].rstrip() + "..."
            name = f"{name:<44} {text}"
        lines.append(name.rstrip())
    return "\n".join(lines)


def main():
    with open(DOC, encoding="utf-8") as f:
        doc = f.read()
    if START not in doc or END not in doc:
        sys.exit(f"{DOC}: the markers {START} and {END} are missing")
    before, rest = doc.split(START, 1)
    _, after = rest.split(END, 1)
    block = f"{START}\n```text\n{tree(rust_files())}\n```\n{END}"
    new = before + block + after
    if "--check" in sys.argv:
        if new != doc:
            sys.exit("docs/architecture.md: the file tree is out of date; run "
                     "`python3 scripts/architecture-tree.py` and commit the result")
        return
    with open(DOC, "w", encoding="utf-8") as f:
        f.write(new)


if __name__ == "__main__":
    main()
