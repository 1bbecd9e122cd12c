-- Work.Orleans on PostgreSQL: the queues of Orleans' ADO.NET stream provider (Microsoft.Orleans.Streaming.AdoNet),
-- which AddWorkPostgresStreams uses for jobs' streams (WorkStreams). The provider runs the OrleansQuery rows below.
-- A message is one batch of stream events. A reader takes the oldest visible messages of its queue with
-- FOR UPDATE SKIP LOCKED, counts the delivery (dequeued) and hides them for the visibility timeout; once every consumer
-- has had them, the reader deletes them with the delivery count it read as the receipt (a stale receipt deletes
-- nothing). A delivery that failed makes the message visible again, or past the attempts moves it to the dead letters;
-- so do reads that find messages delivered too often or past their expiry. Dead letters are removed after a while.

CREATE SEQUENCE IF NOT EXISTS work_stream_message_ids;

CREATE TABLE IF NOT EXISTS work_stream_messages
(
    service_id  varchar(150) NOT NULL,
    provider_id varchar(150) NOT NULL,
    queue_id    varchar(150) NOT NULL,
    message_id  bigint       NOT NULL DEFAULT nextval('work_stream_message_ids'),
    dequeued    integer      NOT NULL DEFAULT 0,
    visible_on  timestamptz  NOT NULL,
    expires_on  timestamptz  NOT NULL,
    created_on  timestamptz  NOT NULL,
    modified_on timestamptz  NOT NULL,
    payload     bytea        NULL,
    CONSTRAINT work_stream_messages_pk PRIMARY KEY (service_id, provider_id, queue_id, message_id)
);

CREATE TABLE IF NOT EXISTS work_stream_dead_letters
(
    service_id  varchar(150) NOT NULL,
    provider_id varchar(150) NOT NULL,
    queue_id    varchar(150) NOT NULL,
    message_id  bigint       NOT NULL,
    dequeued    integer      NOT NULL,
    visible_on  timestamptz  NOT NULL,
    expires_on  timestamptz  NOT NULL,
    created_on  timestamptz  NOT NULL,
    modified_on timestamptz  NOT NULL,
    dead_on     timestamptz  NOT NULL,
    remove_on   timestamptz  NOT NULL,
    payload     bytea        NULL,
    CONSTRAINT work_stream_dead_letters_pk PRIMARY KEY (service_id, provider_id, queue_id, message_id)
);

-- When each queue's next clean-up is due: the reader that moves it forward does the clean-up.
CREATE TABLE IF NOT EXISTS work_stream_cleanups
(
    service_id  varchar(150) NOT NULL,
    provider_id varchar(150) NOT NULL,
    queue_id    varchar(150) NOT NULL,
    due_on      timestamptz  NOT NULL,
    CONSTRAINT work_stream_cleanups_pk PRIMARY KEY (service_id, provider_id, queue_id)
);

-- Moves up to p_count messages of a queue that can no longer be delivered (delivered p_attempts times and hidden no
-- more, or past their expiry) to the dead letters, to be removed p_keep seconds later.
CREATE OR REPLACE FUNCTION work_stream_bury(p_service text, p_provider text, p_queue text, p_count integer, p_attempts integer, p_keep integer)
RETURNS integer LANGUAGE sql AS $f$
    WITH doomed AS (
        SELECT message_id FROM work_stream_messages
        WHERE service_id = p_service AND provider_id = p_provider AND queue_id = p_queue
          AND ((dequeued >= p_attempts AND visible_on <= now()) OR expires_on <= now())
        ORDER BY message_id
        LIMIT p_count
        FOR UPDATE SKIP LOCKED
    ), gone AS (
        DELETE FROM work_stream_messages m USING doomed d
        WHERE m.service_id = p_service AND m.provider_id = p_provider AND m.queue_id = p_queue AND m.message_id = d.message_id
        RETURNING m.*
    ), buried AS (
        INSERT INTO work_stream_dead_letters
            (service_id, provider_id, queue_id, message_id, dequeued, visible_on, expires_on, created_on, modified_on, dead_on, remove_on, payload)
        SELECT service_id, provider_id, queue_id, message_id, dequeued, visible_on, expires_on, created_on, modified_on,
               now(), now() + p_keep * interval '1 second', payload
        FROM gone
        ON CONFLICT ON CONSTRAINT work_stream_dead_letters_pk DO NOTHING
        RETURNING 1
    )
    SELECT count(*)::integer FROM buried;
$f$;

-- Removes up to p_count dead letters of a queue whose time is up.
CREATE OR REPLACE FUNCTION work_stream_forget(p_service text, p_provider text, p_queue text, p_count integer)
RETURNS integer LANGUAGE sql AS $f$
    WITH old AS (
        SELECT message_id FROM work_stream_dead_letters
        WHERE service_id = p_service AND provider_id = p_provider AND queue_id = p_queue AND remove_on <= now()
        ORDER BY message_id
        LIMIT p_count
        FOR UPDATE SKIP LOCKED
    ), gone AS (
        DELETE FROM work_stream_dead_letters l USING old o
        WHERE l.service_id = p_service AND l.provider_id = p_provider AND l.queue_id = p_queue AND l.message_id = o.message_id
        RETURNING 1
    )
    SELECT count(*)::integer FROM gone;
$f$;

-- A read: the queue's clean-up when it is due (one reader moves the due time forward and does it), then up to
-- p_count of the oldest visible messages, each counted as delivered once more and hidden for p_visibility seconds.
CREATE OR REPLACE FUNCTION work_stream_read(
    p_service text, p_provider text, p_queue text, p_count integer, p_attempts integer, p_visibility integer,
    p_keep integer, p_cleanup_every integer, p_cleanup_count integer)
RETURNS TABLE (ServiceId varchar, ProviderId varchar, QueueId varchar, MessageId bigint, Dequeued integer,
               VisibleOn timestamptz, ExpiresOn timestamptz, CreatedOn timestamptz, ModifiedOn timestamptz, Payload bytea)
LANGUAGE plpgsql AS $f$
BEGIN
    UPDATE work_stream_cleanups c SET due_on = now() + p_cleanup_every * interval '1 second'
    WHERE c.service_id = p_service AND c.provider_id = p_provider AND c.queue_id = p_queue AND c.due_on <= now();
    IF FOUND THEN
        PERFORM work_stream_bury(p_service, p_provider, p_queue, p_cleanup_count, p_attempts, p_keep);
        PERFORM work_stream_forget(p_service, p_provider, p_queue, p_cleanup_count);
    ELSE
        INSERT INTO work_stream_cleanups (service_id, provider_id, queue_id, due_on)
        VALUES (p_service, p_provider, p_queue, now() + p_cleanup_every * interval '1 second')
        ON CONFLICT ON CONSTRAINT work_stream_cleanups_pk DO NOTHING;
    END IF;

    RETURN QUERY
    WITH next AS (
        SELECT m.message_id FROM work_stream_messages m
        WHERE m.service_id = p_service AND m.provider_id = p_provider AND m.queue_id = p_queue
          AND m.visible_on <= now() AND m.dequeued < p_attempts AND m.expires_on > now()
        ORDER BY m.message_id
        LIMIT p_count
        FOR UPDATE SKIP LOCKED
    )
    UPDATE work_stream_messages m
    SET dequeued = m.dequeued + 1, visible_on = now() + p_visibility * interval '1 second', modified_on = now()
    FROM next n
    WHERE m.service_id = p_service AND m.provider_id = p_provider AND m.queue_id = p_queue AND m.message_id = n.message_id
    RETURNING m.service_id, m.provider_id, m.queue_id, m.message_id, m.dequeued, m.visible_on, m.expires_on,
              m.created_on, m.modified_on, m.payload;
END;
$f$;

INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES
-- Adds a message, visible at once, and returns its id.
('QueueStreamMessageKey', $q$
    INSERT INTO work_stream_messages (service_id, provider_id, queue_id, visible_on, expires_on, created_on, modified_on, payload)
    VALUES (@ServiceId, @ProviderId, @QueueId, now(), now() + @ExpiryTimeout * interval '1 second', now(), now(), @Payload)
    RETURNING service_id AS ServiceId, provider_id AS ProviderId, queue_id AS QueueId, message_id AS MessageId;
$q$),
('GetStreamMessagesKey', $q$
    SELECT * FROM work_stream_read(@ServiceId, @ProviderId, @QueueId, @MaxCount, @MaxAttempts, @VisibilityTimeout,
                                   @RemovalTimeout, @EvictionInterval, @EvictionBatchSize);
$q$),
-- @Items is "id:receipt|id:receipt|...": a positive receipt (the delivery count read) deletes the message, a negative
-- one makes it visible again at once (a reader letting go of what it read); either only if nobody read it since.
('ConfirmStreamMessagesKey', $q$
    WITH receipts AS (
        SELECT split_part(r, ':', 1)::bigint AS message_id, split_part(r, ':', 2)::integer AS receipt
        FROM unnest(string_to_array(@Items, '|')) AS r
    ), confirmed AS (
        DELETE FROM work_stream_messages m USING receipts r
        WHERE m.service_id = @ServiceId AND m.provider_id = @ProviderId AND m.queue_id = @QueueId
          AND m.message_id = r.message_id AND r.receipt > 0 AND m.dequeued = r.receipt
        RETURNING m.service_id, m.provider_id, m.queue_id, m.message_id
    ), released AS (
        UPDATE work_stream_messages m SET visible_on = now(), modified_on = now()
        FROM receipts r
        WHERE m.service_id = @ServiceId AND m.provider_id = @ProviderId AND m.queue_id = @QueueId
          AND m.message_id = r.message_id AND r.receipt < 0 AND m.dequeued = -r.receipt
        RETURNING m.service_id, m.provider_id, m.queue_id, m.message_id
    )
    SELECT service_id AS ServiceId, provider_id AS ProviderId, queue_id AS QueueId, message_id AS MessageId FROM confirmed
    UNION ALL
    SELECT service_id, provider_id, queue_id, message_id FROM released;
$q$),
-- A delivery failed: visible again at once, or to the dead letters once delivered @MaxAttempts times.
('FailStreamMessageKey', $q$
    WITH again AS (
        UPDATE work_stream_messages SET visible_on = now(), modified_on = now()
        WHERE service_id = @ServiceId AND provider_id = @ProviderId AND queue_id = @QueueId
          AND message_id = @MessageId AND dequeued < @MaxAttempts
        RETURNING 1
    ), gone AS (
        DELETE FROM work_stream_messages
        WHERE service_id = @ServiceId AND provider_id = @ProviderId AND queue_id = @QueueId
          AND message_id = @MessageId AND dequeued >= @MaxAttempts
        RETURNING *
    )
    INSERT INTO work_stream_dead_letters
        (service_id, provider_id, queue_id, message_id, dequeued, visible_on, expires_on, created_on, modified_on, dead_on, remove_on, payload)
    SELECT service_id, provider_id, queue_id, message_id, dequeued, visible_on, expires_on, created_on, modified_on,
           now(), now() + @RemovalTimeout * interval '1 second', payload
    FROM gone
    ON CONFLICT ON CONSTRAINT work_stream_dead_letters_pk DO NOTHING;
$q$),
('EvictStreamMessagesKey', $q$
    SELECT work_stream_bury(@ServiceId, @ProviderId, @QueueId, @MaxCount, @MaxAttempts, @RemovalTimeout);
$q$),
('EvictStreamDeadLettersKey', $q$
    SELECT work_stream_forget(@ServiceId, @ProviderId, @QueueId, @MaxCount);
$q$)
ON CONFLICT ON CONSTRAINT PK_OrleansQuery DO UPDATE SET QueryText = EXCLUDED.QueryText;
