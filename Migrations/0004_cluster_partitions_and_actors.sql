-- ContainerPolicyStore schema, migration 4: cluster ARNs of every partition, and actors that
-- a history listing can show safely.
--
-- Clusters: migration 3 accepted only arn:aws:ecs: and regions like '[a-z][a-z]-*-[0-9]'
-- (so 'us--1' passed, and the aws-cn and aws-us-gov partitions did not). A CHECK cannot be
-- changed in place, so the table is made again. Its ARN is split into generated columns,
-- which the CHECK reads and shell users can query:
--   arn:<partition>:ecs:<region>:<account>:cluster/<cluster_name>
-- A region is two letters, words of letters, and a number of one or two digits, joined by
-- single dashes; cn-* regions are in aws-cn, us-gov-* in aws-us-gov, all others in aws.
-- Rows that break the new rule (written before it) are kept as they are, so that nothing is
-- lost: checkIntegrity names them.

DROP TRIGGER policies_delete_guard;
DROP TRIGGER clusters_insert_guard;
DROP TRIGGER clusters_update_guard;
DROP INDEX clusters_by_policy;

CREATE TABLE clusters_partitioned (
    id           INTEGER PRIMARY KEY CONSTRAINT cluster_id_positive CHECK (id > 0),
    arn          TEXT NOT NULL UNIQUE,
    policy_id    INTEGER REFERENCES policies (id) ON DELETE RESTRICT,
    assigned_at  TEXT,
    partition    TEXT GENERATED ALWAYS AS (substr(arn, 5, instr(substr(arn, 5), ':') - 1)) VIRTUAL,
    region       TEXT GENERATED ALWAYS AS (
                     substr(arn, length(partition) + 10,
                            instr(substr(arn, length(partition) + 10), ':') - 1)) VIRTUAL,
    account      TEXT GENERATED ALWAYS AS (substr(arn, length(partition) + length(region) + 11, 12)) VIRTUAL,
    cluster_name TEXT GENERATED ALWAYS AS (substr(arn, length(partition) + length(region) + 32)) VIRTUAL,
    CONSTRAINT cluster_arn_format CHECK (
        length(arn) = length(CAST(arn AS BLOB))
        AND substr(arn, 1, 4) = 'arn:'
        AND partition IN ('aws', 'aws-cn', 'aws-us-gov')
        AND substr(arn, length(partition) + 5, 5) = ':ecs:'
        AND region NOT GLOB '*[^a-z0-9-]*'
        AND region NOT GLOB '*--*'
        AND (region GLOB '[a-z][a-z]-[a-z]*-[0-9]' OR region GLOB '[a-z][a-z]-[a-z]*-[0-9][0-9]')
        AND substr(region, 1, length(region) - CASE WHEN region GLOB '*-[0-9][0-9]' THEN 3 ELSE 2 END) NOT GLOB '*[0-9]*'
        AND partition = CASE WHEN region GLOB 'cn-*' THEN 'aws-cn' WHEN region GLOB 'us-gov-*' THEN 'aws-us-gov' ELSE 'aws' END
        AND account GLOB '[0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]'
        AND substr(arn, length(partition) + length(region) + 23, 9) = ':cluster/'
        AND length(cluster_name) BETWEEN 1 AND 255
        AND cluster_name NOT GLOB '*[^A-Za-z0-9_-]*'),
    CONSTRAINT cluster_assigned_at_with_policy CHECK ((policy_id IS NULL) = (assigned_at IS NULL))
) STRICT;

PRAGMA ignore_check_constraints = ON;
INSERT INTO clusters_partitioned (id, arn, policy_id, assigned_at)
SELECT id, arn, policy_id, assigned_at FROM clusters;
PRAGMA ignore_check_constraints = OFF;

DROP TABLE clusters;
ALTER TABLE clusters_partitioned RENAME TO clusters;

CREATE INDEX clusters_by_policy ON clusters (policy_id, arn) WHERE policy_id IS NOT NULL;

CREATE TRIGGER clusters_insert_guard BEFORE INSERT ON clusters
BEGIN
    SELECT RAISE(ABORT, 'this cluster exists already: update its policy_id instead')
    WHERE EXISTS (SELECT 1 FROM clusters WHERE arn = NEW.arn OR id = NEW.id);
    SELECT RAISE(ABORT, 'no policy has this policy_id')
    WHERE NEW.policy_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM policies WHERE id = NEW.policy_id);
    SELECT RAISE(ABORT, 'assigned_at is kept by the database: set it to now, with the policy')
    WHERE NEW.assigned_at IS NOT NULL AND NEW.assigned_at IS NOT strftime('%Y-%m-%dT%H:%M:%fZ', 'now');
END;

CREATE TRIGGER clusters_update_guard BEFORE UPDATE ON clusters
BEGIN
    SELECT RAISE(ABORT, 'a cluster ARN cannot be changed: add the cluster again under its new ARN')
    WHERE CAST(NEW.arn AS BLOB) IS NOT CAST(OLD.arn AS BLOB) OR NEW.id IS NOT OLD.id;
    SELECT RAISE(ABORT, 'no policy has this policy_id')
    WHERE NEW.policy_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM policies WHERE id = NEW.policy_id);
    SELECT RAISE(ABORT, 'assigned_at is kept by the database: set it to now when the policy changes')
    WHERE NEW.assigned_at IS NOT OLD.assigned_at AND NEW.assigned_at IS NOT NULL AND NEW.assigned_at IS NOT strftime('%Y-%m-%dT%H:%M:%fZ', 'now');
    SELECT RAISE(ABORT, 'assigned_at must move to now when the policy changes')
    WHERE NEW.policy_id IS NOT NULL AND NEW.policy_id IS NOT OLD.policy_id AND NEW.assigned_at IS NOT strftime('%Y-%m-%dT%H:%M:%fZ', 'now');
END;

-- The product: "You cannot delete active policies. You must remove the policy from all
-- clusters before you can delete it."
CREATE TRIGGER policies_delete_guard BEFORE DELETE ON policies
BEGIN
    SELECT RAISE(ABORT, 'this policy is assigned to a cluster: remove the policy from all clusters before you can delete it')
    WHERE EXISTS (SELECT 1 FROM clusters WHERE policy_id = OLD.id);
END;

-- Actors: every history listing shows who made a change, one per line. At most 128
-- characters, and none that could move a terminal's cursor, break the line or reorder what it
-- shows: printable ASCII and everything above U+009F but U+061C, U+200B to U+200F, U+2028
-- to U+202E, U+2060 to U+206F, U+FEFF and U+FFFD to U+FFFF (ActorRules in the library
-- allows the same ranges). Rows recorded before this migration stay as they are.
DROP TRIGGER changes_insert_guard;
CREATE TRIGGER changes_insert_guard BEFORE INSERT ON changes
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
