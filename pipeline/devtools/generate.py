"""Realistic synthetic reports with known true values, in every layout we meet.

Each report is built from the form (``form.py``): values that satisfy every identity, printed
as one cell per line, pipe rows, HTML tables (optionally inside a whole web page), or with
every row's digits run together on one line; in simplified or traditional script; encoded as
UTF-8, UTF-8 with BOM, UTF-16, GB18030 or Big5; with some cells printed blank. The truth comes
back with the bytes so extraction can be measured cell by cell.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from pipeline.form import APPLICANT_COLUMNS, FORM_2019, FORM_2021, FormSpec

LAYOUTS = ("lines", "pipes", "html", "webpage", "runtogether")
ENCODINGS = ("utf-8", "utf-8-sig", "utf-16", "gb18030", "big5")
PLACES = ("深圳市", "广州市", "杭州市", "成都市", "武汉市", "南京市", "西安市", "长沙市", "福州市", "济南市", "郑州市", "合肥市")
DISTRICTS = ("", "福田区", "南山区", "西湖区", "武侯区", "江宁区", "雁塔区", "岳麓区", "鼓楼区", "历下区", "金水区", "蜀山区")
BODIES = ("人民政府", "人民政府办公厅", "司法局", "教育局", "财政局", "自然资源局", "生态环境局", "住房和城乡建设局", "交通运输局", "卫生健康委员会")

Truth = dict[tuple[str, str, str], Decimal | None]


@dataclass
class Generated:
    name: str
    data: bytes
    truth: Truth
    form: str
    layout: str
    script: str
    encoding: str
    organ: str
    year: int
    broken: bool = False


@lru_cache(maxsize=1)
def _s2t_table() -> dict[int, str]:
    """Character-level simplified → traditional from OpenCC's own dictionary (fast)."""
    import opencc

    path = Path(opencc.__file__).parent / "dictionary" / "STCharacters.txt"
    table = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        key, value = line.split("\t")
        if len(key) == 1:
            table[ord(key)] = value.split(" ")[0]
    return table


def to_traditional(text: str) -> str:
    return text.translate(_s2t_table())


def _count(rng: random.Random, scale: int) -> int:
    r = rng.random()
    if r < 0.45:
        return 0
    if r < 0.8:
        return rng.randint(1, 9)
    return rng.randint(10, scale)


def make_values(rng: random.Random, spec: FormSpec) -> Truth:
    """Values for every cell that satisfy every identity of the form."""
    truth: Truth = {}
    act = spec.tables["active_disclosure"]
    for row in act.rows:
        for col in act.columns_of(row):
            if col.decimal:
                v = Decimal(rng.choice(["0", "0", str(rng.randint(1, 900)), f"{rng.randint(0, 99)}.{rng.randint(1, 99999):05d}"]))
            elif col.signed:
                v = Decimal(rng.randint(-5, 20))
            else:
                v = Decimal(_count(rng, 400))
            truth[("active_disclosure", row.key, col.key)] = v
    apps = spec.tables["applications"]
    app_cols = [c.key for c in APPLICANT_COLUMNS]
    result_rows = [r.key for r in apps.rows if r.key not in ("new_received", "carried_over_in", "results_total", "carried_over_out")]
    for col in app_cols:
        scale = 300 if col == "natural_person" else 20
        results = {r: _count(rng, scale) for r in result_rows}
        total = sum(results.values())
        carried_out = _count(rng, 30)
        carried_in = rng.randint(0, total + carried_out) if rng.random() < 0.5 else 0
        new = total + carried_out - carried_in
        for r, v in results.items():
            truth[("applications", r, col)] = Decimal(v)
        truth[("applications", "results_total", col)] = Decimal(total)
        truth[("applications", "carried_over_out", col)] = Decimal(carried_out)
        truth[("applications", "carried_over_in", col)] = Decimal(carried_in)
        truth[("applications", "new_received", col)] = Decimal(new)
    for row in apps.rows:
        truth[("applications", row.key, "total")] = sum((truth[("applications", row.key, c)] for c in app_cols), Decimal(0))
    rev = spec.tables["review_litigation"]
    for row in rev.rows:
        parts = [Decimal(_count(rng, 30)) for _ in range(4)]
        for col, v in zip(rev.columns, [*parts, sum(parts)]):
            truth[("review_litigation", row.key, col.key)] = v
    return truth


def _fmt(v: Decimal | None) -> str:
    if v is None:
        return ""
    return format(v, "f")


def _table_rows(spec: FormSpec, truth: Truth, blanks: set) -> list[tuple[str, str, list[str]]]:
    """(table, printed label, printed cells) rows in print order; blank cells print ''."""
    out = []
    for name in ("active_disclosure", "applications"):
        table = spec.tables[name]
        for row in table.rows:
            cells = [("" if (name, row.key, c.key) in blanks else _fmt(truth[(name, row.key, c.key)])) for c in table.columns_of(row)]
            out.append((name, row.label, cells))
    return out


def _review_cells(spec: FormSpec, truth: Truth, blanks: set) -> list[str]:
    rev = spec.tables["review_litigation"]
    return ["" if ("review_litigation", r.key, c.key) in blanks else _fmt(truth[("review_litigation", r.key, c.key)]) for r in rev.rows for c in rev.columns]


SECTION_TITLES = ("一、总体情况", "二、主动公开政府信息情况", "三、收到和处理政府信息公开申请情况", "四、政府信息公开行政复议、行政诉讼情况",
                  "五、存在的主要问题及改进情况", "六、其他需要报告的事项")


def _prose(organ: str, year: int, truth: Truth) -> tuple[str, str]:
    got = truth[("applications", "new_received", "total")]
    done = truth[("applications", "results_total", "total")]
    intro = f"根据《中华人民共和国政府信息公开条例》要求，现公布{organ}{year}年政府信息公开工作年度报告。本报告中所列数据统计期限为{year}年1月1日至12月31日。"
    body = f"{year}年，本机关坚持以公开为常态、不公开为例外，全年共收到政府信息公开申请{got}件，办结{done}件，均在法定期限内予以答复。"
    return intro, body


def render_text(spec: FormSpec, truth: Truth, organ: str, year: int, layout: str, blanks: set, rng: random.Random) -> str:
    intro, body = _prose(organ, year, truth)
    title = f"{organ}{year}年政府信息公开工作年度报告"
    rows = _table_rows(spec, truth, blanks)
    review = _review_cells(spec, truth, blanks)
    parts = [title, intro, SECTION_TITLES[0], body]
    act = [r for r in rows if r[0] == "active_disclosure"]
    apps = [r for r in rows if r[0] == "applications"]
    if layout == "runtogether":
        sep = "" if rng.random() < 0.7 else " "
        act_text = "".join(f"{label}{' '.join(c or '-' for c in cells)}" for _, label, cells in act)
        app_text = "".join(f"{label}{sep.join(c for c in cells)}" for _, label, cells in apps)
        line = (f"{SECTION_TITLES[1]} 第二十条第（一）项信息内容{act_text}{SECTION_TITLES[2]}（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）"
                f"申请人情况自然人法人或其他组织总计商业企业科研机构社会公益组织法律服务机构其他{app_text}"
                f"{SECTION_TITLES[3]}行政复议行政诉讼结果维持结果纠正其他结果尚未审结总计未经复议直接起诉复议后起诉{''.join(review)}")
        parts.append(line)
    elif layout == "pipes":
        parts.append(SECTION_TITLES[1])
        parts.append("第二十条第（一）项 |")
        for _, label, cells in act:
            parts.append(f"{label} |")
            parts += [f"{c or '-'} |" for c in cells]
        parts.append(SECTION_TITLES[2])
        parts += ["申请人情况 |", "自然人 |", "法人或其他组织 |", "总计 |"]
        for _, label, cells in apps:
            parts.append(f"{label} |")
            parts += [f"{c or '-'} |" for c in cells]
            parts.append("||")
        parts.append(SECTION_TITLES[3])
        parts += ["行政复议 |", "结果维持 |", "总计 |"]
        parts += [f"{c or '-'}\n|" for c in review]
    else:  # lines
        parts.append(SECTION_TITLES[1])
        parts.append("第二十条第（一）项")
        for _, label, cells in act:
            parts.append(label)
            parts += [c or "-" for c in cells]
        parts += [SECTION_TITLES[2], "申请人情况", "自然人", "法人或其他组织", "总计", "商业", "企业", "科研", "机构", "社会公益组织", "法律服务机构", "其他"]
        for _, label, cells in apps:
            parts.append(label)
            parts += [c or "-" for c in cells]
        parts += [SECTION_TITLES[3], "行政复议", "行政诉讼", "结果维持", "结果", "纠正", "其他", "结果", "尚未", "审结", "总计"]
        parts += [c or "-" for c in review]
    parts += [SECTION_TITLES[4], "一是政策解读形式不够丰富。下一步，将进一步加强培训。", SECTION_TITLES[5], "本年度未收取信息处理费。"]
    return "\n".join(parts)


def render_html(spec: FormSpec, truth: Truth, organ: str, year: int, blanks: set, page: bool, rng: random.Random) -> str:
    intro, body = _prose(organ, year, truth)
    title = f"{organ}{year}年政府信息公开工作年度报告"
    rows = _table_rows(spec, truth, blanks)
    review = _review_cells(spec, truth, blanks)

    def tr(cells):
        return "<tr>" + "".join(f"<td>{c if c else '&nbsp;'}</td>" for c in cells) + "</tr>"

    act = "".join(tr([label, *cells]) for t, label, cells in rows if t == "active_disclosure")
    apps = "".join(tr([label, *cells]) for t, label, cells in rows if t == "applications")
    head = tr(["申请人情况", "自然人", "商业<br/>企业", "科研机构", "社会公益组织", "法律服务机构", "其他", "总计"])
    rev = tr(["结果维持", "结果纠正", "其他结果", "尚未审结", "总计"] * 3) + tr(review)
    doc = (f"<h1>{title}</h1><p>{intro}</p><p>{SECTION_TITLES[0]}</p><p>{body}</p><p>{SECTION_TITLES[1]}</p>"
           f"<table><tr><td colspan=\"4\">第二十条第（一）项</td></tr>{act}</table><p>{SECTION_TITLES[2]}</p>"
           f"<table>{head}{apps}</table><p>{SECTION_TITLES[3]}</p><table><tr><td colspan=\"5\">行政复议</td><td colspan=\"10\">行政诉讼</td></tr>{rev}</table>"
           f"<p>{SECTION_TITLES[4]}</p><p>一是政策解读形式不够丰富。</p><p>{SECTION_TITLES[5]}</p><p>本年度未收取信息处理费。</p>")
    if page:
        nav = "".join(f"<li><a href=\"/n{i}\">栏目{i}</a></li>" for i in range(rng.randint(50, 300)))
        script = "<script>var x = '" + "a" * rng.randint(1000, 20000) + "';</script>"
        doc = (f"<div class=\"nav\"><ul>{nav}</ul></div>{script}<div>当前位置：首页 > 信息公开 > 年报</div>"
               f"<div class=\"content\">{doc}</div><div class=\"footer\">版权所有 网站地图 联系我们</div>")
    return f"<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>{title}</title></head><body>{doc}</body></html>"


def generate_report(rng: random.Random, index: int, form: str | None = None, layout: str | None = None,
                    script: str | None = None, encoding: str | None = None,
                    body: tuple[str, int, Truth] | None = None) -> Generated:
    """One report; unspecified choices are drawn (a third traditional, some legacy encodings).
    `body`: (organ, year, truth) fixed by the caller (province corpus), the form following
    the year."""
    if body is not None:
        form = "2019" if body[1] < 2021 else "2021"
    form = form or rng.choice(("2019", "2021", "2021"))
    spec = FORM_2019 if form == "2019" else FORM_2021
    layout = layout or rng.choice(LAYOUTS)
    script = script or ("traditional" if rng.random() < 1 / 3 else "simplified")
    if body is not None:
        organ, year, truth = body[0], body[1], dict(body[2])
    else:
        year = (rng.choice((2019, 2020)) if form == "2019" else rng.randint(2021, 2024))
        organ = rng.choice(PLACES) + rng.choice(DISTRICTS) + rng.choice(BODIES)
        truth = make_values(rng, spec)
    blanks: set = set()
    if layout in ("html", "webpage", "lines") and rng.random() < 0.3:
        blanks = {k for k, v in truth.items() if v == 0 and k[0] == "applications" and k[2] != "total" and rng.random() < 0.5}
    if layout in ("html", "webpage"):
        text = render_html(spec, truth, organ, year, blanks, layout == "webpage", rng)
        suffix = ".html"
    else:
        text = render_text(spec, truth, organ, year, layout, blanks, rng)
        suffix = ".txt"
    if script == "traditional":
        text = to_traditional(text)
    if encoding is None:
        encoding = rng.choice(("utf-8", "utf-8", "utf-8-sig", "utf-16", "gb18030") + (("big5",) if script == "traditional" else ()))
    try:
        data = text.encode(encoding)
    except UnicodeEncodeError:
        encoding = "gb18030"
        data = text.encode(encoding)
    if encoding == "utf-16" and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        data = b"\xff\xfe" + text.encode("utf-16-le")
    for key in blanks:
        truth[key] = None
    name = f"r{index:06d}_{form}_{layout}_{script[:4]}_{encoding.replace('-', '')}{suffix}"
    return Generated(name, data, truth, form, layout, script, encoding, organ, year)


def broken_file(rng: random.Random, index: int) -> Generated:
    kind = rng.choice(("pdf", "png", "binary"))
    data = {"pdf": b"%PDF-1.7\n" + rng.randbytes(500), "png": b"\x89PNG\r\n\x1a\n" + rng.randbytes(300), "binary": bytes([0, 1, 2, 0]) + rng.randbytes(300)}[kind]
    return Generated(f"broken{index:06d}.{ 'pdf' if kind == 'pdf' else 'bin'}", data, {}, "", kind, "", "", "", 0, broken=True)


def generate_corpus(n: int, seed: int = 0, broken_share: float = 0.01):
    """Yield n reports (a share of them broken files), deterministic for a seed."""
    rng = random.Random(seed)
    for i in range(n):
        if rng.random() < broken_share:
            yield broken_file(rng, i)
        else:
            yield generate_report(rng, i)


PROVINCE_BODIES = BODIES + (
    "发展和改革委员会", "公安局", "民政局", "人力资源和社会保障局", "农业农村局", "商务局", "文化广电旅游局", "应急管理局",
    "审计局", "市场监督管理局", "统计局", "医疗保障局", "水务局", "城市管理局", "退役军人事务局", "科学技术局",
    "工业和信息化局", "体育局", "信访局", "林业局",
)
PROVINCE_YEARS = tuple(range(2019, 2025))


@lru_cache(maxsize=None)
def _districts_of(city: str) -> tuple[str, ...]:
    """The city's districts (市辖区), from the gazetteer the organ resolver uses."""
    from pipeline.extract.organs import gazetteer

    g = gazetteer()
    (code,) = [c for c in g.names[city] if c.endswith("00")]
    return tuple(sorted(name for c, name in g.by_code.items() if c[:4] == code[:4] and c != code and name.endswith("区")))


def carry_over(spec: FormSpec, truth: Truth, last_year: Truth) -> Truth:
    """This year's values rolled on from last year's: each applicant column's carried_over_in
    is last year's carried_over_out (carry_over_continuity holds), new_received making up the
    difference; carried_over_out grows where the applications would go below zero. The 2021
    form's regulations and normative documents in force roll on too (normative_documents_stock)."""
    out = dict(truth)
    for col in (c.key for c in APPLICANT_COLUMNS):
        carried_in = last_year.get(("applications", "carried_over_out", col))
        if carried_in is None:
            return truth
        total, carried_out = out[("applications", "results_total", col)], out[("applications", "carried_over_out", col)]
        carried_out += max(Decimal(0), carried_in - total - carried_out)
        out[("applications", "carried_over_in", col)] = carried_in
        out[("applications", "carried_over_out", col)] = carried_out
        out[("applications", "new_received", col)] = total + carried_out - carried_in
    for row in ("carried_over_in", "carried_over_out", "new_received"):
        out[("applications", row, "total")] = sum((out[("applications", row, c.key)] for c in APPLICANT_COLUMNS), Decimal(0))
    for row in ("regulations", "normative_documents"):  # the 2021 form's stock: in force = last year's + issued − repealed
        stock = last_year.get(("active_disclosure", row, "in_force"))
        if stock is None or ("active_disclosure", row, "in_force") not in out:
            continue
        issued, repealed = out[("active_disclosure", row, "issued")], out[("active_disclosure", row, "repealed")]
        repealed = min(repealed, stock + issued)
        out[("active_disclosure", row, "repealed")] = repealed
        out[("active_disclosure", row, "in_force")] = stock + issued - repealed
    return out


def generate_province(n: int, seed: int = 0, broken_share: float = 0.01, second_source_share: float = 0.03):
    """Yield n files as a province's drop folder holds them: thousands of bodies (each city
    and its own districts, as the gazetteer lists them, times 30 departments: 3,630 bodies),
    each reporting once a year over
    consecutive years with its carried-over applications rolling on, a share of the reports
    arriving from a second source (the same report in another layout, file and encoding),
    and a share of broken files. Unlike generate_corpus, whose bodies and years are drawn
    independently (its 1,440 names give most bodies several different reports in one year),
    two files of one body and year here are one report, as in a real archive."""
    rng = random.Random(seed)
    bodies = [city + district + body for city in PLACES for district in ("", *_districts_of(city)) for body in PROVINCE_BODIES]
    rng.shuffle(bodies)
    produced = 0
    for organ in bodies:
        first = rng.choice(PROVINCE_YEARS[:3])
        last_year: Truth = {}
        for year in PROVINCE_YEARS[PROVINCE_YEARS.index(first):]:
            if produced >= n:
                return
            if rng.random() < broken_share:
                yield broken_file(rng, produced)
                produced += 1
                continue
            spec = FORM_2019 if year < 2021 else FORM_2021
            truth = carry_over(spec, make_values(rng, spec), last_year)
            last_year = truth
            copies = 2 if rng.random() < second_source_share else 1
            for _ in range(min(copies, n - produced)):
                yield generate_report(rng, produced, body=(organ, year, truth))
                produced += 1
    raise ValueError(f"a province corpus holds at most {produced} reports")


def generate_corpus_texts(n: int, seed: int = 0) -> list[str]:
    """Decoded texts of generated reports (for converter equivalence tests)."""
    from pipeline.read.decode import detect_and_decode

    return [detect_and_decode(g.data)[0] for g in generate_corpus(n, seed, broken_share=0)]


def write_corpus(folder: Path, n: int, seed: int = 0, broken_share: float = 0.01, province: bool = False) -> tuple[int, int]:
    """Write n generated files below folder (1,000 per sub-folder); returns (files, bytes).
    `province`: generate_province's bodies and years instead of generate_corpus's draws.
    The truth is not kept: tests that need it use generate_report directly."""
    folder.mkdir(parents=True, exist_ok=True)
    files = size = 0
    corpus = generate_province(n, seed, broken_share) if province else generate_corpus(n, seed, broken_share)
    for i, g in enumerate(corpus):
        sub = folder / f"batch{i // 1000:03d}"
        sub.mkdir(exist_ok=True)
        (sub / g.name).write_bytes(g.data)
        files += 1
        size += len(g.data)
    return files, size
