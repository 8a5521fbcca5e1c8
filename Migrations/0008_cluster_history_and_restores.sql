-- ContainerPolicyStore schema, migration 8: the history records clusters and restores.
--
--   * Assigning a policy to a cluster and removing it are changes like any other: a row of
--     kind 'cluster' named by the ARN, action 'assign' or 'unassign', the policy it concerns
--     in policy_name (so a policy's history shows its clusters coming and going), revision 0
--     (clusters have none), no states. Moving a cluster from one policy to another is an
--     'unassign' of the first and an 'assign' of the second, so each policy's history holds
--     its half. The library records its own; triggers record every other writer's.
--   * A restore is recorded as action 'restore', with the revision it restored in
--     restored_revision, instead of as a plain 'modify'.
-- A CHECK cannot be changed in place, so `changes` is made again with the wider rules and the
-- two columns. Rows that break the new rules (written with the checks off) are kept as they
-- are, so that nothing is lost: checkIntegrity names them. Sequences are kept, so the order of
-- the history and every reader's last-seen sequence stay valid.

DROP VIEW change_log;
DROP TRIGGER changes_are_append_only_delete;
DROP TRIGGER changes_are_append_only_update;
DROP TRIGGER changes_insert_guard;
DROP INDEX changes_by_object;

CREATE TABLE changes_with_clusters (
    sequence          INTEGER PRIMARY KEY CONSTRAINT change_sequence_positive CHECK (sequence > 0),
    changed_at        TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    object_kind       TEXT NOT NULL CONSTRAINT change_object_kind CHECK (object_kind IN ('policy', 'ruleset', 'cluster')),
    object_name       TEXT NOT NULL COLLATE NOCASE,
    action            TEXT NOT NULL
                      CONSTRAINT change_action
                      CHECK (action IN ('create', 'modify', 'delete', 'link', 'unlink', 'restore', 'assign', 'unassign')),
    revision          INTEGER NOT NULL,
    before            TEXT,
    after             TEXT,
    actor             TEXT NOT NULL DEFAULT '',
    restored_revision INTEGER
                      CONSTRAINT change_restored_revision
                      CHECK ((action = 'restore') = (restored_revision IS NOT NULL) AND (restored_revision IS NULL OR restored_revision >= 1)),
    policy_name       TEXT COLLATE NOCASE,
    CONSTRAINT change_of_a_cluster CHECK (
        (object_kind = 'cluster') = (action IN ('assign', 'unassign'))
        AND (object_kind = 'cluster') = (policy_name IS NOT NULL)
        AND (object_kind <> 'cluster' OR (revision = 0 AND before IS NULL AND after IS NULL)))
) STRICT;

PRAGMA ignore_check_constraints = ON;
INSERT INTO changes_with_clusters (sequence, changed_at, object_kind, object_name, action, revision, before, after, actor)
SELECT sequence, changed_at, object_kind, object_name, action, revision, before, after, actor FROM changes;
PRAGMA ignore_check_constraints = OFF;

-- The triggers that record changes name the table; legacy renaming leaves them as they are,
-- where the new one would refuse them for naming a table that, for this one statement, is gone.
DROP TABLE changes;
PRAGMA legacy_alter_table = ON;
ALTER TABLE changes_with_clusters RENAME TO changes;
PRAGMA legacy_alter_table = OFF;

CREATE INDEX changes_by_object ON changes (object_kind, object_name, sequence);
CREATE INDEX changes_by_policy ON changes (policy_name, sequence) WHERE policy_name IS NOT NULL;

CREATE VIEW change_log AS
SELECT sequence, changed_at, object_kind, object_name, action, revision, restored_revision, policy_name, actor, before, after
FROM changes
ORDER BY sequence DESC;

CREATE TRIGGER changes_are_append_only_delete BEFORE DELETE ON changes
BEGIN
    SELECT RAISE(ABORT, 'the history is append-only: its rows cannot be deleted');
END;

CREATE TRIGGER changes_are_append_only_update BEFORE UPDATE ON changes
BEGIN
    SELECT RAISE(ABORT, 'the history is append-only: its rows cannot be changed');
END;

CREATE TRIGGER changes_insert_guard BEFORE INSERT ON changes
WHEN (SELECT recorded_by_library FROM write_context) IS NOT 1
BEGIN
    SELECT RAISE(ABORT, 'the history is append-only: a change with this sequence exists')
    WHERE EXISTS (SELECT 1 FROM changes WHERE sequence = NEW.sequence);
    SELECT RAISE(ABORT, 'the actor may hold at most 128 characters, none of them a control, line-breaking or formatting character')
    WHERE length(NEW.actor) > 128
       OR instr(CAST(NEW.actor AS BLOB), x'00') > 0
       OR NEW.actor GLOB '*[^ -~' || char(160) || '-' || char(1563) || char(1565) || '-' || char(8202)
                     || char(8208) || '-' || char(8231) || char(8239) || '-' || char(8287)
                     || char(8304) || '-' || char(65278) || char(65280) || '-' || char(65532)
                     || char(65536) || '-' || char(1114111) || ']*';
END;

-- Clusters, as other writers change them ----------------------------------------------------

CREATE TRIGGER clusters_record_insert AFTER INSERT ON clusters
WHEN NEW.policy_id IS NOT NULL AND (SELECT recorded_by_library FROM write_context) IS NOT 1
BEGIN
    INSERT INTO changes (object_kind, object_name, action, revision, actor, policy_name)
    SELECT 'cluster', NEW.arn, 'assign', 0, coalesce((SELECT actor FROM write_context), ''), name
    FROM policies WHERE id = NEW.policy_id;
END;

CREATE TRIGGER clusters_record_update AFTER UPDATE OF policy_id ON clusters
WHEN NEW.policy_id IS NOT OLD.policy_id AND (SELECT recorded_by_library FROM write_context) IS NOT 1
BEGIN
    INSERT INTO changes (object_kind, object_name, action, revision, actor, policy_name)
    SELECT 'cluster', OLD.arn, 'unassign', 0, coalesce((SELECT actor FROM write_context), ''), name
    FROM policies WHERE id = OLD.policy_id;
    INSERT INTO changes (object_kind, object_name, action, revision, actor, policy_name)
    SELECT 'cluster', NEW.arn, 'assign', 0, coalesce((SELECT actor FROM write_context), ''), name
    FROM policies WHERE id = NEW.policy_id;
END;

CREATE TRIGGER clusters_record_delete AFTER DELETE ON clusters
WHEN OLD.policy_id IS NOT NULL AND (SELECT recorded_by_library FROM write_context) IS NOT 1
BEGIN
    INSERT INTO changes (object_kind, object_name, action, revision, actor, policy_name)
    SELECT 'cluster', OLD.arn, 'unassign', 0, coalesce((SELECT actor FROM write_context), ''), name
    FROM policies WHERE id = OLD.policy_id;
END;
