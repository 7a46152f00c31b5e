-- How many statements have changed what an insert checks: the areas of organisations (their
-- admin units) and their cluster memberships. A server engine whose inserts take turns on a
-- shared connection reads an insert's check before its turn, on a connection of its own, and
-- keeps it if this count is unchanged at the turn (see `Engine::insert_after_check`). The
-- engine counts with triggers, so every writer counts, whatever its version or way in; SQLite
-- checks each insert on its one writing connection and needs no count.
CREATE TABLE checked_changes (
    id INTEGER PRIMARY KEY,
    made {bigint} NOT NULL
);
INSERT INTO checked_changes (id, made) VALUES (1, 0);
{count_checked_changes}
