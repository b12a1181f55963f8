"""Reads a valgrind memcheck report (issue 16): its error summary and the errors that involve
polytrace — an error block (from the line naming the error to the next blank report line) with
a frame in the extension (`_native*.so`, pyo3, polytrace). Used by `test_valgrind.py` and by
`valgrind-suite.sh` (the whole suite under memcheck). CPython's own errors (built without
valgrind support) are counted in the summary, not returned."""

from __future__ import annotations

import re
import sys
from typing import List, Optional, Tuple

ERROR = re.compile(r"Invalid|uninitialised|Conditional jump|Mismatched|overlap|Syscall param")
OURS = re.compile(r"_native|pyo3|polytrace")


def summary(report: str) -> Optional[Tuple[int, int]]:
    """(errors, contexts) of the last ERROR SUMMARY line, None when there is none."""
    found = re.findall(r"ERROR SUMMARY: (\d+) errors from (\d+) contexts", report)
    return (int(found[-1][0]), int(found[-1][1])) if found else None


def ours(report: str) -> List[str]:
    """The error blocks with a frame in polytrace."""
    blocks = re.split(r"==\d+== \n", report)
    return [b for b in blocks if ERROR.search(b) and OURS.search(b)]


if __name__ == "__main__":
    # python3 memcheck.py LOG: prints the summary and polytrace's errors; exit 1 if any.
    text = open(sys.argv[1], encoding="utf-8", errors="replace").read()
    found = ours(text)
    print(f"memcheck: {summary(text)} (errors, contexts); {len(found)} error blocks in polytrace")
    for b in found[:20]:
        print(b)
    sys.exit(1 if found or summary(text) is None else 0)
