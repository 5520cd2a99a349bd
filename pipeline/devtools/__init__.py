"""devtools — not the product: benchmarks, the fuzzer, the kill test, the synthetic report
generator and renderer. Nothing in the product imports them; they may import anything.
"""
