-- The outbox: every message schoolgate sends (alert emails, reports,
-- webhook calls), one row per destination, kept after it is sent or given
-- up on so nothing leaves (or fails to leave) unseen.
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,
    -- 'email' (destination: the recipients) or 'webhook' (its name).
    channel         TEXT NOT NULL CHECK (channel IN ('email', 'webhook')),
    destination     TEXT NOT NULL,
    kind            TEXT NOT NULL,
    severity        INTEGER NOT NULL CHECK (severity BETWEEN 1 AND 5),
    -- The same key for the same destination is queued once only.
    dedup_key       TEXT,
    -- The subject line, for lists.
    summary         TEXT NOT NULL,
    -- The whole message as JSON (the notify crate's format).
    payload         TEXT NOT NULL,
    state           TEXT NOT NULL DEFAULT 'queued'
                        CHECK (state IN ('queued', 'sending', 'sent', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    created_us      INTEGER NOT NULL,
    -- When it may next be tried ('queued'), or when a claim lapses
    -- ('sending': a sender that stopped mid-way leaves it to be tried again).
    next_attempt_us INTEGER NOT NULL,
    last_attempt_us INTEGER,
    sent_us         INTEGER,
    last_error      TEXT
);
CREATE UNIQUE INDEX outbox_dedup ON outbox (channel, destination, dedup_key)
    WHERE dedup_key IS NOT NULL;
CREATE INDEX outbox_due ON outbox (state, next_attempt_us);
