-- Per unit, year, province, category and outcome, so that national figures by unit over whole
-- years read one range of rows. From the daily counters such a report read every row of every
-- year, since an index by day would cost a descent of the table for each row: a year by unit
-- took 0.23 s at 1M incidents and 1.4–2.1 s at 10M (42 s from a cold cache), 0.06–0.13 and
-- 0.08–0.11 s from here. The year leads the key. A year of the benchmark's country holds
-- 48,245 rows at 1M (the daily counters 99,455 for it, 1,009,881 in all) and 114,289 at 10M.
CREATE TABLE incident_counters_unit_yearly (
    year INTEGER NOT NULL,
    organisation_id {uuid} NOT NULL,
    province_id {uuid} NOT NULL,
    category TEXT NOT NULL,
    outcome TEXT NOT NULL,
    {measure_columns},
    PRIMARY KEY (year, organisation_id, province_id, category, outcome)
) {clustered};

INSERT INTO incident_counters_unit_yearly
SELECT month / 100, organisation_id, province_id, category, outcome, {measure_sums}
FROM incident_counters
GROUP BY month / 100, organisation_id, province_id, category, outcome;
