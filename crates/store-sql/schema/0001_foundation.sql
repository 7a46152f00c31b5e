-- Geography, organisations, clusters, accounts, sessions and the audit chain.
-- {uuid}, {date}, {instant}, {bool}, {bytes} and {bigint} are filled in by each engine.

CREATE TABLE admin_units (
    id {uuid} PRIMARY KEY,
    dataset TEXT NOT NULL,
    level TEXT NOT NULL,
    code TEXT NOT NULL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    parent_id {uuid} REFERENCES admin_units (id),
    valid_from {date},
    valid_to {date},
    aliases TEXT NOT NULL DEFAULT '',
    search_text TEXT NOT NULL,
    sort_key {bytes} NOT NULL,
    UNIQUE (dataset, code)
);
CREATE INDEX admin_units_parent ON admin_units (parent_id);
CREATE INDEX admin_units_level ON admin_units (dataset, level, sort_key);

CREATE TABLE admin_unit_successions (
    predecessor_id {uuid} NOT NULL REFERENCES admin_units (id),
    successor_id {uuid} NOT NULL REFERENCES admin_units (id),
    PRIMARY KEY (predecessor_id, successor_id)
);
CREATE INDEX admin_unit_successions_successor ON admin_unit_successions (successor_id);

CREATE TABLE organisations (
    id {uuid} PRIMARY KEY,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    admin_unit_id {uuid} NOT NULL REFERENCES admin_units (id),
    search_text TEXT NOT NULL,
    sort_key {bytes} NOT NULL,
    created_at {instant} NOT NULL
);
CREATE INDEX organisations_sort ON organisations (sort_key);
CREATE INDEX organisations_unit ON organisations (admin_unit_id);

CREATE TABLE clusters (
    id {uuid} PRIMARY KEY,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    founded_on {date} NOT NULL,
    description TEXT NOT NULL,
    sort_key {bytes} NOT NULL,
    created_at {instant} NOT NULL
);

CREATE TABLE cluster_memberships (
    id {uuid} PRIMARY KEY,
    cluster_id {uuid} NOT NULL REFERENCES clusters (id),
    organisation_id {uuid} NOT NULL REFERENCES organisations (id),
    joined_on {date} NOT NULL,
    left_on {date},
    note TEXT NOT NULL
);
CREATE INDEX cluster_memberships_cluster ON cluster_memberships (cluster_id, joined_on);
CREATE INDEX cluster_memberships_organisation ON cluster_memberships (organisation_id);

CREATE TABLE cluster_board_members (
    id {uuid} PRIMARY KEY,
    cluster_id {uuid} NOT NULL REFERENCES clusters (id),
    person_name TEXT NOT NULL,
    title TEXT NOT NULL,
    role TEXT NOT NULL,
    organisation_id {uuid} NOT NULL REFERENCES organisations (id)
);
CREATE INDEX cluster_board_members_cluster ON cluster_board_members (cluster_id);

CREATE TABLE cluster_rotation_turns (
    id {uuid} PRIMARY KEY,
    cluster_id {uuid} NOT NULL REFERENCES clusters (id),
    organisation_id {uuid} NOT NULL REFERENCES organisations (id),
    starts_on {date} NOT NULL,
    ends_on {date} NOT NULL
);
CREATE INDEX cluster_rotation_turns_cluster ON cluster_rotation_turns (cluster_id, starts_on);

CREATE TABLE cluster_regulations (
    id {uuid} PRIMARY KEY,
    cluster_id {uuid} NOT NULL REFERENCES clusters (id),
    version INTEGER NOT NULL,
    title TEXT NOT NULL,
    signed_on {date} NOT NULL,
    signatories TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at {instant} NOT NULL,
    UNIQUE (cluster_id, version)
);

CREATE TABLE users (
    id {uuid} PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    organisation_id {uuid} REFERENCES organisations (id),
    role TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    disabled {bool} NOT NULL,
    created_at {instant} NOT NULL
);
CREATE INDEX users_organisation ON users (organisation_id);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id {uuid} NOT NULL REFERENCES users (id),
    created_at {instant} NOT NULL,
    expires_at {instant} NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE login_failures (
    id {uuid} PRIMARY KEY,
    username TEXT NOT NULL,
    address TEXT NOT NULL,
    at {instant} NOT NULL
);
CREATE INDEX login_failures_username ON login_failures (username, at);
CREATE INDEX login_failures_address ON login_failures (address, at);

CREATE TABLE audit_log (
    seq {bigint} PRIMARY KEY,
    id {uuid} NOT NULL,
    at {instant} NOT NULL,
    actor_id {uuid},
    actor_name TEXT NOT NULL,
    action TEXT NOT NULL,
    target_kind TEXT NOT NULL,
    target_id {uuid},
    summary TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX audit_log_target ON audit_log (target_id);
CREATE INDEX audit_log_at ON audit_log (at);

-- The newest entry of the chain. Every append updates this one row first, which serialises
-- appends on every engine and lets verification notice entries cut off the end.
CREATE TABLE audit_head (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    seq {bigint} NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');
