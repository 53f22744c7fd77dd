-- Catalog schema 1. Never edit once released: add a new numbered file instead.
-- The catalog is an index: packs/ and snapshots/ in the store are the source of truth.

CREATE TABLE config (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
);

-- One row per backup set. Times are milliseconds since the epoch.
CREATE TABLE sets (
  id          INTEGER PRIMARY KEY,
  name        TEXT NOT NULL UNIQUE,
  completed   INTEGER NOT NULL DEFAULT 0,
  priority    INTEGER NOT NULL DEFAULT 0,
  keep_days   INTEGER NOT NULL DEFAULT 0,
  full        INTEGER NOT NULL DEFAULT 0,
  locked      INTEGER NOT NULL DEFAULT 0,
  explicit    INTEGER NOT NULL DEFAULT 0,   -- name given by the user (never auto-renamed)
  start_time  INTEGER NOT NULL,
  end_time    INTEGER,
  client_time INTEGER,
  session     TEXT,
  client_version TEXT,
  stats       TEXT,                         -- JSON
  error       TEXT,
  snapshot    TEXT                          -- snapshot file name in the store
);

-- Tags are encrypted (deterministically) by the client; one tag names one set.
CREATE TABLE tags (
  name   BLOB PRIMARY KEY,
  set_id INTEGER NOT NULL REFERENCES sets(id) ON DELETE CASCADE
);

-- The path tree: one row per distinct (parent, encrypted name) ever seen. Node 0 is "/".
CREATE TABLE nodes (
  id     INTEGER PRIMARY KEY,
  parent INTEGER NOT NULL,
  name   BLOB NOT NULL,
  UNIQUE (parent, name)
);

-- Whole-file contents, shared by every version (and every file) with the same plaintext.
CREATE TABLE contents (
  id     INTEGER PRIMARY KEY,
  hash   BLOB NOT NULL UNIQUE,              -- keyed hash of the plaintext
  size   INTEGER NOT NULL,
  chunks BLOB NOT NULL                      -- concatenated 32-byte chunk ids, in order
);

-- Versions of a node: visible in every set id in [first_set, last_set]; last_set NULL = current.
-- An unchanged file costs no row and no update per new set.
CREATE TABLE versions (
  id        INTEGER PRIMARY KEY,
  node      INTEGER NOT NULL,
  first_set INTEGER NOT NULL,
  last_set  INTEGER,
  type      INTEGER NOT NULL,               -- 0 file, 1 dir, 2 symlink, 3 fifo, 4 chardev, 5 blockdev
  mode      INTEGER NOT NULL,
  uid       INTEGER NOT NULL,
  gid       INTEGER NOT NULL,
  user      BLOB,                           -- encrypted owner name
  grp       BLOB,                           -- encrypted group name
  size      INTEGER NOT NULL,
  mtime_s   INTEGER NOT NULL,
  mtime_ns  INTEGER NOT NULL,
  ctime_s   INTEGER NOT NULL,
  ctime_ns  INTEGER NOT NULL,
  atime_s   INTEGER NOT NULL,
  atime_ns  INTEGER NOT NULL,
  ino       INTEGER NOT NULL,
  dev       INTEGER NOT NULL,
  nlink     INTEGER NOT NULL,
  rdev      INTEGER NOT NULL DEFAULT 0,
  content   INTEGER REFERENCES contents(id),
  target    BLOB                            -- encrypted symlink target
);
CREATE INDEX versions_node  ON versions(node, first_set);
CREATE INDEX versions_open  ON versions(node) WHERE last_set IS NULL;
CREATE INDEX versions_inode ON versions(ino, size);
CREATE INDEX versions_last  ON versions(last_set) WHERE last_set IS NOT NULL; -- closed versions (purge)

-- Where each stored chunk lives.
CREATE TABLE packs (
  name    TEXT PRIMARY KEY,
  size    INTEGER NOT NULL,
  count   INTEGER NOT NULL,
  created INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE chunks (
  id     BLOB PRIMARY KEY,                  -- keyed chunk id (32 bytes)
  pack   TEXT NOT NULL,
  offset INTEGER NOT NULL,
  length INTEGER NOT NULL,
  type   INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE INDEX chunks_pack ON chunks(pack);

-- Keyed hash of a directory's listing as last fully committed: a match means the directory is
-- unchanged and needs no per-entry work.
CREATE TABLE dir_listing (
  node INTEGER PRIMARY KEY,
  hash BLOB NOT NULL
);
