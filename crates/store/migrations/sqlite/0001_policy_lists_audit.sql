-- Policy revisions: every change to the filtering policy, with who, when,
-- what (readable lines) and why (§7.3.1). Append-only.
CREATE TABLE policy_revision (
    number   INTEGER PRIMARY KEY,
    at       TEXT NOT NULL,
    actor    TEXT NOT NULL CHECK (length(trim(actor)) > 0),
    reason   TEXT NOT NULL CHECK (length(trim(reason)) > 0),
    changes  TEXT NOT NULL,
    document TEXT NOT NULL
);

-- The category lists in force, one row per list, replaced on re-import.
CREATE TABLE list (
    name        TEXT PRIMARY KEY,
    category    TEXT,
    format      TEXT NOT NULL,
    source      TEXT NOT NULL,
    domains     INTEGER NOT NULL,
    urls        INTEGER NOT NULL,
    junk        INTEGER NOT NULL,
    imported_at TEXT NOT NULL,
    actor       TEXT NOT NULL
);

-- What may be known of the statutory lists: never their contents.
CREATE TABLE statutory_list (
    kind        TEXT PRIMARY KEY,
    entries     INTEGER NOT NULL,
    fingerprint TEXT NOT NULL,
    form        TEXT NOT NULL,
    loaded_at   TEXT NOT NULL,
    actor       TEXT NOT NULL
);

-- Everything that changed, in order. Append-only.
CREATE TABLE audit (
    id     INTEGER PRIMARY KEY,
    at     TEXT NOT NULL,
    actor  TEXT NOT NULL,
    action TEXT NOT NULL,
    detail TEXT NOT NULL
);

CREATE TRIGGER policy_revision_append_only_update BEFORE UPDATE ON policy_revision
BEGIN SELECT RAISE(ABORT, 'the policy history is append-only'); END;
CREATE TRIGGER policy_revision_append_only_delete BEFORE DELETE ON policy_revision
BEGIN SELECT RAISE(ABORT, 'the policy history is append-only'); END;
CREATE TRIGGER audit_append_only_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
CREATE TRIGGER audit_append_only_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
