-- Work.Orleans on PostgreSQL: grain state for Orleans' ADO.NET grain storage (invariant "Npgsql").
-- One row per grain state, keyed by the provider's hashes and the clear-text grain type and key. Version is the
-- ETag: a write names the version it read and fails (no row returned) if the stored one moved on, which the
-- provider reports as InconsistentStateException.

CREATE TABLE IF NOT EXISTS OrleansStorage
(
    GrainIdHash            integer     NOT NULL,
    GrainIdN0              bigint      NOT NULL,
    GrainIdN1              bigint      NOT NULL,
    GrainTypeHash          integer     NOT NULL,
    GrainTypeString        text        NOT NULL,
    -- '' when the grain has no string key extension, so the key below holds (NULLs would never be equal).
    GrainIdExtensionString text        NOT NULL DEFAULT '',
    ServiceId              text        NOT NULL,
    PayloadBinary          bytea       NULL,
    ModifiedOn             timestamptz NOT NULL,
    Version                integer     NOT NULL,
    CONSTRAINT PK_OrleansStorage PRIMARY KEY
        (GrainIdHash, GrainTypeHash, GrainIdN0, GrainIdN1, GrainTypeString, GrainIdExtensionString, ServiceId)
);

-- Writes a state: inserted at version 1 when p_version is NULL (never stored), otherwise updated only at p_version.
-- Returns the new version, or no row when the stored version is not the one the grain read.
CREATE OR REPLACE FUNCTION work_storage_write(
    p_grain_id_hash integer, p_grain_id_n0 bigint, p_grain_id_n1 bigint, p_grain_type_hash integer,
    p_grain_type text, p_extension text, p_service_id text, p_version integer, p_payload bytea)
    RETURNS TABLE (NewGrainStateVersion integer)
    LANGUAGE plpgsql
AS $fn$
#variable_conflict use_column
BEGIN
    IF p_version IS NULL THEN
        RETURN QUERY
        INSERT INTO OrleansStorage AS s
            (GrainIdHash, GrainIdN0, GrainIdN1, GrainTypeHash, GrainTypeString, GrainIdExtensionString, ServiceId,
             PayloadBinary, ModifiedOn, Version)
        VALUES
            (p_grain_id_hash, p_grain_id_n0, p_grain_id_n1, p_grain_type_hash, p_grain_type, COALESCE(p_extension, ''),
             p_service_id, p_payload, now(), 1)
        ON CONFLICT ON CONSTRAINT PK_OrleansStorage DO NOTHING
        RETURNING s.Version;
    ELSE
        RETURN QUERY
        UPDATE OrleansStorage AS s
        SET PayloadBinary = p_payload, ModifiedOn = now(), Version = s.Version + 1
        WHERE s.GrainIdHash = p_grain_id_hash AND s.GrainTypeHash = p_grain_type_hash
            AND s.GrainIdN0 = p_grain_id_n0 AND s.GrainIdN1 = p_grain_id_n1
            AND s.GrainTypeString = p_grain_type AND s.GrainIdExtensionString = COALESCE(p_extension, '')
            AND s.ServiceId = p_service_id AND s.Version = p_version
        RETURNING s.Version;
    END IF;
END
$fn$;

INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES
('WriteToStorageKey', $q$
    SELECT NewGrainStateVersion
    FROM work_storage_write(@GrainIdHash, @GrainIdN0, @GrainIdN1, @GrainTypeHash, @GrainTypeString,
        @GrainIdExtensionString, @ServiceId, @GrainStateVersion, @PayloadBinary);
$q$),
('ReadFromStorageKey', $q$
    SELECT PayloadBinary, Version
    FROM OrleansStorage
    WHERE GrainIdHash = @GrainIdHash AND GrainTypeHash = @GrainTypeHash
        AND GrainIdN0 = @GrainIdN0 AND GrainIdN1 = @GrainIdN1
        AND GrainTypeString = @GrainTypeString
        AND GrainIdExtensionString = COALESCE(@GrainIdExtensionString, '')
        AND ServiceId = @ServiceId;
$q$),
-- Clears a state: the payload goes and the version moves on, so a writer holding the old version still conflicts.
('ClearStorageKey', $q$
    UPDATE OrleansStorage
    SET PayloadBinary = NULL, ModifiedOn = now(), Version = Version + 1
    WHERE GrainIdHash = @GrainIdHash AND GrainTypeHash = @GrainTypeHash
        AND GrainIdN0 = @GrainIdN0 AND GrainIdN1 = @GrainIdN1
        AND GrainTypeString = @GrainTypeString
        AND GrainIdExtensionString = COALESCE(@GrainIdExtensionString, '')
        AND ServiceId = @ServiceId AND Version = @GrainStateVersion
    RETURNING Version AS NewGrainStateVersion;
$q$),
-- Deletes the row instead (the provider's DeleteStateOnClear option).
('DeleteStorageKey', $q$
    DELETE FROM OrleansStorage
    WHERE GrainIdHash = @GrainIdHash AND GrainTypeHash = @GrainTypeHash
        AND GrainIdN0 = @GrainIdN0 AND GrainIdN1 = @GrainIdN1
        AND GrainTypeString = @GrainTypeString
        AND GrainIdExtensionString = COALESCE(@GrainIdExtensionString, '')
        AND ServiceId = @ServiceId AND Version = @GrainStateVersion
    RETURNING Version + 1 AS NewGrainStateVersion;
$q$)
ON CONFLICT ON CONSTRAINT PK_OrleansQuery DO UPDATE SET QueryText = EXCLUDED.QueryText;

-- Jobs' journals: each write of a job appends one row, numbered one past its newest, holding the records it wrote
-- (main state, segments) and the names it cleared; a job loads by replaying its rows in order. A write goes in only
-- while the job has no row numbered as high (another activation wrote first otherwise), and deletes the job's rows
-- that no longer hold a current record, in the same statement.
CREATE TABLE IF NOT EXISTS work_job_journal
(
    service_id text        NOT NULL,
    job        text        NOT NULL,
    number     bigint      NOT NULL,
    payload    bytea       NOT NULL,
    written_on timestamptz NOT NULL,
    CONSTRAINT pk_work_job_journal PRIMARY KEY (service_id, job, number)
);
