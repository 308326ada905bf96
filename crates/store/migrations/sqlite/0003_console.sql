-- The console's own accounts: the staff who sign in to the web console.
-- They are not `person` rows (whom the filter identifies); an account may
-- name the person it belongs to. Accounts are disabled, never deleted.
CREATE TABLE console_account (
    id              INTEGER PRIMARY KEY,
    username        TEXT NOT NULL UNIQUE COLLATE NOCASE CHECK (length(trim(username)) > 0),
    display_name    TEXT NOT NULL,
    email           TEXT,
    role            TEXT NOT NULL CHECK (role IN ('administrator', 'technician', 'dsl',
                        'deputy-dsl', 'headteacher', 'staff', 'governor')),
    person          TEXT,
    -- An argon2id PHC string; none until a set-up link has been used.
    password_hash   TEXT,
    -- The TOTP secret (base32). Shown once, at enrolment, never again.
    totp_secret     TEXT,
    totp_enabled    INTEGER NOT NULL DEFAULT 0,
    -- The last time step whose code was accepted: no code works twice.
    totp_last_step  INTEGER,
    disabled        INTEGER NOT NULL DEFAULT 0,
    -- Failed sign-ins since the last good one, and the lock-out they caused.
    failed_sign_ins INTEGER NOT NULL DEFAULT 0,
    locked_until_us INTEGER,
    last_sign_in_us INTEGER,
    created_at      TEXT NOT NULL
);

-- Signed-in browsers. The cookie holds a random 256-bit value; only its
-- SHA-256 is kept, so a copy of the database signs nobody in.
CREATE TABLE console_session (
    id_hash      TEXT PRIMARY KEY,
    account_id   INTEGER NOT NULL REFERENCES console_account (id),
    -- The password was right but the two-factor code is still to come.
    pending_code INTEGER NOT NULL DEFAULT 0,
    created_us   INTEGER NOT NULL,
    last_seen_us INTEGER NOT NULL,
    expires_us   INTEGER NOT NULL,
    user_agent   TEXT NOT NULL DEFAULT '',
    client_ip    TEXT NOT NULL DEFAULT ''
);
CREATE INDEX console_session_account ON console_session (account_id);

-- One-time set-up links: the first administrator (no account yet) or a
-- new account's password. Only the token's SHA-256 is kept.
CREATE TABLE console_setup_link (
    token_hash TEXT PRIMARY KEY,
    account_id INTEGER REFERENCES console_account (id),
    created_us INTEGER NOT NULL,
    expires_us INTEGER NOT NULL,
    used_us    INTEGER,
    created_by TEXT NOT NULL
);

-- Personal API tokens, shown once when made. Only the SHA-256 is kept.
CREATE TABLE console_api_token (
    id           INTEGER PRIMARY KEY,
    token_hash   TEXT NOT NULL UNIQUE,
    account_id   INTEGER NOT NULL REFERENCES console_account (id),
    name         TEXT NOT NULL CHECK (length(trim(name)) > 0),
    created_us   INTEGER NOT NULL,
    last_used_us INTEGER,
    revoked_us   INTEGER
);
CREATE INDEX console_api_token_account ON console_api_token (account_id);

-- Failed sign-ins, by the username as typed (whether or not it exists, so
-- a lock-out says nothing about which usernames are real) and by address.
CREATE TABLE console_sign_in_failure (
    id        INTEGER PRIMARY KEY,
    at_us     INTEGER NOT NULL,
    username  TEXT NOT NULL COLLATE NOCASE,
    client_ip TEXT NOT NULL
);
CREATE INDEX console_sign_in_failure_username ON console_sign_in_failure (username, at_us);
CREATE INDEX console_sign_in_failure_ip ON console_sign_in_failure (client_ip, at_us);
CREATE INDEX console_sign_in_failure_at ON console_sign_in_failure (at_us);
