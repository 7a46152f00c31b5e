"""What-if on a COPY of a loaded SQLite benchmark database: the product's own read queries
(copied from crates/store-sql/src/{incidents,statistics}.rs) timed before and after the
changes bench/RESULTS.md recommends, without touching the product.

Usage: whatif_sqlite.py bench/work/sqlite-N/lienhoan.db
"""

import shutil
import sqlite3
import statistics
import sys
import tempfile
import time

MEASURES = ["incidents", "people_prosecuted", "people_sanctioned", "deaths", "injured",
            "suspects", "victims", "damage_vnd"]
SUMS = ", ".join(f"CAST(SUM(k.{m}) AS BIGINT) AS {m}" for m in MEASURES)

COLUMNS = """i.id, i.organisation_id, i.commune_id, i.place, i.latitude_e6, i.longitude_e6,
    i.occurred_at, i.reported_at, i.category, i.suspects, i.victims, i.deaths, i.injured,
    i.damage_vnd, i.narrative, i.status, i.outcome, i.outcome_people, i.cross_border, i.shared,
    i.created_at, i.updated_at, o.name AS organisation_name, c.kind AS commune_kind,
    c.name AS commune_name"""
FROM = """FROM incidents i
    JOIN organisations o ON o.id = i.organisation_id
    JOIN admin_units c ON c.id = i.commune_id"""
VISIBLE = """(?1 IS NULL OR i.organisation_id = ?1 OR (i.shared AND EXISTS (
    SELECT 1 FROM cluster_memberships mo
    JOIN cluster_memberships mv ON mv.cluster_id = mo.cluster_id
    WHERE mo.organisation_id = i.organisation_id AND mv.organisation_id = ?1
      AND mo.joined_on <= i.occurred_on AND (mo.left_on IS NULL OR mo.left_on > i.occurred_on)
      AND mv.joined_on <= i.occurred_on AND (mv.left_on IS NULL OR mv.left_on > i.occurred_on))))"""
FILTER = f"WHERE {VISIBLE} AND (?2 IS NULL OR i.search_text LIKE ?2 ESCAPE '\\')"


def timed(con, sql, args=(), runs=5):
    times = []
    rows = None
    for _ in range(runs):
        start = time.perf_counter()
        rows = con.execute(sql, args).fetchall()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), rows


def main():
    source = sys.argv[1]
    tmp = tempfile.mkdtemp(prefix="lienhoan-whatif-")
    path = f"{tmp}/copy.db"
    src = sqlite3.connect(source)
    dst = sqlite3.connect(path)
    src.backup(dst)
    src.close()
    con = dst
    officer = con.execute(
        "SELECT u.organisation_id FROM users u WHERE u.username = 'bench-officer-00'").fetchone()[0]
    n = con.execute("SELECT COUNT(*) FROM incidents").fetchone()[0]
    print(f"{n} incidents; times are medians of 5 runs, one connection, warm cache (ms)")

    national = f"""SELECT k.organisation_id, k.province_id, k.category, k.outcome, k.month, {SUMS}
        FROM incident_counters k WHERE k.day >= '2025-01-01' AND k.day <= '2025-12-31'
        GROUP BY k.organisation_id, k.province_id, k.category, k.outcome, k.month"""
    count = f"SELECT COUNT(*) AS n {FROM} {FILTER}"
    page = f"SELECT {COLUMNS} {FROM} {FILTER} ORDER BY i.occurred_at DESC, i.id LIMIT 50 OFFSET 0"
    before = {
        "national statistics (counter rows read)": timed(con, national),
        "list admin: COUNT(*)": timed(con, count, (None, None), 3),
        "list admin: first page": timed(con, page, (None, None), 3),
        "list officer: COUNT(*)": timed(con, count, (officer, None), 3),
        "list officer: first page": timed(con, page, (officer, None), 3),
        "search officer 'xe may': first page": timed(con, page, (officer, "%xe may%"), 3),
    }

    # The proposed changes.
    con.executescript(f"""
        CREATE TABLE counters_province_month AS
          SELECT province_id, category, outcome, month, {SUMS.replace('k.', '')}
          FROM incident_counters GROUP BY province_id, category, outcome, month;
        CREATE UNIQUE INDEX counters_province_month_key
          ON counters_province_month (month, province_id, category, outcome);
        CREATE INDEX incidents_occurred ON incidents (occurred_at DESC, id);
        CREATE INDEX incidents_organisation_occurred ON incidents (organisation_id, occurred_at DESC);
        ANALYZE;
    """)
    national_after = f"""SELECT province_id, category, outcome, month, {SUMS.replace('k.', '')}
        FROM counters_province_month WHERE month BETWEEN 202501 AND 202512
        GROUP BY province_id, category, outcome, month"""
    capped = "SELECT COUNT(*) FROM (SELECT 1 FROM incidents i LIMIT 10001)"
    # Visible to an officer: own incidents, plus shared ones of organisations that were in a
    # cluster with it on the day, found through the (few) co-memberships first.
    co_members = """SELECT mo.organisation_id AS org,
            MAX(mo.joined_on, mv.joined_on) AS from_day,
            CASE WHEN mo.left_on IS NULL THEN mv.left_on WHEN mv.left_on IS NULL THEN mo.left_on
                 ELSE MIN(mo.left_on, mv.left_on) END AS until_day
        FROM cluster_memberships mo JOIN cluster_memberships mv ON mv.cluster_id = mo.cluster_id
        WHERE mv.organisation_id = ?1 AND mo.organisation_id <> ?1"""
    officer_page = f"""SELECT * FROM (
          SELECT {COLUMNS} {FROM} WHERE i.organisation_id = ?1
            AND (?2 IS NULL OR i.search_text LIKE ?2 ESCAPE '\\')
          UNION
          SELECT {COLUMNS} {FROM} JOIN ({co_members}) m ON i.organisation_id = m.org
          WHERE i.shared AND i.occurred_on >= m.from_day
            AND (m.until_day IS NULL OR i.occurred_on < m.until_day)
            AND (?2 IS NULL OR i.search_text LIKE ?2 ESCAPE '\\'))
        ORDER BY occurred_at DESC, id LIMIT 50"""
    officer_count = f"""SELECT COUNT(*) FROM (
          SELECT i.id FROM incidents i WHERE i.organisation_id = ?1
          UNION
          SELECT i.id FROM incidents i JOIN ({co_members}) m ON i.organisation_id = m.org
          WHERE i.shared AND i.occurred_on >= m.from_day
            AND (m.until_day IS NULL OR i.occurred_on < m.until_day))"""
    after = {
        "national statistics (counter rows read)": timed(con, national_after),
        "list admin: COUNT(*)": timed(con, capped, (), 3),
        "list admin: first page": timed(con, page, (None, None), 3),
        "list officer: COUNT(*)": timed(con, officer_count, (officer,), 3),
        "list officer: first page": timed(con, officer_page, (officer, None), 3),
        "search officer 'xe may': first page": timed(con, officer_page, (officer, "%xe may%"), 3),
    }
    # The rewritten officer query must return the same page as the product's.
    same = [r[0] for r in before["list officer: first page"][1]] == \
        [r[0] for r in after["list officer: first page"][1]]
    same_search = [r[0] for r in before["search officer 'xe may': first page"][1]] == \
        [r[0] for r in after["search officer 'xe may': first page"][1]]
    same_count = before["list officer: COUNT(*)"][1] == after["list officer: COUNT(*)"][1]
    print(f"{'query':40} {'before':>10} {'rows':>7} {'after':>10} {'rows':>7}")
    for k in before:
        print(f"{k:40} {before[k][0]:10.2f} {len(before[k][1]):7} {after[k][0]:10.2f} {len(after[k][1]):7}")
    print(f"officer page identical: {same}; search page identical: {same_search}; count identical: {same_count}")
    con.close()
    shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
