-- Per cluster, year, province, category and outcome, each member counting only for the days
-- it was a member, so that a review of whole years reads at most 16 × 3 rows per year and
-- province of the cluster, however many members and incidents it has. Every incident write
-- adds to it, and a membership's changed dates move the member's figures in or out.
CREATE TABLE cluster_counters_yearly (
    cluster_id {uuid} NOT NULL,
    year INTEGER NOT NULL,
    province_id {uuid} NOT NULL,
    category TEXT NOT NULL,
    outcome TEXT NOT NULL,
    incidents {bigint} NOT NULL,
    people_prosecuted {bigint} NOT NULL,
    people_sanctioned {bigint} NOT NULL,
    deaths {bigint} NOT NULL,
    injured {bigint} NOT NULL,
    suspects {bigint} NOT NULL,
    victims {bigint} NOT NULL,
    damage_vnd {bigint} NOT NULL,
    PRIMARY KEY (cluster_id, year, province_id, category, outcome)
) {clustered};

-- Daily rows written before the province was stored with them get it now, so that this
-- backfill and the later moves of a member's figures read the same key.
UPDATE incident_counters SET province_id = COALESCE((
    SELECT CASE WHEN p.level = 'province' THEN p.id ELSE g.id END
    FROM admin_units c
    LEFT JOIN admin_units p ON p.id = c.parent_id
    LEFT JOIN admin_units g ON g.id = p.parent_id
    WHERE c.id = incident_counters.commune_id), commune_id)
WHERE province_id IS NULL;

INSERT INTO cluster_counters_yearly (cluster_id, year, province_id, category, outcome,
    incidents, people_prosecuted, people_sanctioned, deaths, injured, suspects, victims,
    damage_vnd)
SELECT m.cluster_id, k.month / 100, k.province_id, k.category,
    k.outcome, SUM(k.incidents), SUM(k.people_prosecuted), SUM(k.people_sanctioned),
    SUM(k.deaths), SUM(k.injured), SUM(k.suspects), SUM(k.victims), SUM(k.damage_vnd)
FROM cluster_memberships m
JOIN incident_counters k ON k.organisation_id = m.organisation_id AND k.day >= m.joined_on
    AND (m.left_on IS NULL OR k.day < m.left_on)
GROUP BY m.cluster_id, k.month / 100, k.province_id, k.category, k.outcome;
