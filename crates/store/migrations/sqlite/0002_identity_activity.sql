-- People schoolgate can identify (proxy sign-in, login agent). Leavers are
-- disabled, never deleted (§7.10).
CREATE TABLE person (
    id            INTEGER PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE CHECK (length(trim(username)) > 0),
    display_name  TEXT NOT NULL,
    profile       TEXT NOT NULL,
    password_hash TEXT,
    disabled      INTEGER NOT NULL DEFAULT 0,
    created_at    TEXT NOT NULL
);

-- The device registry: a name for an address or range.
CREATE TABLE device (
    id           INTEGER PRIMARY KEY,
    name         TEXT NOT NULL UNIQUE CHECK (length(trim(name)) > 0),
    kind         TEXT NOT NULL DEFAULT '',
    address      TEXT NOT NULL,
    owner        TEXT NOT NULL DEFAULT '',
    school_owned INTEGER NOT NULL,
    created_at   TEXT NOT NULL
);

-- Networks: address ranges and the profile for anyone on them not otherwise
-- identified (a guest Wi-Fi range gets the guest profile).
CREATE TABLE network (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE CHECK (length(trim(name)) > 0),
    ranges     TEXT NOT NULL,
    profile    TEXT NOT NULL,
    created_at TEXT NOT NULL
);

-- "User U is on device D at address A until T", from the login agent.
CREATE TABLE login_session (
    address    TEXT PRIMARY KEY,
    username   TEXT NOT NULL,
    device     TEXT,
    started_at TEXT NOT NULL,
    expires_us INTEGER NOT NULL
);

-- Requests to review a block (over-blocking) from block pages.
CREATE TABLE review_request (
    id         INTEGER PRIMARY KEY,
    at         TEXT NOT NULL,
    reference  TEXT NOT NULL,
    url        TEXT NOT NULL,
    profile    TEXT NOT NULL,
    rule       TEXT NOT NULL,
    client_ip  TEXT NOT NULL,
    username   TEXT,
    device     TEXT,
    message    TEXT NOT NULL DEFAULT '',
    status     TEXT NOT NULL DEFAULT 'open'
);

-- The activity log: every decision, with the fields the DfE filtering and
-- monitoring standards name. Times are microseconds since 1970 (UTC), so
-- ranges compare as numbers.
CREATE TABLE activity (
    id          INTEGER PRIMARY KEY,
    at_us       INTEGER NOT NULL,
    source      TEXT NOT NULL,
    client_ip   TEXT NOT NULL,
    username    TEXT,
    device      TEXT,
    profile     TEXT NOT NULL,
    method      TEXT NOT NULL DEFAULT '',
    url         TEXT NOT NULL,
    host        TEXT NOT NULL,
    search_term TEXT,
    categories  TEXT NOT NULL DEFAULT '',
    verdict     TEXT NOT NULL,
    rule        TEXT NOT NULL,
    status      INTEGER,
    bytes       INTEGER NOT NULL DEFAULT 0,
    duration_ms INTEGER NOT NULL DEFAULT 0,
    reference   TEXT
);
CREATE INDEX activity_at ON activity (at_us);
CREATE INDEX activity_user ON activity (username, at_us);
CREATE INDEX activity_ip ON activity (client_ip, at_us);
CREATE INDEX activity_device ON activity (device, at_us);
