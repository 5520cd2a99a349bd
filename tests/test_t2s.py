"""The fast converter equals opencc-python-reimplemented t2s on every document we hold."""

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from opencc import OpenCC

from pipeline.t2s import to_simplified

FIXTURES = sorted((Path(__file__).parent / "fixtures").glob("*.[th]*"))
REFERENCE = OpenCC("t2s")


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.name)
def test_equals_library_on_corpus(path):
    text = path.read_text(encoding="utf-8")
    assert to_simplified(text) == REFERENCE.convert(text)


def test_equals_library_on_generated_corpus():
    from pipeline.devtools.generate import generate_corpus_texts
    for text in generate_corpus_texts(60, seed=7):
        assert to_simplified(text) == REFERENCE.convert(text)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="一目瞭然上鍊不瞭解乾隆乾燥著作著名發展髮型臺灣檔案，。 -（）0123abc後面後", max_size=60))
def test_equals_library_on_phrase_heavy_strings(s):
    assert to_simplified(s) == REFERENCE.convert(s)
