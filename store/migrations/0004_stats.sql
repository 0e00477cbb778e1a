-- Listener statistics. Times are Unix seconds, UTC. station_id 0 holds the
-- whole server's figures, written with each station's; there is no foreign
-- key so that statistics outlive a deleted station until retention purges
-- them, and so that row 0 needs no station.

-- One row per live station per sample: listeners by transport at t, the
-- seconds the sample stands for (the sampling step), and the chat messages
-- and likes since the previous sample.
CREATE TABLE stats_samples (
    station_id INTEGER NOT NULL,
    t          INTEGER NOT NULL,
    step       INTEGER NOT NULL,
    http       INTEGER NOT NULL,
    webrtc     INTEGER NOT NULL,
    chat       INTEGER NOT NULL DEFAULT 0,
    likes      INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (station_id, t)
) WITHOUT ROWID;

-- The samples of each hour summed, kept up to date as samples are written,
-- so that a 30-day chart reads 720 rows instead of 43,200. listen_s is
-- listener-seconds (listeners × step); sessions and session_s are the
-- sessions that started in the hour, counted when they end.
CREATE TABLE stats_hourly (
    station_id INTEGER NOT NULL,
    hour       INTEGER NOT NULL,
    samples    INTEGER NOT NULL DEFAULT 0,
    sum_http   INTEGER NOT NULL DEFAULT 0,
    sum_webrtc INTEGER NOT NULL DEFAULT 0,
    peak       INTEGER NOT NULL DEFAULT 0,
    peak_t     INTEGER NOT NULL DEFAULT 0,
    listen_s   INTEGER NOT NULL DEFAULT 0,
    chat       INTEGER NOT NULL DEFAULT 0,
    likes      INTEGER NOT NULL DEFAULT 0,
    sessions   INTEGER NOT NULL DEFAULT 0,
    session_s  INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (station_id, hour)
) WITHOUT ROWID;

-- One row per listening session: transport ('http' or 'webrtc') and the
-- client family ('Firefox', 'VLC', ...), never the address. end_at is NULL
-- while the session is open; last_seen is refreshed while it is, so a
-- session open at a crash is closed at the next start with its last known
-- time.
CREATE TABLE stats_sessions (
    id         INTEGER PRIMARY KEY,
    station_id INTEGER NOT NULL,
    transport  TEXT    NOT NULL,
    agent      TEXT    NOT NULL,
    start_at   INTEGER NOT NULL,
    end_at     INTEGER,
    last_seen  INTEGER NOT NULL
);
CREATE INDEX stats_sessions_station_start ON stats_sessions (station_id, start_at);
CREATE INDEX stats_sessions_start ON stats_sessions (start_at);
CREATE INDEX stats_sessions_open ON stats_sessions (station_id) WHERE end_at IS NULL;
