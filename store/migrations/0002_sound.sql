-- 0002: the audio engine. Tracks of any format, their measured sound and
-- kind; each station's mix and output settings; what each station played.

ALTER TABLE tracks ADD COLUMN format TEXT NOT NULL DEFAULT 'mp3';
ALTER TABLE tracks ADD COLUMN kind TEXT NOT NULL DEFAULT 'music'
    CHECK (kind IN ('music', 'jingle'));
-- NULL until analysed: tracks uploaded before analysis existed are measured
-- in the background at start-up.
ALTER TABLE tracks ADD COLUMN loudness_lufs REAL;
ALTER TABLE tracks ADD COLUMN peak_dbtp REAL;
ALTER TABLE tracks ADD COLUMN cue_in_ms INTEGER;
ALTER TABLE tracks ADD COLUMN cue_out_ms INTEGER;
-- Image type of the cover art kept beside the file as <path>.art; '' = none.
ALTER TABLE tracks ADD COLUMN art_mime TEXT NOT NULL DEFAULT '';
CREATE INDEX tracks_unanalysed ON tracks(id) WHERE loudness_lufs IS NULL;

ALTER TABLE stations ADD COLUMN sample_rate INTEGER NOT NULL DEFAULT 44100;
ALTER TABLE stations ADD COLUMN mp3_bitrate INTEGER NOT NULL DEFAULT 128000;
ALTER TABLE stations ADD COLUMN crossfade_ms INTEGER NOT NULL DEFAULT 2000;
ALTER TABLE stations ADD COLUMN loudness_enabled INTEGER NOT NULL DEFAULT 1;
ALTER TABLE stations ADD COLUMN loudness_target REAL NOT NULL DEFAULT -16;
ALTER TABLE stations ADD COLUMN jingle_every INTEGER NOT NULL DEFAULT 0;

-- One row per thing a station started playing. track_id is NULL for live
-- segments, and a deleted track keeps its rows (title and artist are
-- copied) so history stays true. The listener change while each entry
-- played is read from the statistics samples when history is asked for.
CREATE TABLE history (
    id              INTEGER PRIMARY KEY,
    station_id      INTEGER NOT NULL REFERENCES stations(id) ON DELETE CASCADE,
    track_id        INTEGER REFERENCES tracks(id) ON DELETE SET NULL,
    title           TEXT    NOT NULL DEFAULT '',
    artist          TEXT    NOT NULL DEFAULT '',
    started_at      INTEGER NOT NULL,
    source          TEXT    NOT NULL CHECK (source IN ('playlist', 'jingle', 'live'))
);
CREATE INDEX history_station_started ON history(station_id, started_at);
CREATE INDEX history_track_id ON history(track_id);
