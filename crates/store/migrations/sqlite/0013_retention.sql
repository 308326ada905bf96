-- Retention (records::retention; issue 6).
--
-- People get a date of birth from the MIS import: child protection
-- records are kept until the pupil's date of birth plus 25 years.
-- ISO 'YYYY-MM-DD', or NULL when the MIS did not give one.
ALTER TABLE person ADD COLUMN date_of_birth TEXT;

-- A purge authorises itself with a row here, inside the transaction that
-- deletes the records, and clears `active` before committing. While no
-- row is active the triggers below refuse every DELETE, exactly as
-- migration 0006's did; UPDATE stays refused always.
CREATE TABLE records_purge (
    id     INTEGER PRIMARY KEY,
    at_us  INTEGER NOT NULL,
    actor  TEXT NOT NULL CHECK (length(trim(actor)) > 0),
    active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    -- How many records the plan kept (their reasons are not stored).
    kept   INTEGER NOT NULL DEFAULT 0
);
-- A purge's report: which record, and why it went. Never its content.
CREATE TABLE records_purge_line (
    id          INTEGER PRIMARY KEY,
    purge_id    INTEGER NOT NULL REFERENCES records_purge (id),
    record_kind TEXT NOT NULL CHECK (record_kind IN ('concern', 'incident', 'referral')),
    record_id   INTEGER NOT NULL,
    why         TEXT NOT NULL CHECK (length(trim(why)) > 0)
);
CREATE INDEX records_purge_line_purge ON records_purge_line (purge_id);

-- The report is kept: only `active` (from 1 to 0) and `kept` may change,
-- and only as the purge finishes.
CREATE TRIGGER records_purge_no_update BEFORE UPDATE ON records_purge
WHEN NOT (OLD.active = 1 AND NEW.active = 0 AND NEW.id = OLD.id AND NEW.at_us = OLD.at_us
          AND NEW.actor = OLD.actor)
BEGIN SELECT RAISE(ABORT, 'purge reports are append-only'); END;
CREATE TRIGGER records_purge_no_delete BEFORE DELETE ON records_purge
BEGIN SELECT RAISE(ABORT, 'purge reports are append-only'); END;
CREATE TRIGGER records_purge_line_no_update BEFORE UPDATE ON records_purge_line
BEGIN SELECT RAISE(ABORT, 'purge reports are append-only'); END;
CREATE TRIGGER records_purge_line_no_delete BEFORE DELETE ON records_purge_line
BEGIN SELECT RAISE(ABORT, 'purge reports are append-only'); END;

-- The tables a purge removes rows from: DELETE is refused unless a purge
-- is authorised. Registers, the category sets and the referral directory
-- are not purged and keep 0006's triggers.
DROP TRIGGER concern_no_delete;
CREATE TRIGGER concern_no_delete BEFORE DELETE ON concern
WHEN NOT EXISTS (SELECT 1 FROM records_purge WHERE active = 1)
BEGIN SELECT RAISE(ABORT, 'safeguarding records are append-only'); END;
DROP TRIGGER concern_pupil_no_delete;
CREATE TRIGGER concern_pupil_no_delete BEFORE DELETE ON concern_pupil
WHEN NOT EXISTS (SELECT 1 FROM records_purge WHERE active = 1)
BEGIN SELECT RAISE(ABORT, 'safeguarding records are append-only'); END;
DROP TRIGGER concern_category_no_delete;
CREATE TRIGGER concern_category_no_delete BEFORE DELETE ON concern_category
WHEN NOT EXISTS (SELECT 1 FROM records_purge WHERE active = 1)
BEGIN SELECT RAISE(ABORT, 'safeguarding records are append-only'); END;
DROP TRIGGER incident_no_delete;
CREATE TRIGGER incident_no_delete BEFORE DELETE ON incident
WHEN NOT EXISTS (SELECT 1 FROM records_purge WHERE active = 1)
BEGIN SELECT RAISE(ABORT, 'safeguarding records are append-only'); END;
DROP TRIGGER incident_step_no_delete;
CREATE TRIGGER incident_step_no_delete BEFORE DELETE ON incident_step
WHEN NOT EXISTS (SELECT 1 FROM records_purge WHERE active = 1)
BEGIN SELECT RAISE(ABORT, 'safeguarding records are append-only'); END;
DROP TRIGGER incident_closure_no_delete;
CREATE TRIGGER incident_closure_no_delete BEFORE DELETE ON incident_closure
WHEN NOT EXISTS (SELECT 1 FROM records_purge WHERE active = 1)
BEGIN SELECT RAISE(ABORT, 'safeguarding records are append-only'); END;
DROP TRIGGER record_amendment_no_delete;
CREATE TRIGGER record_amendment_no_delete BEFORE DELETE ON record_amendment
WHEN NOT EXISTS (SELECT 1 FROM records_purge WHERE active = 1)
BEGIN SELECT RAISE(ABORT, 'safeguarding records are append-only'); END;
DROP TRIGGER referral_no_delete;
CREATE TRIGGER referral_no_delete BEFORE DELETE ON referral
WHEN NOT EXISTS (SELECT 1 FROM records_purge WHERE active = 1)
BEGIN SELECT RAISE(ABORT, 'safeguarding records are append-only'); END;
DROP TRIGGER referral_response_no_delete;
CREATE TRIGGER referral_response_no_delete BEFORE DELETE ON referral_response
WHEN NOT EXISTS (SELECT 1 FROM records_purge WHERE active = 1)
BEGIN SELECT RAISE(ABORT, 'safeguarding records are append-only'); END;
DROP TRIGGER record_read_no_delete;
CREATE TRIGGER record_read_no_delete BEFORE DELETE ON record_read
WHEN NOT EXISTS (SELECT 1 FROM records_purge WHERE active = 1)
BEGIN SELECT RAISE(ABORT, 'safeguarding records are append-only'); END;
DROP TRIGGER incident_attachment_no_delete;
CREATE TRIGGER incident_attachment_no_delete BEFORE DELETE ON incident_attachment
WHEN NOT EXISTS (SELECT 1 FROM records_purge WHERE active = 1)
BEGIN SELECT RAISE(ABORT, 'safeguarding records are append-only'); END;
DROP TRIGGER incident_attachment_content_no_delete;
CREATE TRIGGER incident_attachment_content_no_delete BEFORE DELETE ON incident_attachment_content
WHEN NOT EXISTS (SELECT 1 FROM records_purge WHERE active = 1)
BEGIN SELECT RAISE(ABORT, 'safeguarding records are append-only'); END;
DROP TRIGGER record_legal_hold_no_delete;
CREATE TRIGGER record_legal_hold_no_delete BEFORE DELETE ON record_legal_hold
WHEN NOT EXISTS (SELECT 1 FROM records_purge WHERE active = 1)
BEGIN SELECT RAISE(ABORT, 'safeguarding records are append-only'); END;
