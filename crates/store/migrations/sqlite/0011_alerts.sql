-- Monitoring alerts (crates/monitor), their triage history, how far the
-- monitor has read the activity log, and the phrase library in force with
-- its revisions.

-- One alert: who, which device, when, what, and the events it stands for.
-- Only its count, last event and current state change after it is stored;
-- every triage decision is kept in alert_triage.
CREATE TABLE alert (
    id            INTEGER PRIMARY KEY,
    raised_us     INTEGER NOT NULL,
    person        TEXT,
    device        TEXT,
    client_ip     TEXT NOT NULL,
    category      TEXT NOT NULL,
    severity      INTEGER NOT NULL CHECK (severity BETWEEN 1 AND 5),
    -- 'phrase', 'blocked', 'repeated' or 'circumvention'.
    signal        TEXT NOT NULL
                      CHECK (signal IN ('phrase', 'blocked', 'repeated', 'circumvention')),
    phrase_key    TEXT,
    phrase        TEXT,
    term          TEXT,
    url           TEXT,
    -- How many signals it stands for, the first included.
    count         INTEGER NOT NULL DEFAULT 1,
    first_us      INTEGER NOT NULL,
    last_us       INTEGER NOT NULL,
    first_event   INTEGER NOT NULL,
    last_event    INTEGER NOT NULL,
    -- 'immediate', 'out-of-hours', 'daily' or 'weekly'.
    routing       TEXT NOT NULL
                      CHECK (routing IN ('immediate', 'out-of-hours', 'daily', 'weekly')),
    state         TEXT NOT NULL DEFAULT 'new'
                      CHECK (state IN ('new', 'reviewed', 'false-positive', 'escalated')),
    -- The concern it was escalated to.
    concern       INTEGER
);
CREATE INDEX alert_state ON alert (state, id);
CREATE INDEX alert_category ON alert (category, id);

-- Every triage decision, oldest first; never changed or removed.
CREATE TABLE alert_triage (
    id       INTEGER PRIMARY KEY,
    alert    INTEGER NOT NULL REFERENCES alert (id),
    state    TEXT NOT NULL,
    actor    TEXT NOT NULL,
    at_us    INTEGER NOT NULL,
    reason   TEXT NOT NULL,
    concern  INTEGER
);
CREATE INDEX alert_triage_alert ON alert_triage (alert, id);
CREATE TRIGGER alert_triage_append_only_update BEFORE UPDATE ON alert_triage
BEGIN SELECT RAISE(ABORT, 'the alert triage history is append-only'); END;
CREATE TRIGGER alert_triage_append_only_delete BEFORE DELETE ON alert_triage
BEGIN SELECT RAISE(ABORT, 'the alert triage history is append-only'); END;

-- The last activity id the monitor has read (one row).
CREATE TABLE monitor_cursor (
    one       INTEGER PRIMARY KEY CHECK (one = 1),
    activity  INTEGER NOT NULL
);

-- The phrase library in force is the newest revision; none means the
-- starter library shipped with schoolgate. Files are a JSON array of
-- [name, text] pairs.
CREATE TABLE phrase_library (
    id      INTEGER PRIMARY KEY,
    at_us   INTEGER NOT NULL,
    actor   TEXT NOT NULL,
    reason  TEXT NOT NULL,
    files   TEXT NOT NULL
);
CREATE TRIGGER phrase_library_append_only_update BEFORE UPDATE ON phrase_library
BEGIN SELECT RAISE(ABORT, 'the phrase library history is append-only'); END;
CREATE TRIGGER phrase_library_append_only_delete BEFORE DELETE ON phrase_library
BEGIN SELECT RAISE(ABORT, 'the phrase library history is append-only'); END;
