-- Work.Orleans on PostgreSQL: item sources, the table queue jobs bound to a source read (JobDefinition.Receive).
-- Enqueue with the API, or with SQL: INSERT INTO work_items (source, args) VALUES ('emails', '{"to":"a@example.com"}');
-- A job claims the oldest visible items with FOR UPDATE SKIP LOCKED, makes them invisible while it holds them
-- (visible_at in the future, extended while they run), and acknowledges each (acked_at) once its execution's final
-- status is recorded. Acknowledged rows stay for a retention, holding their idempotency keys, then are purged. Items
-- past the retry policy, or delivered too often without an acknowledgement, move to work_dead_items.

CREATE TABLE IF NOT EXISTS work_items
(
    id              bigserial   PRIMARY KEY,
    source          text        NOT NULL,
    args            jsonb       NULL,
    idempotency_key text        NULL,
    enqueued_at     timestamptz NOT NULL DEFAULT now(),
    visible_at      timestamptz NOT NULL DEFAULT now(),
    deliveries      integer     NOT NULL DEFAULT 0,
    acked_at        timestamptz NULL
);

-- Claims walk a source's unacknowledged items oldest first.
CREATE INDEX IF NOT EXISTS work_items_open ON work_items (source, id) WHERE acked_at IS NULL;

-- A key is taken while its item is in the table (until purged after its acknowledgement).
CREATE UNIQUE INDEX IF NOT EXISTS work_items_key ON work_items (source, idempotency_key) WHERE idempotency_key IS NOT NULL;

-- Purges find acknowledged rows by age.
CREATE INDEX IF NOT EXISTS work_items_acked ON work_items (source, acked_at) WHERE acked_at IS NOT NULL;

CREATE TABLE IF NOT EXISTS work_dead_items
(
    id              bigint      PRIMARY KEY,
    source          text        NOT NULL,
    args            jsonb       NULL,
    idempotency_key text        NULL,
    enqueued_at     timestamptz NOT NULL,
    deliveries      integer     NOT NULL,
    dead_at         timestamptz NOT NULL,
    job             text        NULL,
    status          integer     NOT NULL,
    error           text        NULL
);

CREATE INDEX IF NOT EXISTS work_dead_items_source ON work_dead_items (source, dead_at);
