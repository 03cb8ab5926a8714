#!/usr/bin/env python3
"""docs/bindings.md shows the bindings' example files (and the C header)
verbatim: the code in the doc is the code the tests build and run.

Usage: check_docs.py SOURCE_DIR
"""
import pathlib
import sys

# (file, fence info string): the doc holds "```INFO\n" + the file + "```".
SHOWN = [
    ("bindings/c/include/warden.h", "c"),
    ("bindings/c/examples/decide.c", "c"),
    ("bindings/c/examples/decide.expected", ""),
    ("bindings/python/examples/decide.py", "python"),
    ("bindings/python/examples/client.py", "python"),
    ("bindings/python/examples/client.expected", ""),
]


def main():
    root = pathlib.Path(sys.argv[1])
    doc = (root / "docs/bindings.md").read_text()
    failures = 0
    for path, info in SHOWN:
        text = (root / path).read_text()
        if not text:
            print(f"{path} is empty")
            failures += 1
        elif f"```{info}\n{text}```" not in doc:
            print(f"docs/bindings.md does not show {path} verbatim (in a ```{info} block)")
            failures += 1
    if failures:
        sys.exit(1)
    print(f"ok: docs/bindings.md shows {len(SHOWN)} files verbatim")


if __name__ == "__main__":
    main()
