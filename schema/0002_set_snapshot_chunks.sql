-- The chunk ids a set's snapshot is stored in (concatenated 32-byte keyed ids). The manifest
-- that lists them is sealed, so without this column the repository side could not tell which
-- tree chunks are still in use when it collects garbage.
ALTER TABLE sets ADD COLUMN snapshot_chunks BLOB;
