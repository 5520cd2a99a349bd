"""A short text summary of the store: reports by form and status, failing checks."""

from __future__ import annotations

from pipeline.store.db import connect


def store_summary(db_path) -> str:
    con = connect(db_path, read_only=True)
    try:
        lines = []
        total = con.execute("SELECT count(*) FROM reports").fetchone()[0]
        forms = con.execute("SELECT coalesce(form, 'unreadable'), count(*) FROM reports GROUP BY ALL ORDER BY 1").fetchall()
        status = con.execute("SELECT status, count(*) FROM reports GROUP BY ALL ORDER BY 1").fetchall()
        lines.append(f"reports: {total} ({', '.join(f'{f}: {n}' for f, n in forms)}; {', '.join(f'{s}: {n}' for s, n in status)})")
        failing = con.execute(
            "SELECT check_name, severity, count(*) FROM failing_checks WHERE NOT waived GROUP BY ALL ORDER BY 1, 2"
        ).fetchall()
        waived = con.execute("SELECT count(*) FROM failing_checks WHERE waived").fetchone()[0]
        queue = con.execute("SELECT count(*) FROM review_queue").fetchone()[0]
        lines.append(f"failing checks: {sum(n for *_, n in failing)} in all"
                     + (f" (and {waived} waived)" if waived else "")
                     + f"; reports with a failing error-level check: {queue} (SELECT * FROM review_queue)")
        for name, sev, n in failing:
            lines.append(f"  {name:<28} {sev:<5} {n}")
        return "\n".join(lines)
    finally:
        con.close()
