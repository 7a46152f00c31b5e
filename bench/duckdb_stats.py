"""The same two statistics as the product, computed by DuckDB from the exported raw records.

Usage: duckdb_stats.py EXPORT_DIR CLUSTER_ID RUNS OUT.json

Reads EXPORT_DIR/incidents.csv and memberships.csv (written by lienhoan-bench while loading),
converts the incidents to Parquet once (not timed), then runs each query RUNS times over the
Parquet file and writes the figures and the timings as JSON.
"""

import json
import os
import sys
import time

import duckdb

MEASURES = (
    "incidents",
    "people_prosecuted",
    "people_sanctioned",
    "deaths",
    "injured",
    "suspects",
    "victims",
    "damage_vnd",
)

FIGURES = """
    count(*) AS incidents,
    sum(CASE WHEN i.outcome = 'prosecuted' THEN i.outcome_people ELSE 0 END) AS people_prosecuted,
    sum(CASE WHEN i.outcome = 'sanctioned' THEN i.outcome_people ELSE 0 END) AS people_sanctioned,
    sum(i.deaths) AS deaths,
    sum(i.injured) AS injured,
    sum(i.suspects) AS suspects,
    sum(i.victims) AS victims,
    sum(i.damage_vnd) AS damage_vnd
"""


def main():
    export, cluster, runs, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    con = duckdb.connect()
    incidents_csv = os.path.join(export, "incidents.csv")
    parquet = os.path.join(export, "incidents.parquet")
    con.execute(
        f"""COPY (SELECT * FROM read_csv('{incidents_csv}', header = true, columns = {{
            'organisation_id': 'VARCHAR', 'province_id': 'VARCHAR', 'category': 'VARCHAR',
            'outcome': 'VARCHAR', 'occurred_on': 'DATE', 'suspects': 'BIGINT',
            'victims': 'BIGINT', 'deaths': 'BIGINT', 'injured': 'BIGINT',
            'damage_vnd': 'BIGINT', 'outcome_people': 'BIGINT'}}))
        TO '{parquet}' (FORMAT parquet)"""
    )
    memberships_csv = os.path.join(export, "memberships.csv")
    con.execute(
        f"""CREATE TABLE memberships AS SELECT * FROM read_csv('{memberships_csv}',
            header = true, nullstr = '', columns = {{'cluster_id': 'VARCHAR',
            'organisation_id': 'VARCHAR', 'joined_on': 'DATE', 'left_on': 'DATE'}})"""
    )
    queries = {
        # Five-year review of one cluster: each member counted only while it was a member.
        "cluster": f"""
            SELECT split_part(i.category, '.', 1) AS k1, i.outcome AS k2, {FIGURES}
            FROM read_parquet('{parquet}') i
            JOIN memberships m ON m.organisation_id = i.organisation_id
              AND m.cluster_id = '{cluster}'
              AND i.occurred_on >= m.joined_on
              AND (m.left_on IS NULL OR i.occurred_on < m.left_on)
            WHERE i.occurred_on BETWEEN DATE '2021-01-01' AND DATE '2025-12-31'
            GROUP BY 1, 2""",
        # One year, the whole country, by province and category.
        "national": f"""
            SELECT i.province_id AS k1, i.category AS k2, {FIGURES}
            FROM read_parquet('{parquet}') i
            WHERE i.occurred_on BETWEEN DATE '2025-01-01' AND DATE '2025-12-31'
            GROUP BY 1, 2""",
    }
    result = {}
    for name, sql in queries.items():
        timings = []
        rows = None
        for _ in range(runs):
            start = time.perf_counter()
            rows = con.execute(sql).fetchall()
            timings.append((time.perf_counter() - start) * 1000.0)
        result[name] = {
            "rows": [
                {"keys": [r[0], r[1]], "figures": {m: int(v) for m, v in zip(MEASURES, r[2:])}}
                for r in rows
            ],
            "ms": timings,
        }
    result["duckdb_version"] = duckdb.__version__
    with open(out, "w") as f:
        json.dump(result, f)


if __name__ == "__main__":
    main()
