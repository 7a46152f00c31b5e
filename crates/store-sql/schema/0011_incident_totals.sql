-- Every organisation's figures over all time, one row each, kept with the other counters. A
-- list counts the incidents it shows only up to a cap; an officer's organisation has more
-- incidents than the cap within a few months, and counting them read as many index entries
-- as the cap for every page. This row says so without counting.
CREATE TABLE incident_totals (
    organisation_id {uuid} PRIMARY KEY,
    incidents {bigint} NOT NULL,
    people_prosecuted {bigint} NOT NULL,
    people_sanctioned {bigint} NOT NULL,
    deaths {bigint} NOT NULL,
    injured {bigint} NOT NULL,
    suspects {bigint} NOT NULL,
    victims {bigint} NOT NULL,
    damage_vnd {bigint} NOT NULL
) {clustered};

INSERT INTO incident_totals (organisation_id, incidents, people_prosecuted, people_sanctioned,
    deaths, injured, suspects, victims, damage_vnd)
SELECT organisation_id, SUM(incidents), SUM(people_prosecuted), SUM(people_sanctioned),
    SUM(deaths), SUM(injured), SUM(suspects), SUM(victims), SUM(damage_vnd)
FROM incident_counters
GROUP BY organisation_id;
