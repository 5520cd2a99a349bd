"""Measure the upstream patch docs/dagster-batched-check-partition-lookup.patch, and run its
regression test, without shipping a modified Dagster.

The patch is applied to a copy of the installed `dagster/_core/storage/asset_check_state.py`
in a temporary folder and imported under another name; the installed package is untouched.
Both versions rebuild the check state of N partitions (what every check page of the UI asks
for) on a real instance — SQLite in a temporary DAGSTER_HOME, or the one in --home (e.g. the
PostgreSQL instance of `make postgres`) — and count the storage calls that validate keys.

    python docs/measure_check_state.py --partitions 10000 [--home DIR]
"""

from __future__ import annotations

import argparse
import importlib.util
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Set as AbstractSet
from pathlib import Path

import dagster as dg
from dagster._core.definitions.partitions.context import partition_loading_context
from dagster._core.storage import asset_check_state as released
from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecordStatus, AssetCheckPartitionInfo

PATCH = Path(__file__).with_name("dagster-batched-check-partition-lookup.patch")
NAME = "reports_measure"


def patched_module():
    """The functions the patch changes, from the installed asset_check_state.py with the patch
    applied, in a namespace of their own (the rest of that module, its serdes classes included,
    stays the released one)."""
    import ast
    import types
    work = Path(tempfile.mkdtemp(prefix="check_state_patch_"))
    target = work / "python_modules/dagster/dagster/_core/storage/asset_check_state.py"
    target.parent.mkdir(parents=True)
    shutil.copy(released.__file__, target)
    subprocess.run(["patch", "-s", "-p1", "-d", str(work), "-i", str(PATCH.resolve())], check=True)
    tree = ast.parse(target.read_text())
    changed = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name in ("_valid_partition_keys", "_process_partition_records")]
    module = types.ModuleType("asset_check_state_patched")
    module.__dict__.update(released.__dict__)
    module.__dict__["AbstractSet"] = AbstractSet
    exec(compile(ast.Module(body=changed, type_ignores=[]), str(target), "exec"), module.__dict__)  # noqa: S102 - our patch
    return module


def partition_infos(check_key: dg.AssetCheckKey, keys: list[str]) -> list[AssetCheckPartitionInfo]:
    """One finished evaluation per partition (half failed), as `get_asset_check_partition_info` returns them."""
    run_id = str(uuid.uuid4())
    return [AssetCheckPartitionInfo(
        check_key=check_key, partition_key=k, latest_planned_run_id=run_id, latest_check_event_storage_id=i + 1,
        latest_execution_status=AssetCheckExecutionRecordStatus.FAILED if i % 2 else AssetCheckExecutionRecordStatus.SUCCEEDED,
        latest_materialization_storage_id=None, latest_target_materialization_storage_id=None) for i, k in enumerate(keys)]


class CallCounter:
    """Counts the instance's dynamic-partition lookups (each is a storage round trip)."""

    def __init__(self, instance):
        self.calls = 0
        for name in ("has_dynamic_partition", "get_existing_dynamic_partitions"):
            original = getattr(instance, name)

            def counted(*args, _original=original, **kwargs):
                self.calls += 1
                return _original(*args, **kwargs)
            setattr(instance, name, counted)


def rebuild(module, instance, check_key, partitions_def, infos) -> tuple[float, dict]:
    """Seconds to rebuild the check state of `infos`, and the number of partitions per status."""
    t = time.perf_counter()
    with partition_loading_context(dynamic_partitions_store=instance):
        subsets, _ = module._process_partition_records(
            check_key, partitions_def,
            {s: released.SerializableEntitySubset.empty(check_key, partitions_def) for s in released.AssetCheckExecutionResolvedStatus},
            {}, infos)
        sizes = {s.value: subsets[s].size for s in subsets if subsets[s].size}
    return time.perf_counter() - t, sizes


def check_one_lookup(module, instance) -> None:
    """The regression test: rebuilding the state of many partitions validates their keys in a
    bounded number of storage calls, not one per partition, and still drops unknown keys."""
    partitions_def = dg.DynamicPartitionsDefinition(name=NAME + "_test")
    keys = [f"2023·机关{i}·{i:08x}" for i in range(300)]
    instance.add_dynamic_partitions(partitions_def.name, keys[:-1])  # the last key was deleted
    check_key = dg.AssetCheckKey(dg.AssetKey("report_verdicts"), "verdict")
    counter = CallCounter(instance)
    _, sizes = rebuild(module, instance, check_key, partitions_def, partition_infos(check_key, keys))
    assert sum(sizes.values()) == len(keys) - 1, sizes
    assert counter.calls <= 2, f"{counter.calls} storage calls to validate {len(keys)} partition keys"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--partitions", type=int, default=10000)
    ap.add_argument("--home", help="a DAGSTER_HOME whose dagster.yaml names the instance (default: SQLite in a temporary folder)")
    ap.add_argument("--as-webserver", action="store_true", help="pooled connections as in dagster-webserver (optimize_for_webserver)")
    args = ap.parse_args(argv)
    home = args.home or tempfile.mkdtemp(prefix="check_state_home_")
    if not args.home:
        Path(home, "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    instance = dg.DagsterInstance.from_config(home)
    if args.as_webserver:  # what dagster-webserver does at start (its defaults)
        instance.optimize_for_webserver(statement_timeout=15000, pool_recycle=3600, max_overflow=20)
    patched = patched_module()
    name = f"{NAME}_{uuid.uuid4().hex[:8]}"
    partitions_def = dg.DynamicPartitionsDefinition(name=name)
    keys = [f"2023·机关{i}·{i:08x}" for i in range(args.partitions)]
    instance.add_dynamic_partitions(name, keys)
    check_key = dg.AssetCheckKey(dg.AssetKey("report_verdicts"), "verdict")
    infos = partition_infos(check_key, keys)
    print(f"{args.partitions} partitions, instance {type(instance.event_log_storage).__name__}"
          f"{' as in the webserver' if args.as_webserver else ''}, dagster {dg.__version__}")
    for label, module in (("released", released), ("patched", patched)):
        counter = CallCounter(instance)
        secs, sizes = rebuild(module, instance, check_key, partitions_def, infos)
        print(f"  {label:8}: {secs:7.2f} s, {counter.calls} storage calls, statuses {sizes}")
    for label, module in (("released", released), ("patched", patched)):
        try:
            check_one_lookup(module, dg.DagsterInstance.from_config(home))
            print(f"  regression test on {label}: passes")
        except AssertionError as exc:
            print(f"  regression test on {label}: FAILS ({exc})")
    instance.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
