#!/usr/bin/env python3
"""Generates tests/vectors/text.json (python3 tests/vectors/gen_text.py > tests/vectors/text.json).

Text that is not valid Unicode, as each binding can receive it: `utf16` (code units, for the
languages whose strings are UTF-16: JavaScript, Java; Python builds its str from them, lone
surrogates included) and `utf8` (hex bytes, for byte strings: Erlang binaries, C buffers, the
core's own functions). A case has one or both. Whichever a binding uses, a span name, an
attribute key, an attribute value, an event name and a status message given that text must
be exported as `text`: kept, each lone surrogate one U+FFFD, other invalid UTF-8 one U+FFFD
per maximal subpart (core/src/text.rs). The expectations are written by hand.
"""
import json

R = "\ufffd"
cases = [
    ("valid text, a supplementary character included", [0x68, 0xE9, 0xD83D, 0xDE00], "68c3a9f09f9880", "hé😀"),
    ("a lone high surrogate between characters", [0x61, 0xD800, 0x62], "61eda08062", "a" + R + "b"),
    ("a lone low surrogate first", [0xDC00, 0x78], "edb08078", R + "x"),
    ("a high surrogate last", [0x78, 0xDBFF], "78edafbf", "x" + R),
    ("two high surrogates in a row: two", [0xD800, 0xD800], "eda080eda080", R + R),
    ("a low then a high surrogate (a pair in the wrong order): two", [0xDC00, 0xD800], "edb080eda080", R + R),
    ("nothing but a surrogate", [0xDFFF], "edbfbf", R),
    ("a pair written as two encoded surrogates (CESU-8): two, not the character", None, "eda0bdedb880", R + R),
    ("bytes that are never UTF-8: one each", None, "61fffe62", "a" + R + R + "b"),
    ("a sequence cut short by the end: one", None, "78e282", "x" + R),
    ("a sequence cut short before a character: one, the character kept", None, "e28278", R + "x"),
    ("an overlong encoding of NUL: one per byte", None, "c080", R + R),
    ("above U+10FFFF: one per byte", None, "f4908080", R * 4),
]
out = {"description": __doc__.strip().split("\n\n", 1)[1], "cases": []}
for name, utf16, utf8, text in cases:
    c = {"name": name}
    if utf16 is not None:
        c["utf16"] = utf16
    c["utf8"] = utf8
    c["text"] = text
    out["cases"].append(c)
lines = ",\n".join("  " + json.dumps(c, ensure_ascii=False) for c in out["cases"])
print('{\n "description": %s,\n "cases": [\n%s\n ]\n}' % (json.dumps(out["description"]), lines))
