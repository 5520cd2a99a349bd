"""text — decoded text in; one normalized, simplified text out.

Traditional → simplified, mojibake repair, pinyin, site chrome and spam stripped, full/half-width
unified (``normalize``), every repair recorded. Never drops a digit, never reads a file or the store.
"""
