"""Traditional → simplified, identical to opencc-python-reimplemented ``t2s`` but fast.

The reimplemented OpenCC converts about 0.2 M characters/s, which would dominate the pipeline.
Its ``t2s`` config is a phrase dictionary (277 entries, 2–14 characters) applied first, then a
one-character dictionary to whatever no phrase matched, inside segments cut at punctuation and
spaces (separators are never converted). So:

* segments that contain no phrase key convert character by character: ``str.translate`` with
  the same table (first value of a multi-valued entry; separators left alone) gives exactly
  the library's output;
* the rare segments that do contain a phrase key are handed to the library itself.

The dictionaries are the library's own files, read once per process. ``tests/test_t2s.py``
checks equality with the library on every document of the corpora.
"""

from __future__ import annotations

import re
from functools import lru_cache


@lru_cache(maxsize=1)
def _converter():
    from opencc import OpenCC

    cc = OpenCC("t2s")
    cc._init_dict()  # noqa: SLF001 - we reuse the library's loaded dictionaries
    (phrases, characters), = cc._dict_chain_data  # noqa: SLF001
    separators = cc.split_chars_re
    table = {}
    for key, value in characters[2].items():
        if len(key) == 1 and not separators.fullmatch(key):
            table[ord(key)] = value.split(" ")[0]
    phrase_re = re.compile("|".join(sorted(map(re.escape, phrases[2]), key=len, reverse=True)))
    return cc, table, phrase_re, separators


def count_traditional(text: str) -> int:
    """How many characters t2s changes: the measure of how traditional a text is."""
    _, table, _, _ = _converter()
    converted = text.translate(table)
    if converted == text:
        return 0
    return sum(1 for a, b in zip(text, converted) if a != b)


def to_simplified(text: str) -> str:
    """Exactly ``OpenCC('t2s').convert(text)`` from opencc-python-reimplemented."""
    cc, table, phrase_re, separators = _converter()
    if not phrase_re.search(text):
        # no phrase anywhere: separators are untouched by the table, so one translate is exact
        return text.translate(table)
    parts = separators.split(text)
    out = []
    for i, part in enumerate(parts):
        if i % 2:
            out.append(part)  # a separator, never converted
        elif phrase_re.search(part):
            out.append(cc._convert(part, cc._dict_chain_data))  # noqa: SLF001
        else:
            out.append(part.translate(table))
    return "".join(out)
