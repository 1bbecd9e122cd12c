-- Work.Orleans on SQLite: item sources, the table queue jobs bound to a source read (JobDefinition.Receive). Times
-- are milliseconds since 1970-01-01 UTC. Enqueue with the API, or with SQL:
--   INSERT INTO work_items (source, args) VALUES ('emails', '{"to":"a@example.com"}');
-- A job claims the oldest visible items, makes them invisible while it holds them (visible_at in the future, extended
-- while they run), and acknowledges each (acked_at) once its execution's final status is recorded. Acknowledged rows
-- stay for a retention, holding their idempotency keys, then are purged. Items past the retry policy, or delivered too
-- often without an acknowledgement, move to work_dead_items. Safe to run on every start.

CREATE TABLE IF NOT EXISTS work_items
(
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    source          TEXT    NOT NULL,
    args            TEXT    NULL,
    idempotency_key TEXT    NULL,
    enqueued_at     INTEGER NOT NULL DEFAULT (CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)),
    visible_at      INTEGER NOT NULL DEFAULT (CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)),
    deliveries      INTEGER NOT NULL DEFAULT 0,
    acked_at        INTEGER NULL
);

CREATE INDEX IF NOT EXISTS work_items_open ON work_items (source, id) WHERE acked_at IS NULL;
CREATE UNIQUE INDEX IF NOT EXISTS work_items_key ON work_items (source, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX IF NOT EXISTS work_items_acked ON work_items (source, acked_at) WHERE acked_at IS NOT NULL;

CREATE TABLE IF NOT EXISTS work_dead_items
(
    id              INTEGER PRIMARY KEY,
    source          TEXT    NOT NULL,
    args            TEXT    NULL,
    idempotency_key TEXT    NULL,
    enqueued_at     INTEGER NOT NULL,
    deliveries      INTEGER NOT NULL,
    dead_at         INTEGER NOT NULL,
    job             TEXT    NULL,
    status          INTEGER NOT NULL,
    error           TEXT    NULL
);

CREATE INDEX IF NOT EXISTS work_dead_items_source ON work_dead_items (source, dead_at);
