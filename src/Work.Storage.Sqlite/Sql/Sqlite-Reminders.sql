-- Work.Orleans on SQLite: the reminder table behind Work's SQLite IReminderTable. Safe to run on every start.
CREATE TABLE IF NOT EXISTS WorkReminders
(
    ServiceId    TEXT    NOT NULL,
    GrainId      TEXT    NOT NULL,
    ReminderName TEXT    NOT NULL,
    StartTime    INTEGER NOT NULL, -- UTC ticks
    Period       INTEGER NOT NULL, -- ticks
    GrainHash    INTEGER NOT NULL, -- the grain's uniform hash, for range reads
    ETag         TEXT    NOT NULL,
    PRIMARY KEY (ServiceId, GrainId, ReminderName)
);

CREATE INDEX IF NOT EXISTS IX_WorkReminders_Hash ON WorkReminders (ServiceId, GrainHash);
