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
    # a phrase never spans a separator, so each phrase match lies inside one segment
    assert not any(separators.search(k) for k in phrases[2])
    return cc, table, phrase_re, separators


@lru_cache(maxsize=1)
def _changing():
    """Characters that t2s changes, as regular expressions: a character class over the BMP
    ones (a C-level scan, ~10× a dict translate) and the rare supplementary-plane ones
    apart (a class with them is slow), with a cheap test for any supplementary character."""
    _, table, _, _ = _converter()
    changing = sorted(chr(k) for k, v in table.items() if chr(k) != v)
    bmp = "".join(c for c in changing if c <= "\uffff")
    astral = "".join(c for c in changing if c > "\uffff")
    return (re.compile("[" + re.escape(bmp) + "]"), re.compile("[" + re.escape(astral) + "]"),
            re.compile("[\U00010000-\U0010ffff]"))


def count_traditional(text: str) -> int:
    """How many characters t2s changes: the measure of how traditional a text is. (Every
    table value is one character, so this is the count of characters the table changes.)"""
    bmp, astral, any_astral = _changing()
    n = len(bmp.findall(text))
    if any_astral.search(text):
        n += len(astral.findall(text))
    return n


def _segment_start(text: str, pos: int, separators: re.Pattern) -> int:
    while pos > 0 and not separators.match(text, pos - 1):
        pos -= 1
    return pos


def to_simplified(text: str) -> str:
    """Exactly ``OpenCC('t2s').convert(text)`` from opencc-python-reimplemented.

    The library converts each segment between separators; only segments holding a phrase
    need its phrase matching, the rest (separators included, which the table leaves alone)
    convert with one ``str.translate``."""
    cc, table, phrase_re, separators = _converter()
    out = []
    pos = 0
    for m in phrase_re.finditer(text):
        if m.start() < pos:
            continue  # inside a segment already converted
        start = _segment_start(text, m.start(), separators)
        nxt = separators.search(text, m.end())
        end = nxt.start() if nxt else len(text)
        out.append(text[pos:start].translate(table))
        out.append(cc._convert(text[start:end], cc._dict_chain_data))  # noqa: SLF001
        pos = end
    if not out:
        return text.translate(table)
    out.append(text[pos:].translate(table))
    return "".join(out)
