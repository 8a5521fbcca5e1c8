-- ContainerPolicyStore schema, migration 5: the history records a policy's state in the
-- product's shape.
--
--   * A policy's state is the product API's: "runtime":{"rulesets":[{"name":...}]} instead of
--     "rulesets":[...] (rows recorded before keep the old form; the library reads both). A
--     ruleset's state was the product's already.
--   * The library writes a change of content and its revision in one UPDATE: the guards allow
--     it while write_context says the library records the change itself. Other writers still
--     move a revision only by itself, so no content changes unrecorded.
-- Every view and trigger that records a change is replaced here, so this file shows them all.
-- (Which life of a name a change belongs to, when a policy was deleted and created again, is
-- the sequence of the 'create' that began it: the library reads it from the rows as they are.)

-- States --------------------------------------------------------------------------------------
-- `head` is everything but the list, so a trigger can write the state with the list as it was
-- before a link or rule changed. Descriptions can hold only '\', '"', tab, line feed and
-- carriage return among the characters JSON must escape; the replace() calls escape them.

DROP VIEW policy_states;
DROP VIEW policy_state_parts;
CREATE VIEW policy_state_parts AS
SELECT p.id,
       '{"name":"' || p.name || '","description":"' || replace(replace(replace(replace(replace(p.description, '\', '\\'), '"', '\"'), char(10), '\n'), char(13), '\r'), char(9), '\t')
           || '","xdrEnabled":' || CASE p.xdr_enabled WHEN 1 THEN 'true' ELSE 'false' END || ',"runtime":{"rulesets":' AS head,
       (SELECT '[' || coalesce(group_concat('{"name":"' || name || '"}', ','), '') || ']'
        FROM (SELECT r.name FROM policy_rulesets AS pr JOIN rulesets AS r ON r.id = pr.ruleset_id WHERE pr.policy_id = p.id ORDER BY r.name)) AS rulesets
FROM policies AS p;

CREATE VIEW policy_states AS
SELECT id, head || rulesets || '}}' AS state FROM policy_state_parts;

-- Guards --------------------------------------------------------------------------------------

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
           OR ((CAST(NEW.description AS BLOB) IS NOT CAST(OLD.description AS BLOB) OR NEW.xdr_enabled IS NOT OLD.xdr_enabled)
               AND (SELECT recorded_by_library FROM write_context) IS NOT 1));
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
           OR (CAST(NEW.description AS BLOB) IS NOT CAST(OLD.description AS BLOB)
               AND (SELECT recorded_by_library FROM write_context) IS NOT 1));
    SELECT RAISE(ABORT, 'updated_at is kept by the database: leave it out of the UPDATE')
    WHERE NEW.updated_at IS NOT OLD.updated_at AND NEW.updated_at IS NOT strftime('%Y-%m-%dT%H:%M:%fZ', 'now');
END;

-- Recording other writers' changes: policies --------------------------------------------------

DROP TRIGGER policies_record_create;
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
               || ',"runtime":{"rulesets":' || parts.rulesets || '}}',
           parts.head || parts.rulesets || '}}',
           coalesce((SELECT actor FROM write_context), '')
    FROM policy_state_parts AS parts WHERE parts.id = NEW.id;
END;

DROP TRIGGER policies_record_delete;
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
           parts.head
               || (SELECT '[' || coalesce(group_concat('{"name":"' || name || '"}', ','), '') || ']'
               FROM (SELECT r.name FROM policy_rulesets AS pr JOIN rulesets AS r ON r.id = pr.ruleset_id WHERE pr.policy_id = p.id AND pr.ruleset_id <> NEW.ruleset_id ORDER BY r.name))
               || '}}',
           parts.head || parts.rulesets || '}}',
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
           parts.head
               || (SELECT '[' || coalesce(group_concat('{"name":"' || name || '"}', ','), '') || ']'
               FROM (SELECT r.name FROM rulesets AS r WHERE r.id = OLD.ruleset_id OR r.id IN (SELECT ruleset_id FROM policy_rulesets WHERE policy_id = p.id) ORDER BY r.name))
               || '}}',
           parts.head || parts.rulesets || '}}',
           coalesce((SELECT actor FROM write_context), '')
    FROM policies AS p JOIN policy_state_parts AS parts ON parts.id = p.id
    WHERE p.id = OLD.policy_id;
END;

-- Recording other writers' changes: rulesets and their rules ---------------------------------

DROP TRIGGER rulesets_record_create;
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

DROP TRIGGER rulesets_record_delete;
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
