-- A search reads an organisation's incidents newest first, as every list does, and keeps those
-- whose folded text holds the words, counting up to the cap. Each index entry it passed led to
-- the row, to test its text: at 10M a search visited some 5,000 rows. Where the engine's index
-- entries can hold the text (SQLite), the indexes of an organisation's newest incidents end
-- their key with it, and a search reads the index alone. PostgreSQL keeps them as they were:
-- an index entry there holds at most 2,704 bytes, and a place and narrative may run to 20,200
-- characters. See `TypeNames::search_text_indexes`.

{search_text_indexes}
