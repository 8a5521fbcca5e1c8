-- ContainerPolicyStore schema, migration 1: the file's identity and the migration record.
-- Migrations are never edited once released; a change to the schema is a new file.

-- 'CPST': marks the file as a ContainerPolicyStore database, so no other program's file is
-- mistaken for one (and ours for theirs).
PRAGMA application_id = 1129337684;

-- One row per migration applied, with the SHA-256 of its SQL text.
CREATE TABLE schema_migrations (
    version    INTEGER PRIMARY KEY CHECK (version >= 1),
    name       TEXT NOT NULL,
    checksum   TEXT NOT NULL CHECK (length(checksum) = 64),
    applied_at TEXT NOT NULL
) STRICT;
