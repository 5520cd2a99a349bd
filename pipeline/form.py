"""The standard annual-report form, as data.

Everything that knows the form's shape — tables, rows, columns, canonical labels, the anchors
that find a row in messy text, and the printed identities — reads it from here. Adding a form
version means adding a ``FormSpec``, not a code path.

Anchors are regular expressions over *normalized* (simplified, half-width) text. They are short
and distinctive on purpose: real reports break labels across lines, drop characters (洪泽's
``其他法律行政止公开``) and insert spaces, so a row is found by the part of its label that
survives. ``enum`` is the exact enumerator printed before the label (``6.``, ``（三）``); it is
consumed with the label so that a run-together number never loses its last digit to it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

@dataclass(frozen=True)
class Column:
    key: str
    label: str
    decimal: bool = False  # money columns keep decimals; counts are whole numbers
    signed: bool = False  # 本年增/减 may be negative


@dataclass(frozen=True)
class Row:
    key: str
    label: str
    anchor: str  # regex that finds the row label in normalized text
    enum: str = ""  # enumerator printed before the label, consumed with it
    columns: tuple[Column, ...] = ()  # active_disclosure rows have their own columns


@dataclass(frozen=True)
class Heading:
    """A label that groups rows and never carries numbers (（三）不予公开)."""

    anchor: str
    enum: str = ""


@dataclass(frozen=True)
class TableSpec:
    name: str
    rows: tuple[Row, ...]
    columns: tuple[Column, ...] = ()  # shared columns (applications, review_litigation)
    headings: tuple[Heading, ...] = ()
    # rows that are printed with their own row label (False: review_litigation, whose rows
    # are column groups of one printed line)
    labelled_rows: bool = True

    def columns_of(self, row: Row) -> tuple[Column, ...]:
        return row.columns or self.columns

    def row(self, key: str) -> Row:
        for r in self.rows:
            if r.key == key:
                return r
        raise KeyError(key)

    def cell_keys(self) -> list[tuple[str, str]]:
        return [(r.key, c.key) for r in self.rows for c in self.columns_of(r)]


@dataclass(frozen=True)
class Identity:
    """A printed or implied arithmetic identity: sum(left) == sum(right) per instance."""

    name: str
    table: str
    description: str
    # each instance: (location, left cells, right cells); cells are (row_key, column_key)
    instances: tuple[tuple[str, tuple[tuple[str, str], ...], tuple[tuple[str, str], ...]], ...]


@dataclass(frozen=True)
class FormSpec:
    form_id: str
    tables: dict[str, TableSpec]
    identities: tuple[Identity, ...] = field(default_factory=tuple)


# --- columns ---------------------------------------------------------------------------------

APPLICANT_COLUMNS = (
    Column("natural_person", "自然人"),
    Column("commercial_enterprise", "商业企业"),
    Column("research_institution", "科研机构"),
    Column("social_welfare_org", "社会公益组织"),
    Column("legal_service_org", "法律服务机构"),
    Column("other_org", "其他"),
)
APPLICATION_COLUMNS = APPLICANT_COLUMNS + (Column("total", "总计"),)

REVIEW_COLUMNS = (
    Column("upheld", "结果维持"),
    Column("corrected", "结果纠正"),
    Column("other", "其他结果"),
    Column("pending", "尚未审结"),
    Column("total", "总计"),
)

DOCS_2021 = (Column("issued", "本年制发件数"), Column("repealed", "本年废止件数"), Column("in_force", "现行有效件数"))
DECISIONS_2021 = (Column("decisions", "本年处理决定数量"),)
FEES_2021 = (Column("amount_10k_yuan", "本年收费金额（单位：万元）", decimal=True),)

DOCS_2019 = (Column("new_made", "本年新制作数量"), Column("new_published", "本年新公开数量"), Column("total_published", "对外公开总数量"))
ITEMS_2019 = (Column("prev_year_items", "上一年项目数量"), Column("change", "本年增/减", signed=True), Column("decisions", "处理决定数量"))
FEES_2019 = (Column("prev_year_items", "上一年项目数量"), Column("change", "本年增/减", signed=True))
PROCUREMENT_2019 = (Column("items", "采购项目数量"), Column("amount", "采购总金额", decimal=True))

# --- tables ----------------------------------------------------------------------------------

# A Taiwan-phrase converter turns 文件 into 檔案 (seed 000: 行政規範性檔案 → 行政规范性档案).
_NORMATIVE_ANCHOR = r"(?:行政)?规范性(?:文件|档案)"


def _active_2021() -> TableSpec:
    return TableSpec(
        "active_disclosure",
        rows=(
            Row("regulations", "规章", r"规章", columns=DOCS_2021),
            Row("normative_documents", "行政规范性文件", _NORMATIVE_ANCHOR, columns=DOCS_2021),
            Row("licensing", "行政许可", r"行政许可", columns=DECISIONS_2021),
            Row("penalties", "行政处罚", r"行政处罚", columns=DECISIONS_2021),
            Row("coercive_measures", "行政强制", r"行政强制", columns=DECISIONS_2021),
            Row("fees", "行政事业性收费", r"行政事业性收费", columns=FEES_2021),
        ),
    )


def _active_2019() -> TableSpec:
    return TableSpec(
        "active_disclosure",
        rows=(
            Row("regulations", "规章", r"规章", columns=DOCS_2019),
            Row("normative_documents", "规范性文件", _NORMATIVE_ANCHOR, columns=DOCS_2019),
            Row("licensing", "行政许可", r"行政许可", columns=ITEMS_2019),
            Row("other_services", "其他对外管理服务事项", r"其他对外管理服务事项", columns=ITEMS_2019),
            Row("penalties", "行政处罚", r"行政处罚", columns=ITEMS_2019),
            Row("coercive_measures", "行政强制", r"行政强制", columns=ITEMS_2019),
            Row("fees", "行政事业性收费", r"行政事业性收费", columns=FEES_2019),
            Row("central_procurement", "政府集中采购", r"政府集中采购", columns=PROCUREMENT_2019),
        ),
    )


_APPLICATION_ROWS_HEAD = (
    Row("new_received", "一、本年新收政府信息公开申请数量", r"本年新收", "一、"),
    Row("carried_over_in", "二、上年结转政府信息公开申请数量", r"上年结转", "二、"),
    Row("granted", "（一）予以公开", r"予以公开", "（一）"),
    Row("partially_granted", "（二）部分公开（区分处理的，只计这一情形，不计其他情形）", r"部分公开", "（二）"),
    Row("withheld_state_secret", "1.属于国家秘密", r"属于国家秘密", "1."),
    Row("withheld_prohibited_by_law", "2.其他法律行政法规禁止公开", r"其他法律行政", "2."),
    Row("withheld_three_safeties", "3.危及“三安全一稳定”", r"危及", "3."),
    Row("withheld_third_party", "4.保护第三方合法权益", r"保护第三方", "4."),
    Row("withheld_internal_affairs", "5.属于三类内部事务信息", r"三类内部事务", "5."),
    Row("withheld_process_info", "6.属于四类过程性信息", r"四类过程性", "6."),
    Row("withheld_enforcement_file", "7.属于行政执法案卷", r"行政执法案卷", "7."),
    Row("withheld_admin_query", "8.属于行政查询事项", r"行政查询事项", "8."),
    Row("unavailable_not_held", "1.本机关不掌握相关政府信息", r"不掌握", "1."),
    Row("unavailable_needs_creation", "2.没有现成信息需要另行制作", r"没有现成", "2."),
    Row("unavailable_unclear", "3.补正后申请内容仍不明确", r"补正后", "3."),
    Row("rejected_petition", "1.信访举报投诉类申请", r"信访举报", "1."),
    Row("rejected_duplicate", "2.重复申请", r"重复申请", "2."),
    Row("rejected_publication", "3.要求提供公开出版物", r"公开出版物", "3."),
    Row("rejected_excessive", "4.无正当理由大量反复申请", r"大量反复", "4."),
    Row("rejected_confirmation", "5.要求行政机关确认或重新出具已获取信息", r"确认或重\s*新", "5."),
)
_APPLICATION_ROWS_TAIL = (
    Row("results_total", "（七）总计", r"总计", "（七）"),
    Row("carried_over_out", "四、结转下年度继续办理", r"结转下年度", "四、"),
)
OTHER_HANDLING = Row("other_handling", "（六）其他处理", r"其他处理", "（六）")
OTHER_HANDLING_2021 = (
    Row("other_no_correction", "1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请", r"逾期不补正", "1."),
    Row("other_unpaid_fee", "2.申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请", r"逾期未按收费", "2."),
    Row("other_misc", "3.其他", r"其他(?!法律|结果|处理|需要|对外)", "3."),
)
_APPLICATION_HEADINGS = (
    Heading(r"本年度办理结果", "三、"),
    Heading(r"不予公开", "（三）"),
    Heading(r"无法提供", "（四）"),
    Heading(r"不予处理", "（五）"),
)

# result rows: everything between the two carried-over rows and the total
RESULT_ROW_KEYS_BASE = tuple(r.key for r in _APPLICATION_ROWS_HEAD[2:])


def _applications(other_rows: tuple[Row, ...], headings: tuple[Heading, ...]) -> TableSpec:
    return TableSpec(
        "applications",
        rows=_APPLICATION_ROWS_HEAD + other_rows + _APPLICATION_ROWS_TAIL,
        columns=APPLICATION_COLUMNS,
        headings=_APPLICATION_HEADINGS + headings,
    )


def _review() -> TableSpec:
    return TableSpec(
        "review_litigation",
        rows=(
            Row("administrative_review", "行政复议", r"行政复议"),
            Row("litigation_direct", "行政诉讼·未经复议直接起诉", r"未经复议直接起诉"),
            Row("litigation_after_review", "行政诉讼·复议后起诉", r"复议后起诉"),
        ),
        columns=REVIEW_COLUMNS,
        labelled_rows=False,
    )


# --- identities ------------------------------------------------------------------------------


def _application_identities(table: TableSpec) -> tuple[Identity, ...]:
    cols = [c.key for c in APPLICATION_COLUMNS]
    result_rows = [r.key for r in table.rows if r.key not in ("new_received", "carried_over_in", "results_total", "carried_over_out")]
    balance = Identity(
        "applications_balance",
        "applications",
        "new_received + carried_over_in = results_total + carried_over_out, per column (printed in the form)",
        tuple(
            (f"column {c}", (("new_received", c), ("carried_over_in", c)), (("results_total", c), ("carried_over_out", c)))
            for c in cols
        ),
    )
    row_totals = Identity(
        "applications_row_totals",
        "applications",
        "total = the six applicant columns summed, every row",
        tuple(
            (f"row {r.key}", tuple((r.key, c.key) for c in APPLICANT_COLUMNS), ((r.key, "total"),)) for r in table.rows
        ),
    )
    results_total = Identity(
        "applications_results_total",
        "applications",
        "results_total = all result rows summed, per column",
        tuple((f"column {c}", tuple((r, c) for r in result_rows), (("results_total", c),)) for c in cols),
    )
    return balance, row_totals, results_total


def _review_identities(table: TableSpec) -> tuple[Identity, ...]:
    parts = [c.key for c in REVIEW_COLUMNS if c.key != "total"]
    return (
        Identity(
            "review_litigation_totals",
            "review_litigation",
            "total = upheld + corrected + other + pending, each row",
            tuple((f"row {r.key}", tuple((r.key, p) for p in parts), ((r.key, "total"),)) for r in table.rows),
        ),
    )


@lru_cache(maxsize=None)
def table_identities(table: TableSpec) -> tuple[Identity, ...]:
    """The identities that hold inside one table (cross-report ones live in checks)."""
    if table.name == "applications":
        return _application_identities(table)
    if table.name == "review_litigation":
        return _review_identities(table)
    return ()


def _form(form_id: str, active: TableSpec, applications: TableSpec) -> FormSpec:
    review = _review()
    return FormSpec(
        form_id,
        {"active_disclosure": active, "applications": applications, "review_litigation": review},
        table_identities(applications) + table_identities(review),
    )


FORM_2021 = _form("2021", _active_2021(), _applications(OTHER_HANDLING_2021, (Heading(r"其他处理", "（六）"),)))
# Some 2021-form reports print （六）其他处理 as one undivided row: same form, one row fewer.
FORM_2021_UNDIVIDED = _form("2021", _active_2021(), _applications((OTHER_HANDLING,), ()))
FORM_2019 = _form("2019", _active_2019(), _applications((OTHER_HANDLING,), ()))

FORMS = {"2019": FORM_2019, "2021": FORM_2021}

IDENTITY_NAMES = tuple(i.name for i in FORM_2021.identities)


def form_spec(form_id: str, other_handling_undivided: bool = False) -> FormSpec:
    """The spec for a form version; the 2021 form has a variant with an undivided （六）."""
    if form_id == "2021" and other_handling_undivided:
        return FORM_2021_UNDIVIDED
    return FORMS[form_id]


def _label_index() -> dict[tuple[str, str, str, str], tuple[str, str]]:
    index = {}
    for spec in (FORM_2019, FORM_2021_UNDIVIDED, FORM_2021):
        for table in spec.tables.values():
            for row in table.rows:
                for col in table.columns_of(row):
                    index[(spec.form_id, table.name, row.key, col.key)] = (row.label, col.label)
    return index


LABELS = _label_index()


def canonical_label(form_id: str, table: str, row_key: str, column_key: str) -> tuple[str, str]:
    """(row label, column label) as printed on the form, for the store's label columns."""
    return LABELS.get((form_id, table, row_key, column_key), ("", ""))
