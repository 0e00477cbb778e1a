-- 0003: accounts an admin can disable. A disabled user keeps its stations
-- and tracks but cannot log in, and its sessions no longer count.

ALTER TABLE users ADD COLUMN disabled INTEGER NOT NULL DEFAULT 0;
