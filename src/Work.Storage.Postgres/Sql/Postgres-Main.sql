-- Work.Orleans on PostgreSQL: the table of named queries that Orleans' ADO.NET providers (clustering, grain storage,
-- reminders) read when they start. Each provider finds its SQL here by key and binds fixed parameter names.
-- Every script in this folder is safe to run on every start: tables and indexes are created once, functions and
-- query texts are replaced. Apply them in the order Main, Clustering, Persistence, Reminders.

CREATE TABLE IF NOT EXISTS OrleansQuery
(
    QueryKey  varchar(64) NOT NULL,
    QueryText text        NOT NULL,
    CONSTRAINT PK_OrleansQuery PRIMARY KEY (QueryKey)
);
