-- What migration 0009 did for SQLite, for the engines whose index entries cannot hold a whole
-- narrative (PostgreSQL: 2,704 bytes at most). A copy of the folded text is kept when it is
-- short enough for an index entry, and the indexes of an organisation's newest incidents
-- carry it: a search tests that copy from the index, and reads the row only for the few
-- incidents whose text is longer. See `TypeNames::short_search_text_indexes` and
-- `TypeNames::searched_text`.

{short_search_text_indexes}
