"""Imported once by the worker pool's fork server (``WatchedPool(preload=...)``), never by the
writer: loads the readers and fills their lazy tables (gazetteer, script map, forms), so every
worker forked from the server starts warm instead of each loading its own (≈ 0.1 s a worker,
which a small run felt), and the writer does not carry them. A fixed text: nothing dropped is
read here."""

from pipeline.process import process_bytes

WARM_UP = ("北京市海淀区人民政府办公室2023年政府信息公开工作年度报告\n一、总体情况\n本机关全年收到政府信息公开申请12件，办结12件。\n"
           "二、主动公开政府信息情况\n三、收到和处理政府信息公开申请情况\n").encode()

process_bytes(WARM_UP, "warm-up.txt")
