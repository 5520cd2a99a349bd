"""Every OCR'd digit is confirmed by the form or flagged — never a silent guess.

A cell read by OCR (``read/scan.py``) carries the engine's confidence, its digits with the
model's second choice, and whether its cell had ink that read as nothing. After the tables are
extracted as for any grid, each such cell is judged by the form's identities, the way
run-together digits are cut (``tables._resolve_units``):

* **confirmed** — an identity holds with every one of its cells present, and none it is in
  fails: kept, ``how = ocr``;
* **suspect** — not confirmed, and unsure (worst digit below ``SURE``), unread (ink, no
  reading), or in an identity that fails as read. Its readings are the one read, each digit
  swapped for a look-alike (3/8, 1/7, 0/6/9, and the model's own second choice), a lost
  leading digit (5 → 15 … 95) and a digit too many (85 → 5 or 8); an unread cell's readings are the values the identities imply
  for it. All suspects of a table are decided jointly (``splitting.solve_linear``): one
  reading satisfies every identity → taken, ``how = ocr, decided by <identity>`` (or ``ocr``
  when it is the reading OCR gave); several or none → ``unresolved`` with the candidates and
  why. When no joint reading exists (the printed table itself may not add up), only the unsure
  and unread cells are decided against the sure ones; sure cells keep their reading and the
  identity check reports the failure as for a PDF;
* **unconfirmed** — sure, but no identity covers it completely: kept, ``how = ocr``, and the
  note says so (a reviewer's flag).

Cells keep the engine's confidence and box (``Cell.ocr``) for the store and the reviewer.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from pipeline.extract.cells import Cell, TableResult
from pipeline.extract.splitting import solve_linear
from pipeline.form import FormSpec, TableSpec
from pipeline.identities import identities_of

SURE = 0.90  # a digit the engine gives less than this is a suspect unless an identity confirms it
LOOKALIKES = {"3": "8", "8": "3", "1": "7", "7": "1", "0": "69", "6": "09", "9": "06", "5": "6"}
MAX_READINGS = 40

Key = tuple[str, str]


def readings(text: str, digits: list | None = None) -> list[int]:
    """The readings a digit string could be, the read one first."""
    out = [text]
    for i, ch in enumerate(text):
        alts = set(LOOKALIKES.get(ch, ""))
        if digits and i < len(digits) and getattr(digits[i], "alt", None):
            alts.add(digits[i].alt)
        for a in sorted(alts):
            v = text[:i] + a + text[i + 1:]
            if len(v) == 1 or v[0] != "0":
                out.append(v)
    out += [d + text for d in "123456789"]
    if len(text) > 1:  # a digit too many: a speck or a seal's remains read as one (85 for 5)
        out += [v for i in range(len(text)) if (v := text[:i] + text[i + 1:]) and (len(v) == 1 or v[0] != "0")]
    seen: dict[int, None] = {}
    for v in out:
        seen.setdefault(int(v), None)
    return list(seen)[:MAX_READINGS]


def decide_ocr(spec: FormSpec, tables: dict[str, TableResult], ocr_of: Callable[[Cell], object | None]) -> None:
    """Judge every OCR'd cell of the tables in place (see the module docstring)."""
    for name, result in tables.items():
        cells = {(c.row_key, c.column_key): c for c in result.cells}
        ocr = {k: o for k, c in cells.items() if c.how == "read" and (o := ocr_of(c)) is not None}
        if not ocr:
            continue
        for k, o in ocr.items():
            cells[k].how = "ocr"
            cells[k].ocr = o
        _decide_table(spec.tables[name], cells, ocr, result.notes)


def _instances(table: TableSpec) -> list[tuple[str, list[tuple[Key, int]]]]:
    out = []
    for ident in identities_of(table):
        for loc, left, right in ident.instances:
            out.append((f"{ident.name} ({loc})" if loc else ident.name, [(c, 1) for c in left] + [(c, -1) for c in right]))
    return out


def _unsure(o) -> bool:
    return _unread(o) or (o.confidence < SURE)


def _unread(o) -> bool:
    """Ink that read as no number: nothing, or letters whose digits the engine hardly saw
    (``letters``): its value is what the identities imply, not a look-alike of those digits."""
    return o.unread or bool(getattr(o, "letters", ""))


def _decide_table(table: TableSpec, cells: dict[Key, Cell], ocr: dict[Key, object], notes: list[str]) -> None:
    def known(k: Key) -> bool:
        c = cells.get(k)
        return c is not None and c.value is not None and c.how in ("read", "split", "ocr") and not (k in ocr and _unread(ocr[k]))

    instances = [(name, terms) for name, terms in _instances(table) if all(k in cells for k, _ in terms)]
    holds = {i for i, (_, terms) in enumerate(instances)
             if all(known(k) for k, _ in terms) and sum(s * cells[k].value for k, s in terms) == 0}
    fails = {i for i, (_, terms) in enumerate(instances) if all(known(k) for k, _ in terms) and i not in holds}
    in_inst: dict[Key, list[int]] = {}
    for i, (_, terms) in enumerate(instances):
        for k, _ in terms:
            in_inst.setdefault(k, []).append(i)
    confirmed = {k for k in ocr if any(i in holds for i in in_inst.get(k, ())) and not any(i in fails for i in in_inst.get(k, ()))}
    suspects = [k for k in ocr if k not in confirmed and (_unsure(ocr[k]) or any(i in fails for i in in_inst.get(k, ())))]
    for k in ocr:
        if k not in confirmed and k not in suspects:
            o = ocr[k]
            cells[k].note = _join(cells[k].note, f"unconfirmed: no identity covers it with every cell read (confidence {o.confidence:.2f})")
    if not suspects:
        return
    decided = _solve(instances, cells, ocr, suspects, known)
    if decided is None:
        unsure = [k for k in suspects if _unsure(ocr[k])]
        decided = _solve(instances, cells, ocr, unsure, known) if unsure else {}
        for k in suspects:
            if k not in unsure:
                failing = [instances[i][0] for i in in_inst.get(k, ()) if i in fails]
                cells[k].note = _join(cells[k].note, f"{', '.join(failing)} fails as read; OCR was sure of this cell (confidence {ocr[k].confidence:.2f})")
        suspects = unsure
        decided = decided or {}
    for k in suspects:
        c, o = cells[k], ocr[k]
        values, why = decided.get(k, ([], "no identity has every other cell read, so none decides it"))
        letters = getattr(o, "letters", "")
        read = "nothing (ink, no reading)" if o.unread else f"'{letters}' (digits '{o.text}', confidence {o.confidence:.2f})" if letters else f"'{o.text}' (confidence {o.confidence:.2f})"
        if len(values) == 1:
            v = values[0]
            by = ", ".join(why)
            if letters and v == 0:
                # what read as no number, where the identities want 0: a 0 under a seal's
                # remains, or a blank cell with them — blank is not zero, so it stays blank, flagged
                c.value = None
                c.note = _join(c.note, f"unconfirmed: OCR read {read}; {by} imply 0 — a 0 or a blank")
            elif not o.unread and c.value is not None and Decimal(v) == c.value:
                c.note = _join(c.note, f"confirmed by {by}")
            elif o.unread and v == 0:
                # ink that reads as nothing, where the identities want 0: a lost 0, or a blank cell
                # with specks — blank is not zero, so it stays blank, and flagged
                c.value = None
                c.note = _join(c.note, f"unconfirmed: OCR read nothing in an inked cell; {by} imply 0 — a 0 or a blank")
            else:
                c.how = f"ocr, decided by {by}"
                c.note = _join(c.note, f"OCR read {read}; the identities leave {v}")
                c.value = Decimal(v)
        else:
            c.how = "unresolved"
            c.value = None
            c.candidates = [str(v) for v in values[:20]]
            c.note = _join(c.note, f"OCR read {read}; {why if isinstance(why, str) else 'several readings satisfy every identity'}")
            notes.append(f"{k[0]}.{k[1]}: OCR reading unresolved")


def _solve(instances, cells, ocr, suspects: list[Key], known) -> dict[Key, tuple[list[int], object]] | None:
    """Per suspect: (the values that survive every identity, the identities that decided it —
    or why nothing did). None when the suspects together admit no reading at all."""
    unknown = set(suspects)
    usable = [(name, terms) for name, terms in instances
              if any(k in unknown for k, _ in terms) and all(k in unknown or known(k) for k, _ in terms)]
    if not usable:
        return {}
    alts: dict[Key, list[int]] = {}
    for k in suspects:
        o = ocr[k]
        if _unread(o) or cells[k].value is None:
            implied = {int(-sum(s * cells[j].value for j, s in terms if j != k) * sign)
                       for _, terms in usable for j, sign in terms if j == k
                       and all(i == k or i not in unknown for i, _ in terms)}
            alts[k] = sorted(v for v in implied if v >= 0)
        elif cells[k].value != cells[k].value.to_integral() or cells[k].value < 0:
            alts[k] = []  # a decimal (万元): the identities add whole counts only
        else:
            alts[k] = readings(str(int(cells[k].value)), getattr(o, "digits", None))
    stuck = {k for k in suspects if not alts[k]}
    if stuck:  # an unread cell no identity fixes alone: it stays open, and the rest is decided without it
        rest = _solve(instances, cells, ocr, [k for k in suspects if k not in stuck], lambda k: known(k) and k not in stuck)
        if rest is None:
            return None
        return {**rest, **{k: ([], "no identity implies a value for it") for k in stuck}}
    const = [int(sum(s * cells[k].value for k, s in terms if k not in unknown)) for _, terms in usable]
    contributions = [[[sum(s * v for j, s in terms if j == k) for _, terms in usable] for v in alts[k]] for k in suspects]
    found, searched = solve_linear(const, contributions)
    if not searched:
        return _propagate(usable, cells, suspects, alts)
    if not found:
        return None
    out = {}
    for u, k in enumerate(suspects):
        values = sorted({alts[k][sol[u]] for sol in found})
        by = [name for name, terms in usable if any(j == k for j, _ in terms)][:2]
        out[k] = (values, by if len(values) == 1 else "several readings satisfy every identity")
    return out


def _propagate(usable, cells, suspects: list[Key], alts: dict[Key, list[int]]) -> dict[Key, tuple[list[int], object]] | None:
    """Too many readings to search jointly (a seal over a dozen cells): decide the suspects
    one identity at a time instead. An identity with one suspect left open and every other
    cell read or already decided forces that suspect's value; it is taken when it is among the
    suspect's readings, and the step repeats. Each value so taken is the only one any joint
    reading could give it. The suspects left open are searched jointly once the forced ones
    are fixed; every identity all of whose cells are then fixed must hold, or nothing is
    decided. None when a forced value is not among a suspect's readings (no joint reading)."""
    fixed: dict[Key, int] = {}
    by: dict[Key, str] = {}
    unknown = set(suspects)

    def value(j: Key):
        return fixed[j] if j in fixed else cells[j].value

    changed = True
    while changed:
        changed = False
        for name, terms in usable:
            open_ = {j for j, _ in terms if j in unknown and j not in fixed}
            if len(open_) != 1:
                continue
            (k,) = open_
            sign = sum(t for j, t in terms if j == k)
            rest = sum(t * value(j) for j, t in terms if j != k)
            if sign == 0 or rest % sign:
                return None
            v = int(-rest / sign)
            if v not in alts[k]:
                return None
            fixed[k], by[k], changed = v, name, True
    for name, terms in usable:
        if all(j not in unknown or j in fixed for j, _ in terms) and sum(t * value(j) for j, t in terms) != 0:
            return None
    out: dict[Key, tuple[list[int], object]] = {k: ([v], [by[k]]) for k, v in fixed.items()}
    left = [k for k in suspects if k not in fixed]
    if not left:
        return out
    rest_usable = [(name, terms) for name, terms in usable if any(j in left for j, _ in terms)]
    const = [int(sum(t * value(j) for j, t in terms if j not in left)) for _, terms in rest_usable]
    contributions = [[[sum(t * v for j, t in terms if j == k) for _, terms in rest_usable] for v in alts[k]] for k in left]
    found, searched = solve_linear(const, contributions)
    if not searched:
        return {**out, **{k: (alts[k], "too many readings to search") for k in left}}
    if not found:
        return None
    for u, k in enumerate(left):
        values = sorted({alts[k][sol[u]] for sol in found})
        names = [name for name, terms in rest_usable if any(j == k for j, _ in terms)][:2]
        out[k] = (values, names if len(values) == 1 else "several readings satisfy every identity")
    return out


def _join(a: str, b: str) -> str:
    return f"{a}; {b}" if a else b
