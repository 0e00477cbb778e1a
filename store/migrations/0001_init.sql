-- 0001: accounts, sessions, stations and their tracks.
-- Times are INTEGER Unix milliseconds (UTC): they compare as numbers, so
-- "expires_at > now" needs no date parsing.

CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    username      TEXT    NOT NULL UNIQUE COLLATE NOCASE,
    password_hash TEXT    NOT NULL,
    role          TEXT    NOT NULL CHECK (role IN ('admin', 'owner', 'listener')),
    created_at    INTEGER NOT NULL
);

CREATE TABLE sessions (
    token_hash TEXT    PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX sessions_user_id ON sessions(user_id);
CREATE INDEX sessions_expires_at ON sessions(expires_at);

CREATE TABLE stations (
    id               INTEGER PRIMARY KEY,
    slug             TEXT    NOT NULL UNIQUE,
    name             TEXT    NOT NULL,
    description      TEXT    NOT NULL DEFAULT '',
    genre            TEXT    NOT NULL DEFAULT '',
    owner_id         INTEGER NOT NULL REFERENCES users(id),
    shuffle          INTEGER NOT NULL DEFAULT 0,
    loop             INTEGER NOT NULL DEFAULT 1,
    live             INTEGER NOT NULL DEFAULT 0,
    show             TEXT    NOT NULL DEFAULT '',
    -- NULL when none; a deleted track clears it rather than dangling.
    current_track_id INTEGER REFERENCES tracks(id) ON DELETE SET NULL,
    likes            INTEGER NOT NULL DEFAULT 0,
    created_at       INTEGER NOT NULL
);
CREATE INDEX stations_owner_id ON stations(owner_id);
CREATE INDEX stations_current_track_id ON stations(current_track_id);

CREATE TABLE tracks (
    id          INTEGER PRIMARY KEY,
    station_id  INTEGER NOT NULL REFERENCES stations(id) ON DELETE CASCADE,
    title       TEXT    NOT NULL DEFAULT '',
    artist      TEXT    NOT NULL DEFAULT '',
    album       TEXT    NOT NULL DEFAULT '',
    duration_ms INTEGER NOT NULL DEFAULT 0,
    bitrate     INTEGER NOT NULL DEFAULT 0,
    sample_rate INTEGER NOT NULL DEFAULT 0,
    channels    INTEGER NOT NULL DEFAULT 0,
    filename    TEXT    NOT NULL DEFAULT '',
    path        TEXT    NOT NULL UNIQUE,
    size        INTEGER NOT NULL DEFAULT 0,
    -- Not UNIQUE with station_id: reordering rewrites positions row by row
    -- inside one transaction, and SQLite checks uniqueness per row.
    position    INTEGER NOT NULL,
    created_at  INTEGER NOT NULL
);
CREATE INDEX tracks_station_position ON tracks(station_id, position);
