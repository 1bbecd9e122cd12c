-- Work.Orleans on SQLite: the table of named queries Orleans' ADO.NET providers look up by key.
-- Safe to run on every start.
PRAGMA journal_mode = WAL;

CREATE TABLE IF NOT EXISTS OrleansQuery
(
    QueryKey  TEXT NOT NULL PRIMARY KEY,
    QueryText TEXT NOT NULL
);
