-- Information exchange between members, and the supervised-person register with its
-- movement notices. The register has no column for religion, ethnicity or political opinion.

CREATE TABLE messages (
    id {uuid} PRIMARY KEY,
    kind TEXT NOT NULL,
    cluster_id {uuid} NOT NULL REFERENCES clusters (id),
    sender_organisation_id {uuid} NOT NULL REFERENCES organisations (id),
    sender_user_id {uuid} NOT NULL REFERENCES users (id),
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    deadline {date},
    incident_id {uuid} REFERENCES incidents (id) ON DELETE SET NULL,
    created_at {instant} NOT NULL
);
CREATE INDEX messages_sender ON messages (sender_organisation_id, created_at);
CREATE INDEX messages_incident ON messages (incident_id);

CREATE TABLE message_recipients (
    message_id {uuid} NOT NULL REFERENCES messages (id),
    organisation_id {uuid} NOT NULL REFERENCES organisations (id),
    acknowledged_at {instant},
    acknowledged_by {uuid} REFERENCES users (id),
    answer TEXT,
    answered_at {instant},
    PRIMARY KEY (message_id, organisation_id)
);
CREATE INDEX message_recipients_organisation ON message_recipients (organisation_id);

CREATE TABLE message_reads (
    message_id {uuid} NOT NULL REFERENCES messages (id),
    user_id {uuid} NOT NULL REFERENCES users (id),
    read_at {instant} NOT NULL,
    PRIMARY KEY (message_id, user_id)
);

CREATE TABLE supervised_persons (
    id {uuid} PRIMARY KEY,
    organisation_id {uuid} NOT NULL REFERENCES organisations (id),
    full_name TEXT NOT NULL,
    birth_year INTEGER NOT NULL,
    identity_number TEXT,
    home_commune_id {uuid} NOT NULL REFERENCES admin_units (id),
    decision_type TEXT NOT NULL,
    decision_number TEXT NOT NULL,
    issuing_body TEXT NOT NULL,
    starts_on {date} NOT NULL,
    ends_on {date} NOT NULL,
    search_text TEXT NOT NULL,
    created_at {instant} NOT NULL
);
CREATE INDEX supervised_persons_organisation ON supervised_persons (organisation_id);
CREATE INDEX supervised_persons_ends ON supervised_persons (ends_on);

CREATE TABLE movement_notices (
    id {uuid} PRIMARY KEY,
    person_id {uuid} NOT NULL REFERENCES supervised_persons (id),
    from_organisation_id {uuid} NOT NULL REFERENCES organisations (id),
    to_organisation_id {uuid} NOT NULL REFERENCES organisations (id),
    moved_on {date} NOT NULL,
    destination TEXT NOT NULL,
    note TEXT NOT NULL,
    created_at {instant} NOT NULL,
    acknowledged_at {instant},
    acknowledged_by {uuid} REFERENCES users (id)
);
CREATE INDEX movement_notices_person ON movement_notices (person_id);
CREATE INDEX movement_notices_to ON movement_notices (to_organisation_id);
