-- Incidents and the counters that statistics read. Counters are updated in the same
-- transaction as every incident insert, edit and delete; reports never scan incidents.

CREATE TABLE incidents (
    id {uuid} PRIMARY KEY,
    organisation_id {uuid} NOT NULL REFERENCES organisations (id),
    commune_id {uuid} NOT NULL REFERENCES admin_units (id),
    place TEXT NOT NULL,
    -- Micro-degrees, so both engines store coordinates exactly.
    latitude_e6 {bigint},
    longitude_e6 {bigint},
    occurred_at {instant} NOT NULL,
    -- The Vietnamese calendar day of occurred_at, for periods and cluster membership.
    occurred_on {date} NOT NULL,
    reported_at {instant} NOT NULL,
    category TEXT NOT NULL,
    suspects {bigint} NOT NULL,
    victims {bigint} NOT NULL,
    deaths {bigint} NOT NULL,
    injured {bigint} NOT NULL,
    damage_vnd {bigint} NOT NULL,
    narrative TEXT NOT NULL,
    status TEXT NOT NULL,
    outcome TEXT NOT NULL,
    outcome_people {bigint} NOT NULL,
    cross_border {bool} NOT NULL,
    shared {bool} NOT NULL,
    search_text TEXT NOT NULL,
    created_at {instant} NOT NULL,
    updated_at {instant} NOT NULL
);
CREATE INDEX incidents_organisation_day ON incidents (organisation_id, occurred_on);
CREATE INDEX incidents_day ON incidents (occurred_on);

CREATE TABLE incident_counters (
    organisation_id {uuid} NOT NULL,
    commune_id {uuid} NOT NULL,
    category TEXT NOT NULL,
    outcome TEXT NOT NULL,
    day {date} NOT NULL,
    -- yyyymm of day, so reports group by month and year without engine date functions.
    month INTEGER NOT NULL,
    -- The commune's province, so national reports group by province without walking the map.
    province_id {uuid},
    incidents {bigint} NOT NULL,
    people_prosecuted {bigint} NOT NULL,
    people_sanctioned {bigint} NOT NULL,
    deaths {bigint} NOT NULL,
    injured {bigint} NOT NULL,
    suspects {bigint} NOT NULL,
    victims {bigint} NOT NULL,
    damage_vnd {bigint} NOT NULL,
    PRIMARY KEY (organisation_id, commune_id, category, outcome, day)
);
CREATE INDEX incident_counters_organisation_day ON incident_counters (organisation_id, day);
CREATE INDEX incident_counters_day ON incident_counters (day);
