-- 0005: streamers, the accounts that broadcast live on one station.
-- A name is unique within its station only (Icecast's credentials are
-- per mount); the password is a bcrypt hash, as for users.

CREATE TABLE streamers (
    id            INTEGER PRIMARY KEY,
    station_id    INTEGER NOT NULL REFERENCES stations(id) ON DELETE CASCADE,
    username      TEXT    NOT NULL COLLATE NOCASE,
    display_name  TEXT    NOT NULL DEFAULT '',
    password_hash TEXT    NOT NULL,
    created_at    INTEGER NOT NULL,
    UNIQUE (station_id, username)
);
CREATE INDEX streamers_username ON streamers(username);
