-- ContainerPolicyStore schema, migration 3: the history of every change, and the Amazon ECS
-- clusters that policies are assigned to.
--
-- Every row of `changes` holds the whole state before and after a change, as JSON, so any
-- revision can be read back or restored without replaying the rows before it.
--
-- Who writes the history:
--   * the library records each of its operations itself, as one change with one revision
--     (a policy created with three rulesets is one 'create' at revision 1);
--   * any other writer (the sqlite3 shell) is recorded by the triggers below, one change per
--     row changed, so nothing done outside the library goes unrecorded.
-- The library tells the triggers apart from itself through `write_context`.
--
-- The states are JSON built with ||, replace() and group_concat(): SQLite's JSON functions may
-- not be used in a schema while trusted_schema is OFF (SQLite 3.40). Names, rule IDs and
-- mitigations cannot hold a character JSON must escape; descriptions can hold only '\', '"',
-- tab, line feed and carriage return among them, which the replace() calls escape.

-- One row, only inside the library's write transactions: who is writing, and that the
-- library records its own changes. The library deletes the row before it commits, so outside
-- that transaction the table is empty and the triggers record (with an empty actor).
CREATE TABLE write_context (
    id                  INTEGER PRIMARY KEY CONSTRAINT write_context_one_row CHECK (id = 1),
    actor               TEXT NOT NULL DEFAULT '',
    recorded_by_library INTEGER NOT NULL DEFAULT 0
                        CONSTRAINT write_context_flag CHECK (recorded_by_library IN (0, 1))
) STRICT;

CREATE TABLE changes (
    sequence    INTEGER PRIMARY KEY CONSTRAINT change_sequence_positive CHECK (sequence > 0),
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

-- Append-only: no row is changed or replaced (INSERT OR REPLACE would delete the old row
-- without firing a delete trigger, hence the insert guard).
CREATE TRIGGER changes_insert_guard BEFORE INSERT ON changes
BEGIN
    SELECT RAISE(ABORT, 'the history is append-only: a change with this sequence exists')
    WHERE EXISTS (SELECT 1 FROM changes WHERE sequence = NEW.sequence);
END;

CREATE TRIGGER changes_are_append_only_update BEFORE UPDATE ON changes
BEGIN
    SELECT RAISE(ABORT, 'the history is append-only: its rows cannot be changed');
END;

CREATE TRIGGER changes_are_append_only_delete BEFORE DELETE ON changes
BEGIN
    SELECT RAISE(ABORT, 'the history is append-only: its rows cannot be deleted');
END;

-- The states the history records. `head` is everything but the list, so a trigger can
-- write the state with a list as it was before a link or rule changed.
CREATE VIEW policy_state_parts AS
SELECT p.id,
       '{"name":"' || p.name || '","description":"' || replace(replace(replace(replace(replace(p.description, '\', '\\'), '"', '\"'), char(10), '\n'), char(13), '\r'), char(9), '\t')
           || '","xdrEnabled":' || CASE p.xdr_enabled WHEN 1 THEN 'true' ELSE 'false' END AS head,
       (SELECT '[' || coalesce(group_concat('"' || name || '"', ','), '') || ']'
        FROM (SELECT r.name FROM policy_rulesets AS pr JOIN rulesets AS r ON r.id = pr.ruleset_id WHERE pr.policy_id = p.id ORDER BY r.name)) AS rulesets
FROM policies AS p;

CREATE VIEW policy_states AS
SELECT id, head || ',"rulesets":' || rulesets || '}' AS state FROM policy_state_parts;

CREATE VIEW ruleset_state_parts AS
SELECT s.id,
       '{"name":"' || s.name || '","description":"' || replace(replace(replace(replace(replace(s.description, '\', '\\'), '"', '\"'), char(10), '\n'), char(13), '\r'), char(9), '\t') || '"' AS head,
       (SELECT '[' || coalesce(group_concat('{"id":"' || rule_id || '","mitigation":"' || mitigation || '"}', ','), '') || ']'
        FROM (SELECT rule_id, mitigation FROM ruleset_rules WHERE ruleset_id = s.id ORDER BY rule_id)) AS rules
FROM rulesets AS s;

CREATE VIEW ruleset_states AS
SELECT id, head || ',"rules":' || rules || '}' AS state FROM ruleset_state_parts;

-- Amazon ECS clusters, identified by ARN, each with at most one policy.
CREATE TABLE clusters (
    id          INTEGER PRIMARY KEY CONSTRAINT cluster_id_positive CHECK (id > 0),
    arn         TEXT NOT NULL UNIQUE
                CONSTRAINT cluster_arn_format CHECK (
                    length(arn) = length(CAST(arn AS BLOB))
                    AND substr(arn, 1, 12) = 'arn:aws:ecs:'
                    AND substr(arn, 13, instr(substr(arn, 13), ':') - 1) GLOB '[a-z][a-z]-*-[0-9]'
                    AND substr(arn, 13, instr(substr(arn, 13), ':') - 1) NOT GLOB '*[^a-z0-9-]*'
                    AND substr(arn, 12 + instr(substr(arn, 13), ':'))
                        GLOB ':[0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]:cluster/?*'
                    AND substr(arn, 12 + instr(substr(arn, 13), ':') + 22) NOT GLOB '*[^A-Za-z0-9_-]*'
                    AND length(arn) - 11 - instr(substr(arn, 13), ':') - 22 BETWEEN 1 AND 255),
    policy_id   INTEGER REFERENCES policies (id) ON DELETE RESTRICT,
    assigned_at TEXT,
    CONSTRAINT cluster_assigned_at_with_policy CHECK ((policy_id IS NULL) = (assigned_at IS NULL))
) STRICT;

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
    SELECT RAISE(ABORT, 'updated_at and rulesets_updated_at are kept by the database: leave them out of the UPDATE')
    WHERE (NEW.updated_at IS NOT OLD.updated_at AND NEW.updated_at IS NOT strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
       OR (NEW.rulesets_updated_at IS NOT OLD.rulesets_updated_at AND NEW.rulesets_updated_at IS NOT strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));
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
    SELECT RAISE(ABORT, 'updated_at is kept by the database: leave it out of the UPDATE')
    WHERE NEW.updated_at IS NOT OLD.updated_at AND NEW.updated_at IS NOT strftime('%Y-%m-%dT%H:%M:%fZ', 'now');
END;

-- Recording other writers' changes: policies --------------------------------------------

CREATE TRIGGER policies_record_create AFTER INSERT ON policies
WHEN (SELECT recorded_by_library FROM write_context) IS NOT 1
BEGIN
    INSERT INTO changes (object_kind, object_name, action, revision, before, after, actor)
    SELECT 'policy', NEW.name, 'create', NEW.revision, NULL, state, coalesce((SELECT actor FROM write_context), '')
    FROM policy_states WHERE id = NEW.id;
END;

DROP TRIGGER policies_count_change;
CREATE TRIGGER policies_count_change AFTER UPDATE ON policies
WHEN NEW.revision = OLD.revision AND (SELECT recorded_by_library FROM write_context) IS NOT 1
BEGIN
    UPDATE policies
    SET revision = OLD.revision + 1, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
    WHERE id = NEW.id;
    INSERT INTO changes (object_kind, object_name, action, revision, before, after, actor)
    SELECT 'policy', NEW.name, 'modify', OLD.revision + 1,
           '{"name":"' || OLD.name || '","description":"' || replace(replace(replace(replace(replace(OLD.description, '\', '\\'), '"', '\"'), char(10), '\n'), char(13), '\r'), char(9), '\t')
               || '","xdrEnabled":' || CASE OLD.xdr_enabled WHEN 1 THEN 'true' ELSE 'false' END
               || ',"rulesets":' || parts.rulesets || '}',
           parts.head || ',"rulesets":' || parts.rulesets || '}',
           coalesce((SELECT actor FROM write_context), '')
    FROM policy_state_parts AS parts WHERE parts.id = NEW.id;
END;

CREATE TRIGGER policies_record_delete BEFORE DELETE ON policies
WHEN (SELECT recorded_by_library FROM write_context) IS NOT 1
BEGIN
    INSERT INTO changes (object_kind, object_name, action, revision, before, after, actor)
    SELECT 'policy', OLD.name, 'delete', OLD.revision, state, NULL, coalesce((SELECT actor FROM write_context), '')
    FROM policy_states WHERE id = OLD.id;
END;

-- When a whole policy is deleted its links go with it, and the policy's own 'delete' row
-- holds them: the link triggers find no policy and record nothing.
DROP TRIGGER policy_rulesets_count_insert;
CREATE TRIGGER policy_rulesets_count_insert AFTER INSERT ON policy_rulesets
WHEN (SELECT recorded_by_library FROM write_context) IS NOT 1
BEGIN
    UPDATE policies
    SET revision = revision + 1, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), rulesets_updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
    WHERE id = NEW.policy_id;
    INSERT INTO changes (object_kind, object_name, action, revision, before, after, actor)
    SELECT 'policy', p.name, 'link', p.revision,
           parts.head || ',"rulesets":'
               || (SELECT '[' || coalesce(group_concat('"' || name || '"', ','), '') || ']'
               FROM (SELECT r.name FROM policy_rulesets AS pr JOIN rulesets AS r ON r.id = pr.ruleset_id WHERE pr.policy_id = p.id AND pr.ruleset_id <> NEW.ruleset_id ORDER BY r.name))
               || '}',
           parts.head || ',"rulesets":' || parts.rulesets || '}',
           coalesce((SELECT actor FROM write_context), '')
    FROM policies AS p JOIN policy_state_parts AS parts ON parts.id = p.id
    WHERE p.id = NEW.policy_id;
END;

DROP TRIGGER policy_rulesets_count_delete;
CREATE TRIGGER policy_rulesets_count_delete AFTER DELETE ON policy_rulesets
WHEN (SELECT recorded_by_library FROM write_context) IS NOT 1
BEGIN
    UPDATE policies
    SET revision = revision + 1, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), rulesets_updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
    WHERE id = OLD.policy_id;
    INSERT INTO changes (object_kind, object_name, action, revision, before, after, actor)
    SELECT 'policy', p.name, 'unlink', p.revision,
           parts.head || ',"rulesets":'
               || (SELECT '[' || coalesce(group_concat('"' || name || '"', ','), '') || ']'
               FROM (SELECT r.name FROM rulesets AS r WHERE r.id = OLD.ruleset_id OR r.id IN (SELECT ruleset_id FROM policy_rulesets WHERE policy_id = p.id) ORDER BY r.name))
               || '}',
           parts.head || ',"rulesets":' || parts.rulesets || '}',
           coalesce((SELECT actor FROM write_context), '')
    FROM policies AS p JOIN policy_state_parts AS parts ON parts.id = p.id
    WHERE p.id = OLD.policy_id;
END;

-- Recording other writers' changes: rulesets and their rules ------------------------------

CREATE TRIGGER rulesets_record_create AFTER INSERT ON rulesets
WHEN (SELECT recorded_by_library FROM write_context) IS NOT 1
BEGIN
    INSERT INTO changes (object_kind, object_name, action, revision, before, after, actor)
    SELECT 'ruleset', NEW.name, 'create', NEW.revision, NULL, state, coalesce((SELECT actor FROM write_context), '')
    FROM ruleset_states WHERE id = NEW.id;
END;

DROP TRIGGER rulesets_count_change;
CREATE TRIGGER rulesets_count_change AFTER UPDATE ON rulesets
WHEN NEW.revision = OLD.revision AND (SELECT recorded_by_library FROM write_context) IS NOT 1
BEGIN
    UPDATE rulesets
    SET revision = OLD.revision + 1, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
    WHERE id = NEW.id;
    INSERT INTO changes (object_kind, object_name, action, revision, before, after, actor)
    SELECT 'ruleset', NEW.name, 'modify', OLD.revision + 1,
           '{"name":"' || OLD.name || '","description":"' || replace(replace(replace(replace(replace(OLD.description, '\', '\\'), '"', '\"'), char(10), '\n'), char(13), '\r'), char(9), '\t') || '"'
               || ',"rules":' || parts.rules || '}',
           parts.head || ',"rules":' || parts.rules || '}',
           coalesce((SELECT actor FROM write_context), '')
    FROM ruleset_state_parts AS parts WHERE parts.id = NEW.id;
END;

CREATE TRIGGER rulesets_record_delete BEFORE DELETE ON rulesets
WHEN (SELECT recorded_by_library FROM write_context) IS NOT 1
BEGIN
    INSERT INTO changes (object_kind, object_name, action, revision, before, after, actor)
    SELECT 'ruleset', OLD.name, 'delete', OLD.revision, state, NULL, coalesce((SELECT actor FROM write_context), '')
    FROM ruleset_states WHERE id = OLD.id;
END;

-- A rule change is a 'modify' of its ruleset; the rules before are the rules now with this
-- one change undone. When a whole ruleset is deleted its rules go with it, unrecorded: the
-- ruleset's own 'delete' row holds them.
DROP TRIGGER ruleset_rules_count_insert;
CREATE TRIGGER ruleset_rules_count_insert AFTER INSERT ON ruleset_rules
WHEN (SELECT recorded_by_library FROM write_context) IS NOT 1
BEGIN
    UPDATE rulesets SET revision = revision + 1, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = NEW.ruleset_id;
    INSERT INTO changes (object_kind, object_name, action, revision, before, after, actor)
    SELECT 'ruleset', s.name, 'modify', s.revision,
           parts.head || ',"rules":'
               || (SELECT '[' || coalesce(group_concat('{"id":"' || rule_id || '","mitigation":"' || mitigation || '"}', ','), '') || ']'
               FROM (SELECT rule_id, mitigation FROM ruleset_rules WHERE ruleset_id = s.id AND rule_id <> NEW.rule_id ORDER BY rule_id))
               || '}',
           parts.head || ',"rules":' || parts.rules || '}',
           coalesce((SELECT actor FROM write_context), '')
    FROM rulesets AS s JOIN ruleset_state_parts AS parts ON parts.id = s.id
    WHERE s.id = NEW.ruleset_id;
END;

DROP TRIGGER ruleset_rules_count_update;
CREATE TRIGGER ruleset_rules_count_update AFTER UPDATE ON ruleset_rules
WHEN (SELECT recorded_by_library FROM write_context) IS NOT 1
BEGIN
    UPDATE rulesets SET revision = revision + 1, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = NEW.ruleset_id;
    INSERT INTO changes (object_kind, object_name, action, revision, before, after, actor)
    SELECT 'ruleset', s.name, 'modify', s.revision,
           parts.head || ',"rules":'
               || (SELECT '[' || coalesce(group_concat('{"id":"' || rule_id || '","mitigation":"' || mitigation || '"}', ','), '') || ']'
               FROM (SELECT rule_id, mitigation FROM ruleset_rules WHERE ruleset_id = s.id AND rule_id <> NEW.rule_id UNION ALL SELECT OLD.rule_id, OLD.mitigation ORDER BY rule_id))
               || '}',
           parts.head || ',"rules":' || parts.rules || '}',
           coalesce((SELECT actor FROM write_context), '')
    FROM rulesets AS s JOIN ruleset_state_parts AS parts ON parts.id = s.id
    WHERE s.id = NEW.ruleset_id;
END;

DROP TRIGGER ruleset_rules_count_delete;
CREATE TRIGGER ruleset_rules_count_delete AFTER DELETE ON ruleset_rules
WHEN (SELECT recorded_by_library FROM write_context) IS NOT 1
BEGIN
    UPDATE rulesets SET revision = revision + 1, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = OLD.ruleset_id;
    INSERT INTO changes (object_kind, object_name, action, revision, before, after, actor)
    SELECT 'ruleset', s.name, 'modify', s.revision,
           parts.head || ',"rules":'
               || (SELECT '[' || coalesce(group_concat('{"id":"' || rule_id || '","mitigation":"' || mitigation || '"}', ','), '') || ']'
               FROM (SELECT rule_id, mitigation FROM ruleset_rules WHERE ruleset_id = s.id UNION ALL SELECT OLD.rule_id, OLD.mitigation ORDER BY rule_id))
               || '}',
           parts.head || ',"rules":' || parts.rules || '}',
           coalesce((SELECT actor FROM write_context), '')
    FROM rulesets AS s JOIN ruleset_state_parts AS parts ON parts.id = s.id
    WHERE s.id = OLD.ruleset_id;
END;

-- Views for people at the shell ------------------------------------------------------------

-- Every change, newest first.
CREATE VIEW change_log AS
SELECT sequence, changed_at, object_kind, object_name, action, revision, actor, before, after
FROM changes
ORDER BY sequence DESC;
