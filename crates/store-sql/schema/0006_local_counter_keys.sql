-- Keys that keep an import's writes local. An import or a form writes one organisation's
-- incidents; every index keyed first by the day lands each of them on a different page, and a
-- small transaction then writes (and syncs) one page per index per incident. The counters are
-- keyed by organisation and then day or month, which serves the cluster reports' member
-- lookups directly, and national reports read them organisation by organisation; the
-- incident lists filter and sort by occurred_at, so the two day indexes on incidents go; an
-- organisation's newest incidents are read in the lists' full order, and its shared ones
-- (what its cluster neighbours see) from an index of their own.

DROP INDEX incidents_organisation_day;
DROP INDEX incidents_day;
DROP INDEX incidents_organisation_recent;
CREATE INDEX incidents_organisation_recent ON incidents (organisation_id, occurred_at DESC, id);
CREATE INDEX incidents_shared_recent ON incidents (organisation_id, occurred_at DESC, id)
    WHERE shared;

CREATE TABLE incident_counters_by_day (
    organisation_id {uuid} NOT NULL,
    day {date} NOT NULL,
    commune_id {uuid} NOT NULL,
    category TEXT NOT NULL,
    outcome TEXT NOT NULL,
    month INTEGER NOT NULL,
    month_start {date} NOT NULL,
    month_end {date} NOT NULL,
    province_id {uuid},
    incidents {bigint} NOT NULL,
    people_prosecuted {bigint} NOT NULL,
    people_sanctioned {bigint} NOT NULL,
    deaths {bigint} NOT NULL,
    injured {bigint} NOT NULL,
    suspects {bigint} NOT NULL,
    victims {bigint} NOT NULL,
    damage_vnd {bigint} NOT NULL,
    PRIMARY KEY (organisation_id, day, commune_id, category, outcome)
) {clustered};
INSERT INTO incident_counters_by_day (organisation_id, day, commune_id, category, outcome,
    month, month_start, month_end, province_id, incidents, people_prosecuted,
    people_sanctioned, deaths, injured, suspects, victims, damage_vnd)
SELECT organisation_id, day, commune_id, category, outcome, month, month_start, month_end,
    province_id, incidents, people_prosecuted, people_sanctioned, deaths, injured, suspects,
    victims, damage_vnd
FROM incident_counters;
DROP TABLE incident_counters;
ALTER TABLE incident_counters_by_day RENAME TO incident_counters;

CREATE TABLE incident_counters_monthly_by_month (
    organisation_id {uuid} NOT NULL,
    month INTEGER NOT NULL,
    province_id {uuid} NOT NULL,
    category TEXT NOT NULL,
    outcome TEXT NOT NULL,
    month_start {date} NOT NULL,
    month_end {date} NOT NULL,
    incidents {bigint} NOT NULL,
    people_prosecuted {bigint} NOT NULL,
    people_sanctioned {bigint} NOT NULL,
    deaths {bigint} NOT NULL,
    injured {bigint} NOT NULL,
    suspects {bigint} NOT NULL,
    victims {bigint} NOT NULL,
    damage_vnd {bigint} NOT NULL,
    PRIMARY KEY (organisation_id, month, province_id, category, outcome)
) {clustered};
INSERT INTO incident_counters_monthly_by_month (organisation_id, month, province_id, category,
    outcome, month_start, month_end, incidents, people_prosecuted, people_sanctioned, deaths,
    injured, suspects, victims, damage_vnd)
SELECT organisation_id, month, province_id, category, outcome, month_start, month_end,
    incidents, people_prosecuted, people_sanctioned, deaths, injured, suspects, victims,
    damage_vnd
FROM incident_counters_monthly;
DROP TABLE incident_counters_monthly;
ALTER TABLE incident_counters_monthly_by_month RENAME TO incident_counters_monthly;
