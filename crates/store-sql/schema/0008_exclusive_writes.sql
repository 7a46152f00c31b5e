-- How many exclusive writes (those that may change what an insert checks: areas, memberships)
-- have begun. A server engine whose inserts take turns on a shared connection checks an insert
-- before its turn, on a connection of its own, and keeps that check while this count is
-- unchanged at the turn (see `Engine::insert_after_check`). Only PostgreSQL counts; SQLite
-- runs every write on its one writing connection and checks there.
CREATE TABLE exclusive_writes (
    id INTEGER PRIMARY KEY,
    begun {bigint} NOT NULL
);
INSERT INTO exclusive_writes (id, begun) VALUES (1, 0);
