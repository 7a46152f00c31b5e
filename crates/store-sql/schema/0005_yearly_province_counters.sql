-- Per province and year, so a national report over whole years reads at most
-- 34 × 16 × 3 rows a year, however many incidents there are.
CREATE TABLE incident_counters_province_yearly (
    province_id {uuid} NOT NULL,
    category TEXT NOT NULL,
    outcome TEXT NOT NULL,
    year INTEGER NOT NULL,
    incidents {bigint} NOT NULL,
    people_prosecuted {bigint} NOT NULL,
    people_sanctioned {bigint} NOT NULL,
    deaths {bigint} NOT NULL,
    injured {bigint} NOT NULL,
    suspects {bigint} NOT NULL,
    victims {bigint} NOT NULL,
    damage_vnd {bigint} NOT NULL,
    PRIMARY KEY (year, province_id, category, outcome)
) {clustered};

INSERT INTO incident_counters_province_yearly
SELECT province_id, category, outcome, month / 100, SUM(incidents), SUM(people_prosecuted),
    SUM(people_sanctioned), SUM(deaths), SUM(injured), SUM(suspects), SUM(victims),
    SUM(damage_vnd)
FROM incident_counters_province
GROUP BY province_id, category, outcome, month / 100;
