"""Which verdict asset holds a report: one per report year, or one per year and region.

Dagster's UI draws every partition of a check's *Partitions* tab (docs/dagster-check-partitions-
list.md), so listing a year of a province took 4.5–4.8 s at 1,989 reports (a 10,000-report store)
and 8.1–8.9 s at 8,539 (50,000), against 2.2–2.9 s for a city's year of 230 (README, Benchmark). A province's office reviews a
year city by city, so the store can be cut that way: with `GOVREPORT_VERDICT_REGIONS` set, each
report year gets one verdict asset per region — `report_verdicts_2023 / 440300` (深圳市: the
division code, as Dagster's names are ASCII), partitions `reports_2023_440300` — and the asset catalog shows a folder per year with a few hundred reports
in each asset. Unset, one asset per year (`report_verdicts_2023`), as at city scale.

The setting lists GB/T 2260 divisions by name or code, separated by commas or spaces:
- a province (`广东省`, `440000`): the province's own bodies, plus one asset per city (each
  division the gazetteer places directly under it: the cities, or a municipality's districts);
- any other division (`深圳市`, `440305`): that division and everything under it;
- `provinces`: one asset per province (for a national store).
A report goes to the most specific listed division its organ lies in (`division_code`, read
from the organ's name), else to `其他地区` (other regions, or no place read). The regions are
part of the definitions: change the setting, and the code location loads the new assets (the
store's partitions are re-synced by the next run). An unknown or ambiguous name is an error at
load time naming the candidates, never a silent guess.
"""

import os
import re
from dataclasses import dataclass
from functools import cached_property, lru_cache
from urllib.parse import quote

import dagster as dg

from pipeline.extract.organs import full_place, gazetteer, parent_of

REGIONS_ENV = "GOVREPORT_VERDICT_REGIONS"
YEARS = range(2019, 2031)  # the 2019 and 2021 forms; earlier (legacy) reports are few
OTHER = "other"
OTHER_REGION_LABEL = "其他地区"
YEAR_BUCKETS = [str(y) for y in YEARS] + [OTHER]


def bucket_of(year) -> str:
    """The year part of a report's verdict asset: `2023`, or `other` (no year read, or outside YEARS)."""
    return str(year) if isinstance(year, int) and year in YEARS else OTHER


@dataclass(frozen=True)
class Shard:
    """One verdict asset: a year bucket, and a region (a division code, `other`) or None."""
    year: str
    region: str | None = None
    label: str | None = None  # the region's name (深圳市)

    @property
    def name(self) -> str:
        """The asset's op name and the stem of its partitions' name (ASCII: Dagster's rule)."""
        return f"report_verdicts_{self.year}" + ("" if self.region is None else f"_{self.region}")

    @property
    def key(self) -> dg.AssetKey:
        if self.region is None:
            return dg.AssetKey(self.name)
        # the code, not the name: Dagster derives the check's output name from the key, and names
        # must be ASCII (the name is in the asset's description, metadata and the store's by_year table)
        return dg.AssetKey([f"report_verdicts_{self.year}", self.region])

    @property
    def partitions_name(self) -> str:
        return self.name.replace("report_verdicts_", "reports_", 1)

    @property
    def ui_path(self) -> str:
        """The asset's page in Dagster's UI (each key part URL-encoded, as the UI writes it)."""
        return "/assets/" + "/".join(quote(p, safe="") for p in self.key.path)

    @property
    def title(self) -> str:
        """`report_verdicts_2023/440300 (深圳市)`: the key and, with a region, its name."""
        return self.key.to_user_string() + ("" if self.region is None else f" ({self.label})")

    @property
    def what(self) -> str:
        """`of 2023 in 深圳市`, for descriptions."""
        years = f"of {self.year}" if self.year != OTHER else f"of years outside {YEARS.start}–{YEARS.stop - 1}, or with no year read"
        if self.region is None:
            return years
        return years + (f" in {self.label}" if self.region != OTHER else " outside the listed regions, or with no place read")


class VerdictLayout:
    """The verdict assets for a list of regions (empty: one per year)."""

    def __init__(self, regions: tuple[tuple[str, str], ...] = ()):
        self.regions = regions  # (division code, label), in the order given
        self._codes = dict(regions)
        self._region_of: dict[str | None, tuple[str, str]] = {}  # per division code met: a few thousand at most

    @cached_property
    def shards(self) -> list[Shard]:
        if not self.regions:
            return [Shard(y) for y in YEAR_BUCKETS]
        return [Shard(y, code, label) for y in YEAR_BUCKETS for code, label in (*self.regions, (OTHER, OTHER_REGION_LABEL))]

    @cached_property
    def partitions(self) -> dict[Shard, dg.DynamicPartitionsDefinition]:
        return {s: dg.DynamicPartitionsDefinition(name=s.partitions_name) for s in self.shards}

    def region_of(self, division_code: str | None) -> tuple[str, str]:
        """The most specific listed division a code lies in, else (`other`, 其他地区)."""
        hit = self._region_of.get(division_code)
        if hit is None:
            hit = self._region_of[division_code] = self._walk_up(division_code)
        return hit

    def _walk_up(self, division_code: str | None) -> tuple[str, str]:
        c = division_code if division_code in gazetteer().by_code else None
        while c:
            if c in self._codes:
                return c, self._codes[c]
            c = parent_of(c)
        return OTHER, OTHER_REGION_LABEL

    def shard_of(self, year, division_code: str | None = None) -> Shard:
        if not self.regions:
            return Shard(bucket_of(year))
        code, label = self.region_of(division_code)
        return Shard(bucket_of(year), code, label)


def parse_regions(text: str) -> tuple[tuple[str, str], ...]:
    """`广东省` → the province and its cities; `深圳市, 440305` → those; `provinces` → every
    province. Raises ValueError naming the candidates when a name is unknown or ambiguous."""
    g = gazetteer()
    codes: list[str] = []
    for token in (t for t in re.split(r"[\s,，、;；]+", text.strip()) if t):
        if token.lower() == "provinces":
            codes += [c for c in g.by_code if c.endswith("0000")]
            continue
        if re.fullmatch(r"\d{6}", token):
            if token not in g.by_code:
                raise ValueError(f"{REGIONS_ENV}: {token} is not a GB/T 2260 division code in the gazetteer")
            code = token
        else:
            found = g.names.get(token, ())
            if not found:
                raise ValueError(f"{REGIONS_ENV}: no division is named {token!r} (use its full name, e.g. 深圳市, or its 6-digit code)")
            if len(found) > 1:
                raise ValueError(f"{REGIONS_ENV}: {token!r} names several divisions: "
                                 + ", ".join(f"{c} {full_place(c)}" for c in found) + "; give the code")
            code = found[0]
        codes.append(code)
        if code.endswith("0000"):
            codes += sorted(c for c in g.by_code if parent_of(c) == code and c != code)
    seen: dict[str, None] = dict.fromkeys(codes)  # keep order, drop repeats
    names = [g.by_code[c] for c in seen]
    return tuple((c, g.by_code[c] if names.count(g.by_code[c]) == 1 else full_place(c)) for c in seen)


@lru_cache(maxsize=8)
def _layout_for(text: str) -> VerdictLayout:
    return VerdictLayout(parse_regions(text))


def current_layout() -> VerdictLayout:
    """The layout `GOVREPORT_VERDICT_REGIONS` asks for: read when the definitions load and when a
    run publishes verdicts (a run's process inherits the code location's environment)."""
    return _layout_for(os.environ.get(REGIONS_ENV, ""))
