-- A search reads an organisation's incidents newest first, as every list does, and keeps those
-- whose folded text holds the words, counting up to the cap. Each index entry it passed led to
-- the row, to test its text: at 10M a search visited some 5,000 rows. With the text carried in
-- the index, it reads the index alone: PostgreSQL carries it outside the key (INCLUDE); SQLite
-- has no such clause and puts it at the end of the key, past the columns that order it (see
-- `TypeNames::include`).

DROP INDEX incidents_organisation_recent;
DROP INDEX incidents_shared_recent;
CREATE INDEX incidents_organisation_recent
    ON incidents (organisation_id, occurred_at DESC, id{include}search_text);
CREATE INDEX incidents_shared_recent
    ON incidents (organisation_id, occurred_at DESC, id{include}search_text) WHERE shared;
