-- Safeguarding records (crates/records; DESIGN.md C9). Every table here is
-- append-only: a change is a new row (a pupil unlinked, a step decided
-- again, an amendment), never an UPDATE or DELETE, and the triggers at the
-- end refuse both. Times are microseconds since 1970 (UTC).
--
-- These rows are their own audit trail (actor and time on every row, and a
-- row in record_read for every read); they are not copied into `audit`,
-- which technicians may read and whose high-water mark reloads the filter.

-- The DSL-owned set of concern categories: each change saves the whole set.
CREATE TABLE concern_category_set (
    id         INTEGER PRIMARY KEY,
    at_us      INTEGER NOT NULL,
    actor      TEXT NOT NULL CHECK (length(trim(actor)) > 0),
    categories TEXT NOT NULL
);

CREATE TABLE concern (
    id                 INTEGER PRIMARY KEY,
    raised_by          TEXT NOT NULL CHECK (length(trim(raised_by)) > 0),
    raised_by_role     TEXT NOT NULL,
    raised_us          INTEGER NOT NULL,
    happened_us        INTEGER NOT NULL,
    location           TEXT NOT NULL CHECK (length(trim(location)) > 0),
    child_words        TEXT NOT NULL CHECK (length(trim(child_words)) > 0),
    immediate_action   TEXT NOT NULL CHECK (length(trim(immediate_action)) > 0),
    suggested_category TEXT,
    about_staff        INTEGER NOT NULL
);
CREATE INDEX concern_raised_by ON concern (raised_by);

-- Pupils linked to and unlinked from a concern; the latest row per pupil
-- is in force. The pupils it was raised with are its first rows.
CREATE TABLE concern_pupil (
    id          INTEGER PRIMARY KEY,
    concern_id  INTEGER NOT NULL REFERENCES concern (id),
    username    TEXT NOT NULL CHECK (length(trim(username)) > 0),
    full_name   TEXT NOT NULL CHECK (length(trim(full_name)) > 0),
    involvement TEXT NOT NULL CHECK (involvement IN ('subject', 'involved')),
    linked      INTEGER NOT NULL,
    actor       TEXT NOT NULL,
    role        TEXT NOT NULL,
    at_us       INTEGER NOT NULL,
    reason      TEXT NOT NULL CHECK (length(trim(reason)) > 0),
    -- Named when the concern was raised (rather than linked later).
    initial     INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX concern_pupil_concern ON concern_pupil (concern_id);
CREATE INDEX concern_pupil_username ON concern_pupil (username);

-- The final category, set by a DSL role; the latest row is in force.
CREATE TABLE concern_category (
    id         INTEGER PRIMARY KEY,
    concern_id INTEGER NOT NULL REFERENCES concern (id),
    category   TEXT NOT NULL,
    actor      TEXT NOT NULL,
    role       TEXT NOT NULL CHECK (role IN ('dsl', 'deputy-dsl')),
    at_us      INTEGER NOT NULL,
    reason     TEXT NOT NULL CHECK (length(trim(reason)) > 0)
);
CREATE INDEX concern_category_concern ON concern_category (concern_id);

CREATE TABLE incident (
    id          INTEGER PRIMARY KEY,
    concern_id  INTEGER REFERENCES concern (id),
    kind        TEXT NOT NULL,
    opened_by   TEXT NOT NULL,
    role        TEXT NOT NULL,
    opened_us   INTEGER NOT NULL,
    summary     TEXT NOT NULL CHECK (length(trim(summary)) > 0),
    about_staff INTEGER NOT NULL
);

-- Decisions against checklist steps; the latest row per step is in force.
CREATE TABLE incident_step (
    id          INTEGER PRIMARY KEY,
    incident_id INTEGER NOT NULL REFERENCES incident (id),
    step        TEXT NOT NULL,
    decision    TEXT NOT NULL CHECK (decision IN ('done', 'not-applicable', 'decided-not')),
    reason      TEXT NOT NULL CHECK (length(trim(reason)) > 0),
    actor       TEXT NOT NULL,
    role        TEXT NOT NULL,
    at_us       INTEGER NOT NULL
);
CREATE INDEX incident_step_incident ON incident_step (incident_id);

-- §10: an outcome and the lessons learnt; one closure per incident.
CREATE TABLE incident_closure (
    incident_id INTEGER PRIMARY KEY REFERENCES incident (id),
    outcome     TEXT NOT NULL CHECK (length(trim(outcome)) > 0),
    lessons     TEXT NOT NULL CHECK (length(trim(lessons)) > 0),
    actor       TEXT NOT NULL,
    role        TEXT NOT NULL,
    at_us       INTEGER NOT NULL
);

-- Corrections: who, when, why, and the field before and after.
CREATE TABLE record_amendment (
    id          INTEGER PRIMARY KEY,
    record_kind TEXT NOT NULL CHECK (record_kind IN ('concern', 'incident', 'referral')),
    record_id   INTEGER NOT NULL,
    field       TEXT NOT NULL,
    before      TEXT NOT NULL,
    after       TEXT NOT NULL,
    why         TEXT NOT NULL CHECK (length(trim(why)) > 0),
    actor       TEXT NOT NULL,
    role        TEXT NOT NULL,
    at_us       INTEGER NOT NULL
);
CREATE INDEX record_amendment_record ON record_amendment (record_kind, record_id);

-- The school's directory of agencies. An edit is a new row naming the row
-- it replaces; a referral keeps the row it used, so the details in force
-- at the time stay readable.
CREATE TABLE referral_contact (
    id         INTEGER PRIMARY KEY,
    replaces   INTEGER REFERENCES referral_contact (id),
    withdrawn  INTEGER NOT NULL DEFAULT 0,
    agency     TEXT NOT NULL,
    name       TEXT NOT NULL,
    phone      TEXT NOT NULL,
    email      TEXT NOT NULL,
    web        TEXT NOT NULL,
    notes      TEXT NOT NULL,
    actor      TEXT NOT NULL,
    at_us      INTEGER NOT NULL
);

CREATE TABLE referral (
    id          INTEGER PRIMARY KEY,
    incident_id INTEGER NOT NULL REFERENCES incident (id),
    agency      TEXT NOT NULL,
    contact_id  INTEGER NOT NULL REFERENCES referral_contact (id),
    made_by     TEXT NOT NULL,
    role        TEXT NOT NULL,
    made_us     INTEGER NOT NULL,
    due_us      INTEGER NOT NULL,
    reference   TEXT NOT NULL,
    summary     TEXT NOT NULL CHECK (length(trim(summary)) > 0)
);
CREATE INDEX referral_incident ON referral (incident_id);

CREATE TABLE referral_response (
    referral_id INTEGER PRIMARY KEY REFERENCES referral (id),
    outcome     TEXT NOT NULL CHECK (length(trim(outcome)) > 0),
    actor       TEXT NOT NULL,
    role        TEXT NOT NULL,
    at_us       INTEGER NOT NULL
);

-- Every read of a record, with the reason when one was asked for.
CREATE TABLE record_read (
    id          INTEGER PRIMARY KEY,
    at_us       INTEGER NOT NULL,
    reader      TEXT NOT NULL CHECK (length(trim(reader)) > 0),
    role        TEXT NOT NULL,
    target_kind TEXT NOT NULL CHECK (target_kind IN ('concern', 'incident', 'pupil', 'attachment')),
    target      TEXT NOT NULL,
    reason      TEXT
);
CREATE INDEX record_read_target ON record_read (target_kind, target);

-- Documents attached to incidents: what they are here, the bytes in
-- incident_attachment_content (kept in the database so a backup of the
-- file is a backup of everything; not encrypted at rest).
CREATE TABLE incident_attachment (
    id          INTEGER PRIMARY KEY,
    incident_id INTEGER NOT NULL REFERENCES incident (id),
    file_name   TEXT NOT NULL CHECK (length(trim(file_name)) > 0),
    media_type  TEXT NOT NULL,
    description TEXT NOT NULL CHECK (length(trim(description)) > 0),
    size        INTEGER NOT NULL,
    sha256      TEXT NOT NULL,
    added_by    TEXT NOT NULL,
    added_us    INTEGER NOT NULL
);
CREATE TABLE incident_attachment_content (
    attachment_id INTEGER PRIMARY KEY REFERENCES incident_attachment (id),
    content       BLOB NOT NULL
);

-- Legal holds: the latest row per record is in force.
CREATE TABLE record_legal_hold (
    id          INTEGER PRIMARY KEY,
    record_kind TEXT NOT NULL CHECK (record_kind IN ('concern', 'incident', 'referral')),
    record_id   INTEGER NOT NULL,
    hold        INTEGER NOT NULL,
    actor       TEXT NOT NULL,
    role        TEXT NOT NULL,
    at_us       INTEGER NOT NULL,
    reason      TEXT NOT NULL CHECK (length(trim(reason)) > 0)
);

-- The policy's registers (records::registers): acceptable use, confiscated
-- devices, equipment loans, training, consents, technology, policy
-- reviews, filtering checks, system access, file transfers. One row per entry, its fields as JSON in
-- `body` (the records crate's `Entry`); a device released or a loan
-- returned is a new entry naming the first.
CREATE TABLE register_entry (
    id       INTEGER PRIMARY KEY,
    register TEXT NOT NULL CHECK (register IN ('acceptable-use', 'confiscated-devices',
                 'equipment-loans', 'training', 'parental-consents', 'technology',
                 'policy-reviews', 'filtering-checks', 'system-access', 'file-transfers')),
    actor    TEXT NOT NULL CHECK (length(trim(actor)) > 0),
    role     TEXT NOT NULL,
    at_us    INTEGER NOT NULL,
    body     TEXT NOT NULL CHECK (json_valid(body))
);
CREATE INDEX register_entry_register ON register_entry (register, id);

-- §11.2: never copy, save or share images in nudes and indecent-image
-- incidents. The records crate refuses first; this refuses regardless.
CREATE TRIGGER incident_attachment_refused BEFORE INSERT ON incident_attachment
WHEN (SELECT kind FROM incident WHERE id = NEW.incident_id)
     IN ('sharing-nudes', 'indecent-images-inadvertent-exposure',
         'indecent-images-school-device', 'indecent-images-staff-possession')
BEGIN SELECT RAISE(ABORT, 'attachments are refused for nudes and indecent-image incidents (§11.2)'); END;

-- A closed incident takes no more steps, referrals or attachments.
CREATE TRIGGER incident_step_after_closure BEFORE INSERT ON incident_step
WHEN EXISTS (SELECT 1 FROM incident_closure WHERE incident_id = NEW.incident_id)
BEGIN SELECT RAISE(ABORT, 'the incident is closed'); END;
CREATE TRIGGER referral_after_closure BEFORE INSERT ON referral
WHEN EXISTS (SELECT 1 FROM incident_closure WHERE incident_id = NEW.incident_id)
BEGIN SELECT RAISE(ABORT, 'the incident is closed'); END;
CREATE TRIGGER incident_attachment_after_closure BEFORE INSERT ON incident_attachment
WHEN EXISTS (SELECT 1 FROM incident_closure WHERE incident_id = NEW.incident_id)
BEGIN SELECT RAISE(ABORT, 'the incident is closed'); END;

-- Append-only, every one.
CREATE TRIGGER concern_category_set_no_update BEFORE UPDATE ON concern_category_set BEGIN SELECT RAISE(ABORT, 'safeguarding records are append-only'); END;
CREATE TRIGGER concern_category_set_no_delete BEFORE DELETE ON concern_category_set BEGIN SELECT RAISE(ABORT, 'safeguarding records are append-only'); END;
CREATE TRIGGER concern_no_update BEFORE UPDATE ON concern BEGIN SELECT RAISE(ABORT, 'safeguarding records are append-only'); END;
CREATE TRIGGER concern_no_delete BEFORE DELETE ON concern BEGIN SELECT RAISE(ABORT, 'safeguarding records are append-only'); END;
CREATE TRIGGER concern_pupil_no_update BEFORE UPDATE ON concern_pupil BEGIN SELECT RAISE(ABORT, 'safeguarding records are append-only'); END;
CREATE TRIGGER concern_pupil_no_delete BEFORE DELETE ON concern_pupil BEGIN SELECT RAISE(ABORT, 'safeguarding records are append-only'); END;
CREATE TRIGGER concern_category_no_update BEFORE UPDATE ON concern_category BEGIN SELECT RAISE(ABORT, 'safeguarding records are append-only'); END;
CREATE TRIGGER concern_category_no_delete BEFORE DELETE ON concern_category BEGIN SELECT RAISE(ABORT, 'safeguarding records are append-only'); END;
CREATE TRIGGER incident_no_update BEFORE UPDATE ON incident BEGIN SELECT RAISE(ABORT, 'safeguarding records are append-only'); END;
CREATE TRIGGER incident_no_delete BEFORE DELETE ON incident BEGIN SELECT RAISE(ABORT, 'safeguarding records are append-only'); END;
CREATE TRIGGER incident_step_no_update BEFORE UPDATE ON incident_step BEGIN SELECT RAISE(ABORT, 'safeguarding records are append-only'); END;
CREATE TRIGGER incident_step_no_delete BEFORE DELETE ON incident_step BEGIN SELECT RAISE(ABORT, 'safeguarding records are append-only'); END;
CREATE TRIGGER incident_closure_no_update BEFORE UPDATE ON incident_closure BEGIN SELECT RAISE(ABORT, 'safeguarding records are append-only'); END;
CREATE TRIGGER incident_closure_no_delete BEFORE DELETE ON incident_closure BEGIN SELECT RAISE(ABORT, 'safeguarding records are append-only'); END;
CREATE TRIGGER record_amendment_no_update BEFORE UPDATE ON record_amendment BEGIN SELECT RAISE(ABORT, 'safeguarding records are append-only'); END;
CREATE TRIGGER record_amendment_no_delete BEFORE DELETE ON record_amendment BEGIN SELECT RAISE(ABORT, 'safeguarding records are append-only'); END;
CREATE TRIGGER referral_contact_no_update BEFORE UPDATE ON referral_contact BEGIN SELECT RAISE(ABORT, 'safeguarding records are append-only'); END;
CREATE TRIGGER referral_contact_no_delete BEFORE DELETE ON referral_contact BEGIN SELECT RAISE(ABORT, 'safeguarding records are append-only'); END;
CREATE TRIGGER referral_no_update BEFORE UPDATE ON referral BEGIN SELECT RAISE(ABORT, 'safeguarding records are append-only'); END;
CREATE TRIGGER referral_no_delete BEFORE DELETE ON referral BEGIN SELECT RAISE(ABORT, 'safeguarding records are append-only'); END;
CREATE TRIGGER referral_response_no_update BEFORE UPDATE ON referral_response BEGIN SELECT RAISE(ABORT, 'safeguarding records are append-only'); END;
CREATE TRIGGER referral_response_no_delete BEFORE DELETE ON referral_response BEGIN SELECT RAISE(ABORT, 'safeguarding records are append-only'); END;
CREATE TRIGGER record_read_no_update BEFORE UPDATE ON record_read BEGIN SELECT RAISE(ABORT, 'safeguarding records are append-only'); END;
CREATE TRIGGER record_read_no_delete BEFORE DELETE ON record_read BEGIN SELECT RAISE(ABORT, 'safeguarding records are append-only'); END;
CREATE TRIGGER incident_attachment_no_update BEFORE UPDATE ON incident_attachment BEGIN SELECT RAISE(ABORT, 'safeguarding records are append-only'); END;
CREATE TRIGGER incident_attachment_no_delete BEFORE DELETE ON incident_attachment BEGIN SELECT RAISE(ABORT, 'safeguarding records are append-only'); END;
CREATE TRIGGER incident_attachment_content_no_update BEFORE UPDATE ON incident_attachment_content BEGIN SELECT RAISE(ABORT, 'safeguarding records are append-only'); END;
CREATE TRIGGER incident_attachment_content_no_delete BEFORE DELETE ON incident_attachment_content BEGIN SELECT RAISE(ABORT, 'safeguarding records are append-only'); END;
CREATE TRIGGER record_legal_hold_no_update BEFORE UPDATE ON record_legal_hold BEGIN SELECT RAISE(ABORT, 'safeguarding records are append-only'); END;
CREATE TRIGGER record_legal_hold_no_delete BEFORE DELETE ON record_legal_hold BEGIN SELECT RAISE(ABORT, 'safeguarding records are append-only'); END;
CREATE TRIGGER register_entry_no_update BEFORE UPDATE ON register_entry BEGIN SELECT RAISE(ABORT, 'safeguarding records are append-only'); END;
CREATE TRIGGER register_entry_no_delete BEFORE DELETE ON register_entry BEGIN SELECT RAISE(ABORT, 'safeguarding records are append-only'); END;
