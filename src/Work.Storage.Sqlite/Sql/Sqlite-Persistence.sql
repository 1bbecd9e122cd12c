-- Work.Orleans on SQLite: grain state for Orleans' ADO.NET grain storage (invariant "System.Data.SQLite", which
-- Orleans serves with Microsoft.Data.Sqlite).
-- One row per grain state, found by the provider's hashes and pinned down by the clear-text key columns; Version is
-- the ETag. Safe to run on every start: tables are created once and the query texts are replaced.

CREATE TABLE IF NOT EXISTS OrleansStorage
(
    GrainIdHash            INTEGER NOT NULL,
    GrainIdN0              INTEGER NOT NULL,
    GrainIdN1              INTEGER NOT NULL,
    GrainTypeHash          INTEGER NOT NULL,
    GrainTypeString        TEXT    NOT NULL,
    -- '' when the grain has no string key, so the unique key below holds (NULLs would all differ).
    GrainIdExtensionString TEXT    NOT NULL DEFAULT '',
    ServiceId              TEXT    NOT NULL,
    PayloadBinary          BLOB    NULL,
    ModifiedOn             TEXT    NOT NULL,
    Version                INTEGER NOT NULL,
    UNIQUE (GrainIdHash, GrainTypeHash, GrainIdN0, GrainIdN1, GrainTypeString, GrainIdExtensionString, ServiceId)
);

-- Writes a state. A new state (@GrainStateVersion NULL) is inserted with version 1; an existing one is updated only
-- when its version is @GrainStateVersion. Returns the new version, or the old one (or nothing, for a new state that
-- already exists) when the version did not match, which the provider reports as a conflict.
INSERT OR REPLACE INTO OrleansQuery (QueryKey, QueryText) VALUES ('WriteToStorageKey', '
    INSERT INTO OrleansStorage
        (GrainIdHash, GrainIdN0, GrainIdN1, GrainTypeHash, GrainTypeString, GrainIdExtensionString, ServiceId, PayloadBinary, ModifiedOn, Version)
    SELECT @GrainIdHash, @GrainIdN0, @GrainIdN1, @GrainTypeHash, @GrainTypeString, COALESCE(@GrainIdExtensionString, ''''), @ServiceId,
        @PayloadBinary, strftime(''%Y-%m-%dT%H:%M:%fZ'', ''now''), 1
    WHERE TRUE
    ON CONFLICT (GrainIdHash, GrainTypeHash, GrainIdN0, GrainIdN1, GrainTypeString, GrainIdExtensionString, ServiceId) DO UPDATE
        SET PayloadBinary = excluded.PayloadBinary, ModifiedOn = excluded.ModifiedOn, Version = Version + 1
        WHERE Version = @GrainStateVersion
    RETURNING Version AS NewGrainStateVersion;

    SELECT @GrainStateVersion AS NewGrainStateVersion
    WHERE changes() = 0 AND @GrainStateVersion IS NOT NULL;
');

-- Reads a state and its version.
INSERT OR REPLACE INTO OrleansQuery (QueryKey, QueryText) VALUES ('ReadFromStorageKey', '
    SELECT PayloadBinary, Version
    FROM OrleansStorage
    WHERE GrainIdHash = @GrainIdHash AND GrainTypeHash = @GrainTypeHash
        AND GrainIdN0 = @GrainIdN0 AND GrainIdN1 = @GrainIdN1
        AND GrainTypeString = @GrainTypeString
        AND GrainIdExtensionString = COALESCE(@GrainIdExtensionString, '''')
        AND ServiceId = @ServiceId
    LIMIT 1;
');

-- Clears a state: the payload goes, the version moves on (so a stale writer still conflicts).
INSERT OR REPLACE INTO OrleansQuery (QueryKey, QueryText) VALUES ('ClearStorageKey', '
    UPDATE OrleansStorage
    SET PayloadBinary = NULL, ModifiedOn = strftime(''%Y-%m-%dT%H:%M:%fZ'', ''now''), Version = Version + 1
    WHERE GrainIdHash = @GrainIdHash AND GrainTypeHash = @GrainTypeHash
        AND GrainIdN0 = @GrainIdN0 AND GrainIdN1 = @GrainIdN1
        AND GrainTypeString = @GrainTypeString
        AND GrainIdExtensionString = COALESCE(@GrainIdExtensionString, '''')
        AND ServiceId = @ServiceId
        AND Version = @GrainStateVersion
    RETURNING Version AS NewGrainStateVersion;

    SELECT @GrainStateVersion AS NewGrainStateVersion
    WHERE changes() = 0 AND @GrainStateVersion IS NOT NULL;
');

-- Jobs' journals: each write of a job appends one row, numbered one past its newest, holding the records it wrote
-- (main state, segments) and the names it cleared; a job loads by replaying its rows in order. A write goes in only
-- while the job has no row numbered as high (another activation wrote first otherwise), and deletes the job's rows
-- that no longer hold a current record. The silo's one writer commits the writes of many jobs together.
CREATE TABLE IF NOT EXISTS work_job_journal
(
    service_id TEXT    NOT NULL,
    job        TEXT    NOT NULL,
    number     INTEGER NOT NULL,
    payload    BLOB    NOT NULL,
    written_on TEXT    NOT NULL,
    PRIMARY KEY (service_id, job, number)
) WITHOUT ROWID;
