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
-- Lists show the newest first: these let a page stop after its rows instead of sorting all.
CREATE INDEX incidents_recent ON incidents (occurred_at DESC, id);
CREATE INDEX incidents_organisation_recent ON incidents (organisation_id, occurred_at DESC);

CREATE TABLE incident_counters (
    organisation_id {uuid} NOT NULL,
    commune_id {uuid} NOT NULL,
    category TEXT NOT NULL,
    outcome TEXT NOT NULL,
    day {date} NOT NULL,
    -- yyyymm of day and the month's first and last days, so reports group by month and tell
    -- whole months from partial ones without engine date functions.
    month INTEGER NOT NULL,
    month_start {date} NOT NULL,
    month_end {date} NOT NULL,
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

-- The same figures summed per month, so a report over years reads a few rows per month:
-- whole months come from here, only the edges of the range from the daily counters.
CREATE TABLE incident_counters_monthly (
    organisation_id {uuid} NOT NULL,
    province_id {uuid} NOT NULL,
    category TEXT NOT NULL,
    outcome TEXT NOT NULL,
    month INTEGER NOT NULL,
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
    PRIMARY KEY (organisation_id, province_id, category, outcome, month)
);
CREATE INDEX incident_counters_monthly_month ON incident_counters_monthly (month_start);

-- Per province, without the organisation: national reports stay small whatever the data.
CREATE TABLE incident_counters_province (
    province_id {uuid} NOT NULL,
    category TEXT NOT NULL,
    outcome TEXT NOT NULL,
    month INTEGER NOT NULL,
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
    -- Month first: a national report reads a range of months.
    PRIMARY KEY (month, province_id, category, outcome)
);
