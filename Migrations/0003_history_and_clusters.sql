-- ContainerPolicyStore schema, migration 3: the history of every change, and the Amazon ECS
-- clusters that policies are assigned to.
--
-- History is written by triggers, so a change made from the sqlite3 shell is recorded too.
-- Every row holds the whole state before and after the change, as JSON, so any revision can
-- be read back or restored without replaying the rows before it.

-- The actor of the changes being made: the library writes one row at the start of a write
-- transaction and deletes it before the commit, so the row is never seen outside that
-- transaction. From the shell the table is empty and the actor is ''.
CREATE TABLE change_actor (
    actor TEXT NOT NULL
) STRICT;

CREATE TABLE changes (
    sequence    INTEGER PRIMARY KEY,
    changed_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    object_kind TEXT NOT NULL CONSTRAINT change_object_kind CHECK (object_kind IN ('policy', 'ruleset')),
    object_name TEXT NOT NULL COLLATE NOCASE,
    action      TEXT NOT NULL
                CONSTRAINT change_action CHECK (action IN ('create', 'modify', 'delete', 'link', 'unlink')),
    revision    INTEGER NOT NULL,
    before      TEXT,
    after       TEXT,
    actor       TEXT NOT NULL DEFAULT ''
) STRICT;

CREATE INDEX changes_by_object ON changes (object_kind, object_name, sequence);

CREATE TRIGGER changes_are_append_only_update BEFORE UPDATE ON changes
BEGIN
    SELECT RAISE(ABORT, 'the history is append-only: its rows cannot be changed');
END;

CREATE TRIGGER changes_are_append_only_delete BEFORE DELETE ON changes
BEGIN
    SELECT RAISE(ABORT, 'the history is append-only: its rows cannot be deleted');
END;

-- Amazon ECS clusters, identified by ARN, each with at most one policy.
CREATE TABLE clusters (
    id          INTEGER PRIMARY KEY,
    arn         TEXT NOT NULL UNIQUE
                CONSTRAINT cluster_arn_format CHECK (
                    length(arn) = length(CAST(arn AS BLOB))
                    AND substr(arn, 1, 12) = 'arn:aws:ecs:'
                    AND substr(arn, 13) GLOB '[a-z][a-z]-*-[0-9]:[0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]:cluster/?*'
                    AND substr(arn, 13, instr(substr(arn, 13), ':') - 1) NOT GLOB '*[^a-z0-9-]*'
                    AND substr(arn, instr(arn, ':cluster/') + 9) NOT GLOB '*[^A-Za-z0-9_-]*'
                    AND length(arn) - instr(arn, ':cluster/') - 8 BETWEEN 1 AND 255),
    policy_id   INTEGER REFERENCES policies (id) ON DELETE RESTRICT,
    assigned_at TEXT
                CONSTRAINT cluster_assigned_at_format CHECK (
                    assigned_at IS NULL
                    OR (length(CAST(assigned_at AS BLOB)) = 24
                        AND assigned_at GLOB '[0-9][0-9][0-9][0-9]-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9].[0-9][0-9][0-9]Z'))
) STRICT;

CREATE INDEX clusters_by_policy ON clusters (policy_id) WHERE policy_id IS NOT NULL;

CREATE TRIGGER clusters_policy_exists BEFORE INSERT ON clusters
WHEN NEW.policy_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM policies WHERE id = NEW.policy_id)
BEGIN
    SELECT RAISE(ABORT, 'no policy has this policy_id');
END;

CREATE TRIGGER clusters_update_guard BEFORE UPDATE ON clusters
BEGIN
    SELECT RAISE(ABORT, 'no policy has this policy_id')
    WHERE NEW.policy_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM policies WHERE id = NEW.policy_id);
    SELECT RAISE(ABORT, 'a cluster ARN cannot be changed: add the cluster again under its new ARN')
    WHERE CAST(NEW.arn AS BLOB) IS NOT CAST(OLD.arn AS BLOB) OR NEW.id IS NOT OLD.id;
END;

-- The product: "You cannot delete active policies. You must remove the policy from all
-- clusters before you can delete it."
CREATE TRIGGER policies_delete_guard BEFORE DELETE ON policies
BEGIN
    SELECT RAISE(ABORT, 'this policy is assigned to a cluster: remove the policy from all clusters before you can delete it')
    WHERE EXISTS (SELECT 1 FROM clusters WHERE policy_id = OLD.id);
END;

-- A change of revision may not carry a change of content, so no content changes without
-- the history hearing of it. (Migration 2 allowed any +1.)
DROP TRIGGER policies_update_guard;
CREATE TRIGGER policies_update_guard BEFORE UPDATE ON policies
BEGIN
    SELECT RAISE(ABORT, 'a policy name cannot be changed after the policy is created')
    WHERE CAST(NEW.name AS BLOB) IS NOT CAST(OLD.name AS BLOB);
    SELECT RAISE(ABORT, 'a policy id cannot be changed')
    WHERE NEW.id IS NOT OLD.id;
    SELECT RAISE(ABORT, 'created_at cannot be changed')
    WHERE NEW.created_at IS NOT OLD.created_at;
    SELECT RAISE(ABORT, 'revision is kept by the database: leave it out of the UPDATE')
    WHERE NEW.revision IS NOT OLD.revision
      AND (NEW.revision IS NOT OLD.revision + 1
           OR CAST(NEW.description AS BLOB) IS NOT CAST(OLD.description AS BLOB)
           OR NEW.xdr_enabled IS NOT OLD.xdr_enabled);
END;

DROP TRIGGER rulesets_update_guard;
CREATE TRIGGER rulesets_update_guard BEFORE UPDATE ON rulesets
BEGIN
    SELECT RAISE(ABORT, 'a ruleset name cannot be changed after the ruleset is created')
    WHERE CAST(NEW.name AS BLOB) IS NOT CAST(OLD.name AS BLOB);
    SELECT RAISE(ABORT, 'a ruleset id cannot be changed')
    WHERE NEW.id IS NOT OLD.id;
    SELECT RAISE(ABORT, 'created_at cannot be changed')
    WHERE NEW.created_at IS NOT OLD.created_at;
    SELECT RAISE(ABORT, 'revision is kept by the database: leave it out of the UPDATE')
    WHERE NEW.revision IS NOT OLD.revision
      AND (NEW.revision IS NOT OLD.revision + 1
           OR CAST(NEW.description AS BLOB) IS NOT CAST(OLD.description AS BLOB));
END;

-- Policies: create, modify, delete ------------------------------------------------------
--
-- The states are JSON built with ||, replace() and group_concat(): SQLite's JSON functions
-- are not allowed in a schema while trusted_schema is OFF. Names, rule IDs and mitigations
-- need no escaping (their CHECKs allow no quote, backslash or control character);
-- descriptions may hold only tab, line feed and carriage return among control characters,
-- which the replace() calls escape along with '\' and '"'.

CREATE TRIGGER policies_record_create AFTER INSERT ON policies
BEGIN
    INSERT INTO changes (object_kind, object_name, action, revision, before, after, actor)
    VALUES ('policy', NEW.name, 'create', NEW.revision, NULL,
            '{"name":"' || NEW.name || '","description":"' || replace(replace(replace(replace(replace(NEW.description, '\', '\\'), '"', '\"'), char(10), '\n'), char(13), '\r'), char(9), '\t')
            || '","xdrEnabled":' || CASE NEW.xdr_enabled WHEN 1 THEN 'true' ELSE 'false' END
            || ',"rulesets":' || '[]' || '}',
            coalesce((SELECT actor FROM change_actor), ''));
END;

DROP TRIGGER policies_count_change;
CREATE TRIGGER policies_count_change AFTER UPDATE ON policies
WHEN NEW.revision = OLD.revision
BEGIN
    UPDATE policies
    SET revision = OLD.revision + 1,
        updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
    WHERE id = NEW.id;
    INSERT INTO changes (object_kind, object_name, action, revision, before, after, actor)
    SELECT 'policy', NEW.name, 'modify', OLD.revision + 1,
           '{"name":"' || OLD.name || '","description":"' || replace(replace(replace(replace(replace(OLD.description, '\', '\\'), '"', '\"'), char(10), '\n'), char(13), '\r'), char(9), '\t')
           || '","xdrEnabled":' || CASE OLD.xdr_enabled WHEN 1 THEN 'true' ELSE 'false' END
           || ',"rulesets":' || linked.names || '}',
           '{"name":"' || NEW.name || '","description":"' || replace(replace(replace(replace(replace(NEW.description, '\', '\\'), '"', '\"'), char(10), '\n'), char(13), '\r'), char(9), '\t')
           || '","xdrEnabled":' || CASE NEW.xdr_enabled WHEN 1 THEN 'true' ELSE 'false' END
           || ',"rulesets":' || linked.names || '}',
           coalesce((SELECT actor FROM change_actor), '')
    FROM (SELECT '[' || coalesce((SELECT group_concat('"' || name || '"', ',') FROM (
               SELECT r.name FROM policy_rulesets AS pr JOIN rulesets AS r ON r.id = pr.ruleset_id WHERE pr.policy_id = NEW.id ORDER BY r.name)), '') || ']' AS names) AS linked;
END;

CREATE TRIGGER policies_record_delete BEFORE DELETE ON policies
BEGIN
    INSERT INTO changes (object_kind, object_name, action, revision, before, after, actor)
    VALUES ('policy', OLD.name, 'delete', OLD.revision,
            '{"name":"' || OLD.name || '","description":"' || replace(replace(replace(replace(replace(OLD.description, '\', '\\'), '"', '\"'), char(10), '\n'), char(13), '\r'), char(9), '\t')
            || '","xdrEnabled":' || CASE OLD.xdr_enabled WHEN 1 THEN 'true' ELSE 'false' END
            || ',"rulesets":' || '[' || coalesce((SELECT group_concat('"' || name || '"', ',') FROM (
               SELECT r.name FROM policy_rulesets AS pr JOIN rulesets AS r ON r.id = pr.ruleset_id WHERE pr.policy_id = OLD.id ORDER BY r.name)), '') || ']' || '}',
            NULL,
            coalesce((SELECT actor FROM change_actor), ''));
END;

-- Links: link, unlink -------------------------------------------------------------------

DROP TRIGGER policy_rulesets_count_insert;
CREATE TRIGGER policy_rulesets_count_insert AFTER INSERT ON policy_rulesets
BEGIN
    UPDATE policies
    SET revision = revision + 1,
        updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now'),
        rulesets_updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
    WHERE id = NEW.policy_id;
    INSERT INTO changes (object_kind, object_name, action, revision, before, after, actor)
    SELECT 'policy', p.name, 'link', p.revision,
           '{"name":"' || p.name || '","description":"' || replace(replace(replace(replace(replace(p.description, '\', '\\'), '"', '\"'), char(10), '\n'), char(13), '\r'), char(9), '\t')
           || '","xdrEnabled":' || CASE p.xdr_enabled WHEN 1 THEN 'true' ELSE 'false' END
           || ',"rulesets":' || '[' || coalesce((SELECT group_concat('"' || name || '"', ',') FROM (
               SELECT r.name FROM policy_rulesets AS pr JOIN rulesets AS r ON r.id = pr.ruleset_id WHERE pr.policy_id = p.id AND pr.ruleset_id <> NEW.ruleset_id ORDER BY r.name)), '') || ']' || '}',
           '{"name":"' || p.name || '","description":"' || replace(replace(replace(replace(replace(p.description, '\', '\\'), '"', '\"'), char(10), '\n'), char(13), '\r'), char(9), '\t')
           || '","xdrEnabled":' || CASE p.xdr_enabled WHEN 1 THEN 'true' ELSE 'false' END
           || ',"rulesets":' || '[' || coalesce((SELECT group_concat('"' || name || '"', ',') FROM (
               SELECT r.name FROM policy_rulesets AS pr JOIN rulesets AS r ON r.id = pr.ruleset_id WHERE pr.policy_id = p.id ORDER BY r.name)), '') || ']' || '}',
           coalesce((SELECT actor FROM change_actor), '')
    FROM policies AS p WHERE p.id = NEW.policy_id;
END;

-- When a whole policy is deleted, its links go with it; the policy's own 'delete' row says so.
DROP TRIGGER policy_rulesets_count_delete;
CREATE TRIGGER policy_rulesets_count_delete AFTER DELETE ON policy_rulesets
BEGIN
    UPDATE policies
    SET revision = revision + 1,
        updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now'),
        rulesets_updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
    WHERE id = OLD.policy_id;
    INSERT INTO changes (object_kind, object_name, action, revision, before, after, actor)
    SELECT 'policy', p.name, 'unlink', p.revision,
           '{"name":"' || p.name || '","description":"' || replace(replace(replace(replace(replace(p.description, '\', '\\'), '"', '\"'), char(10), '\n'), char(13), '\r'), char(9), '\t')
           || '","xdrEnabled":' || CASE p.xdr_enabled WHEN 1 THEN 'true' ELSE 'false' END
           || ',"rulesets":' || '[' || coalesce((SELECT group_concat('"' || name || '"', ',') FROM (
               SELECT r.name FROM rulesets AS r WHERE r.id = OLD.ruleset_id OR r.id IN (SELECT ruleset_id FROM policy_rulesets WHERE policy_id = p.id) ORDER BY r.name)), '') || ']' || '}',
           '{"name":"' || p.name || '","description":"' || replace(replace(replace(replace(replace(p.description, '\', '\\'), '"', '\"'), char(10), '\n'), char(13), '\r'), char(9), '\t')
           || '","xdrEnabled":' || CASE p.xdr_enabled WHEN 1 THEN 'true' ELSE 'false' END
           || ',"rulesets":' || '[' || coalesce((SELECT group_concat('"' || name || '"', ',') FROM (
               SELECT r.name FROM policy_rulesets AS pr JOIN rulesets AS r ON r.id = pr.ruleset_id WHERE pr.policy_id = p.id ORDER BY r.name)), '') || ']' || '}',
           coalesce((SELECT actor FROM change_actor), '')
    FROM policies AS p WHERE p.id = OLD.policy_id;
END;

-- Rulesets: create, modify (the row or its rules), delete ---------------------------------

CREATE TRIGGER rulesets_record_create AFTER INSERT ON rulesets
BEGIN
    INSERT INTO changes (object_kind, object_name, action, revision, before, after, actor)
    VALUES ('ruleset', NEW.name, 'create', NEW.revision, NULL,
            '{"name":"' || NEW.name || '","description":"' || replace(replace(replace(replace(replace(NEW.description, '\', '\\'), '"', '\"'), char(10), '\n'), char(13), '\r'), char(9), '\t')
            || '","rules":' || '[]' || '}',
            coalesce((SELECT actor FROM change_actor), ''));
END;

DROP TRIGGER rulesets_count_change;
CREATE TRIGGER rulesets_count_change AFTER UPDATE ON rulesets
WHEN NEW.revision = OLD.revision
BEGIN
    UPDATE rulesets
    SET revision = OLD.revision + 1,
        updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
    WHERE id = NEW.id;
    INSERT INTO changes (object_kind, object_name, action, revision, before, after, actor)
    SELECT 'ruleset', NEW.name, 'modify', OLD.revision + 1,
           '{"name":"' || OLD.name || '","description":"' || replace(replace(replace(replace(replace(OLD.description, '\', '\\'), '"', '\"'), char(10), '\n'), char(13), '\r'), char(9), '\t')
           || '","rules":' || current.rules || '}',
           '{"name":"' || NEW.name || '","description":"' || replace(replace(replace(replace(replace(NEW.description, '\', '\\'), '"', '\"'), char(10), '\n'), char(13), '\r'), char(9), '\t')
           || '","rules":' || current.rules || '}',
           coalesce((SELECT actor FROM change_actor), '')
    FROM (SELECT '[' || coalesce((SELECT group_concat('{"id":"' || rule_id || '","mitigation":"' || mitigation || '"}', ',') FROM (
               SELECT rule_id, mitigation FROM ruleset_rules WHERE ruleset_id = NEW.id ORDER BY rule_id)), '') || ']' AS rules) AS current;
END;

CREATE TRIGGER rulesets_record_delete BEFORE DELETE ON rulesets
BEGIN
    INSERT INTO changes (object_kind, object_name, action, revision, before, after, actor)
    VALUES ('ruleset', OLD.name, 'delete', OLD.revision,
            '{"name":"' || OLD.name || '","description":"' || replace(replace(replace(replace(replace(OLD.description, '\', '\\'), '"', '\"'), char(10), '\n'), char(13), '\r'), char(9), '\t')
            || '","rules":' || '[' || coalesce((SELECT group_concat('{"id":"' || rule_id || '","mitigation":"' || mitigation || '"}', ',') FROM (
                SELECT rule_id, mitigation FROM ruleset_rules WHERE ruleset_id = OLD.id ORDER BY rule_id)), '') || ']' || '}',
            NULL,
            coalesce((SELECT actor FROM change_actor), ''));
END;

-- A rule change is a 'modify' of its ruleset; the rules before are the rules now with this
-- one change undone. When a whole ruleset is deleted its rules go with it, unrecorded: the
-- ruleset's own 'delete' row holds them.
DROP TRIGGER ruleset_rules_count_insert;
CREATE TRIGGER ruleset_rules_count_insert AFTER INSERT ON ruleset_rules
BEGIN
    UPDATE rulesets
    SET revision = revision + 1, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
    WHERE id = NEW.ruleset_id;
    INSERT INTO changes (object_kind, object_name, action, revision, before, after, actor)
    SELECT 'ruleset', s.name, 'modify', s.revision,
           '{"name":"' || s.name || '","description":"' || replace(replace(replace(replace(replace(s.description, '\', '\\'), '"', '\"'), char(10), '\n'), char(13), '\r'), char(9), '\t')
           || '","rules":' || '[' || coalesce((SELECT group_concat('{"id":"' || rule_id || '","mitigation":"' || mitigation || '"}', ',') FROM (
               SELECT rule_id, mitigation FROM ruleset_rules WHERE ruleset_id = s.id AND rule_id <> NEW.rule_id ORDER BY rule_id)), '') || ']' || '}',
           '{"name":"' || s.name || '","description":"' || replace(replace(replace(replace(replace(s.description, '\', '\\'), '"', '\"'), char(10), '\n'), char(13), '\r'), char(9), '\t')
           || '","rules":' || '[' || coalesce((SELECT group_concat('{"id":"' || rule_id || '","mitigation":"' || mitigation || '"}', ',') FROM (
               SELECT rule_id, mitigation FROM ruleset_rules WHERE ruleset_id = s.id ORDER BY rule_id)), '') || ']' || '}',
           coalesce((SELECT actor FROM change_actor), '')
    FROM rulesets AS s WHERE s.id = NEW.ruleset_id;
END;

DROP TRIGGER ruleset_rules_count_update;
CREATE TRIGGER ruleset_rules_count_update AFTER UPDATE ON ruleset_rules
BEGIN
    UPDATE rulesets
    SET revision = revision + 1, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
    WHERE id = NEW.ruleset_id;
    INSERT INTO changes (object_kind, object_name, action, revision, before, after, actor)
    SELECT 'ruleset', s.name, 'modify', s.revision,
           '{"name":"' || s.name || '","description":"' || replace(replace(replace(replace(replace(s.description, '\', '\\'), '"', '\"'), char(10), '\n'), char(13), '\r'), char(9), '\t')
           || '","rules":' || '[' || coalesce((SELECT group_concat('{"id":"' || rule_id || '","mitigation":"' || mitigation || '"}', ',') FROM (
               SELECT rule_id, mitigation FROM ruleset_rules WHERE ruleset_id = s.id AND rule_id <> NEW.rule_id UNION ALL SELECT OLD.rule_id, OLD.mitigation ORDER BY rule_id)), '') || ']' || '}',
           '{"name":"' || s.name || '","description":"' || replace(replace(replace(replace(replace(s.description, '\', '\\'), '"', '\"'), char(10), '\n'), char(13), '\r'), char(9), '\t')
           || '","rules":' || '[' || coalesce((SELECT group_concat('{"id":"' || rule_id || '","mitigation":"' || mitigation || '"}', ',') FROM (
               SELECT rule_id, mitigation FROM ruleset_rules WHERE ruleset_id = s.id ORDER BY rule_id)), '') || ']' || '}',
           coalesce((SELECT actor FROM change_actor), '')
    FROM rulesets AS s WHERE s.id = NEW.ruleset_id;
END;

DROP TRIGGER ruleset_rules_count_delete;
CREATE TRIGGER ruleset_rules_count_delete AFTER DELETE ON ruleset_rules
BEGIN
    UPDATE rulesets
    SET revision = revision + 1, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
    WHERE id = OLD.ruleset_id;
    INSERT INTO changes (object_kind, object_name, action, revision, before, after, actor)
    SELECT 'ruleset', s.name, 'modify', s.revision,
           '{"name":"' || s.name || '","description":"' || replace(replace(replace(replace(replace(s.description, '\', '\\'), '"', '\"'), char(10), '\n'), char(13), '\r'), char(9), '\t')
           || '","rules":' || '[' || coalesce((SELECT group_concat('{"id":"' || rule_id || '","mitigation":"' || mitigation || '"}', ',') FROM (
               SELECT rule_id, mitigation FROM ruleset_rules WHERE ruleset_id = s.id UNION ALL SELECT OLD.rule_id, OLD.mitigation ORDER BY rule_id)), '') || ']' || '}',
           '{"name":"' || s.name || '","description":"' || replace(replace(replace(replace(replace(s.description, '\', '\\'), '"', '\"'), char(10), '\n'), char(13), '\r'), char(9), '\t')
           || '","rules":' || '[' || coalesce((SELECT group_concat('{"id":"' || rule_id || '","mitigation":"' || mitigation || '"}', ',') FROM (
               SELECT rule_id, mitigation FROM ruleset_rules WHERE ruleset_id = s.id ORDER BY rule_id)), '') || ']' || '}',
           coalesce((SELECT actor FROM change_actor), '')
    FROM rulesets AS s WHERE s.id = OLD.ruleset_id;
END;

-- Views ----------------------------------------------------------------------------------

-- Every change, newest first, for reading at the shell.
CREATE VIEW change_log AS
SELECT sequence, changed_at, object_kind, object_name, action, revision, actor, before, after
FROM changes
ORDER BY sequence DESC;
