"""extract — normalized text (or a reader's grid) in; metadata, sections, cells and prose figures out.

Organ and year (``meta``, ``organs``), the three tables by row labels in form order (``tables``),
converter layouts (``scrambled``), run-together digits (``splitting``), statistics in prose
(``prose``); ``cells`` holds the types every table reader returns. Every cell says how it was
read. Never guesses silently: a value two readings fit is left unresolved with both. Never
touches the store.
"""
