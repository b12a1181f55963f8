"""Reads a valgrind memcheck report (issue 16): its error summary and the errors that involve
polytrace. Used by `test_valgrind.py` and by `valgrind-suite.sh` (the whole suite under
memcheck, with `--track-origins=yes`).

An error block runs from the line naming the error to the next blank report line. It is
polytrace's when a frame of its stack is in the extension (`_native*.so`, pyo3, polytrace),
except one class that CPython 3.11 makes: a Python int built through `_PyLong_New` (JSON's
numbers, `int.from_bytes`) can carry a digit CPython never wrote — `maybe_small_long` reads
`ob_digit[0]` of a zero-size int and multiplies it by 0 — so memcheck calls that int's value,
and the small-int pointer computed from it, uninitialised wherever they go, our argument
parsing included. With origins tracked, such a block says "created by a heap allocation ...
_PyLong_New"; it is counted apart, not failed on. Reproduce: `json.loads('{"f": 0}')["f"]`
compared with anything, under `PYTHONMALLOC=malloc valgrind --track-origins=yes python`
(errors in `PyObject_RichCompareBool` with no polytrace loaded).

Blocks whose stack is all CPython's but whose origin names polytrace are listed as "to read":
memcheck keeps one origin per undefined value, and comparing our tuple with a JSON int (the
vector tests) shows our frame as the origin although comparing the same tuple with a literal
int reports nothing. CPython's own errors are counted in the summary."""

from __future__ import annotations

import re
import sys
from typing import Dict, List, Optional, Tuple

ERROR = re.compile(r"Invalid|uninitialised|Conditional jump|Mismatched|overlap|Syscall param")
OURS = re.compile(r"_native|pyo3|polytrace")
ORIGIN = "Uninitialised value was created"


def summary(report: str) -> Optional[Tuple[int, int]]:
    """(errors, contexts) of the last ERROR SUMMARY line, None when there is none."""
    found = re.findall(r"ERROR SUMMARY: (\d+) errors from (\d+) contexts", report)
    return (int(found[-1][0]), int(found[-1][1])) if found else None


def classify(report: str) -> Dict[str, List[str]]:
    """The error blocks that involve polytrace: "ours" (a polytrace frame in the stack),
    "cpython_int" (the same, with the value made by CPython's `_PyLong_New`) and "to_read"
    (a CPython stack with polytrace named only as the origin)."""
    out: Dict[str, List[str]] = {"ours": [], "cpython_int": [], "to_read": []}
    for block in re.split(r"==\d+== \n", report):
        if not ERROR.search(block):
            continue
        stack, _, origin = block.partition(ORIGIN)
        if OURS.search(stack):
            out["cpython_int" if "_PyLong_New" in origin else "ours"].append(block)
        elif OURS.search(origin):
            out["to_read"].append(block)
    return out


def ours(report: str) -> List[str]:
    """The error blocks that are polytrace's (see the module's doc)."""
    return classify(report)["ours"]


if __name__ == "__main__":
    # python3 memcheck.py LOG: prints the summary and the classes; exit 1 if any is ours.
    text = open(sys.argv[1], encoding="utf-8", errors="replace").read()
    found = classify(text)
    print(f"memcheck: {summary(text)} (errors, contexts); blocks with a polytrace frame: "
          f"{len(found['ours'])} polytrace's, {len(found['cpython_int'])} on ints CPython left "
          f"uninitialised; {len(found['to_read'])} with polytrace only as the origin")
    for b in found["ours"][:20]:
        print(b)
    sys.exit(1 if found["ours"] or summary(text) is None else 0)
