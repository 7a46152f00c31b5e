-- Per province and reporting month (the 15th to the 14th, see `domain::stats::reporting_month`),
-- so that a national report over police periods, which run from the 15th, reads at most
-- 34 × 16 × 3 rows a month. From the calendar rollups it read the days at either edge from
-- every organisation's daily counters: 81,636 rows for 15/12/2024–14/06/2025 at 10M incidents.
CREATE TABLE incident_counters_province_reporting (
    province_id {uuid} NOT NULL,
    category TEXT NOT NULL,
    outcome TEXT NOT NULL,
    -- yyyymm of the month the reporting month starts in.
    month INTEGER NOT NULL,
    incidents {bigint} NOT NULL,
    people_prosecuted {bigint} NOT NULL,
    people_sanctioned {bigint} NOT NULL,
    deaths {bigint} NOT NULL,
    injured {bigint} NOT NULL,
    suspects {bigint} NOT NULL,
    victims {bigint} NOT NULL,
    damage_vnd {bigint} NOT NULL,
    PRIMARY KEY (month, province_id, category, outcome)
) {clustered};

INSERT INTO incident_counters_province_reporting
SELECT province_id, category, outcome, reporting_month, SUM(incidents), SUM(people_prosecuted),
    SUM(people_sanctioned), SUM(deaths), SUM(injured), SUM(suspects), SUM(victims),
    SUM(damage_vnd)
FROM (
    SELECT k.*, CASE
        WHEN {day_of_month} >= 15 THEN k.month
        WHEN k.month % 100 = 1 THEN k.month - 89
        ELSE k.month - 1
    END AS reporting_month
    FROM incident_counters k
) days
GROUP BY province_id, category, outcome, reporting_month;
