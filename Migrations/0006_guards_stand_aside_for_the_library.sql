-- ContainerPolicyStore schema, migration 6: the guards stand aside for the library.
--
-- The guards (the BEFORE INSERT and BEFORE UPDATE triggers that refuse what the constraints
-- cannot express: INSERT OR REPLACE over a name, revisions and timestamps set by hand, links
-- to nothing while foreign keys are off, a hand-written history row) are for writers that are
-- not the library. The library's statements are fixed (Store/SQLCatalogue.swift), run with
-- foreign keys on, and follow checks in Swift that give the caller the precise error first,
-- so inside its own write transactions, which its write_context row marks, the guards now
-- skip their bodies, like the triggers that record other writers' changes. This halves the
-- work SQLite does per row the library writes (Docs/performance.md).
--
-- What still holds for every writer, the library included: the CHECK constraints (names,
-- descriptions, rule IDs, mitigations, ARNs, timestamps' form), NOT NULL, STRICT types, the
-- unique indexes (names ignoring letter case), foreign keys, and the append-only history.
-- A shell user who writes a write_context row takes over the library's duties: the history
-- of that transaction is then theirs to record, and the guards are theirs to keep.

DROP TRIGGER changes_insert_guard;
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

DROP TRIGGER clusters_insert_guard;
CREATE TRIGGER clusters_insert_guard BEFORE INSERT ON clusters
WHEN (SELECT recorded_by_library FROM write_context) IS NOT 1
BEGIN
    SELECT RAISE(ABORT, 'this cluster exists already: update its policy_id instead')
    WHERE EXISTS (SELECT 1 FROM clusters WHERE arn = NEW.arn OR id = NEW.id);
    SELECT RAISE(ABORT, 'no policy has this policy_id')
    WHERE NEW.policy_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM policies WHERE id = NEW.policy_id);
    SELECT RAISE(ABORT, 'assigned_at is kept by the database: set it to now, with the policy')
    WHERE NEW.assigned_at IS NOT NULL AND NEW.assigned_at IS NOT strftime('%Y-%m-%dT%H:%M:%fZ', 'now');
END;

DROP TRIGGER clusters_update_guard;
CREATE TRIGGER clusters_update_guard BEFORE UPDATE ON clusters
WHEN (SELECT recorded_by_library FROM write_context) IS NOT 1
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

DROP TRIGGER policies_insert_guard;
CREATE TRIGGER policies_insert_guard BEFORE INSERT ON policies
WHEN (SELECT recorded_by_library FROM write_context) IS NOT 1
BEGIN
    SELECT RAISE(ABORT, 'a policy with this name already exists (names are unique ignoring letter case)')
    WHERE EXISTS (SELECT 1 FROM policies WHERE name = NEW.name);
    -- Without an explicit id, NEW.id is -1 here; ids are positive, so -1 matches nothing.
    SELECT RAISE(ABORT, 'a policy with this id already exists')
    WHERE EXISTS (SELECT 1 FROM policies WHERE id = NEW.id);
    SELECT RAISE(ABORT, 'revision is kept by the database: insert a policy without it')
    WHERE NEW.revision IS NOT 1;
    SELECT RAISE(ABORT, 'timestamps are kept by the database: insert a policy without them')
    WHERE NEW.created_at IS NOT strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
       OR NEW.updated_at IS NOT strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
       OR NEW.rulesets_updated_at IS NOT strftime('%Y-%m-%dT%H:%M:%fZ', 'now');
END;

DROP TRIGGER policies_update_guard;
CREATE TRIGGER policies_update_guard BEFORE UPDATE ON policies
WHEN (SELECT recorded_by_library FROM write_context) IS NOT 1
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
           OR CAST(NEW.description AS BLOB) IS NOT CAST(OLD.description AS BLOB) OR NEW.xdr_enabled IS NOT OLD.xdr_enabled);
    SELECT RAISE(ABORT, 'updated_at and rulesets_updated_at are kept by the database: leave them out of the UPDATE')
    WHERE (NEW.updated_at IS NOT OLD.updated_at AND NEW.updated_at IS NOT strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
       OR (NEW.rulesets_updated_at IS NOT OLD.rulesets_updated_at AND NEW.rulesets_updated_at IS NOT strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));
END;

DROP TRIGGER policy_rulesets_insert_guard;
CREATE TRIGGER policy_rulesets_insert_guard BEFORE INSERT ON policy_rulesets
WHEN (SELECT recorded_by_library FROM write_context) IS NOT 1
BEGIN
    SELECT RAISE(ABORT, 'no policy has this policy_id')
    WHERE NOT EXISTS (SELECT 1 FROM policies WHERE id = NEW.policy_id);
    SELECT RAISE(ABORT, 'no ruleset has this ruleset_id')
    WHERE NOT EXISTS (SELECT 1 FROM rulesets WHERE id = NEW.ruleset_id);
    SELECT RAISE(ABORT, 'the policy links this ruleset already')
    WHERE EXISTS (SELECT 1 FROM policy_rulesets WHERE policy_id = NEW.policy_id AND ruleset_id = NEW.ruleset_id);
END;

DROP TRIGGER policy_rulesets_update_guard;
CREATE TRIGGER policy_rulesets_update_guard BEFORE UPDATE ON policy_rulesets
WHEN (SELECT recorded_by_library FROM write_context) IS NOT 1
BEGIN
    SELECT RAISE(ABORT, 'a link cannot be changed: delete it and insert the new one');
END;

DROP TRIGGER ruleset_rules_insert_guard;
CREATE TRIGGER ruleset_rules_insert_guard BEFORE INSERT ON ruleset_rules
WHEN (SELECT recorded_by_library FROM write_context) IS NOT 1
BEGIN
    SELECT RAISE(ABORT, 'no ruleset has this ruleset_id')
    WHERE NOT EXISTS (SELECT 1 FROM rulesets WHERE id = NEW.ruleset_id);
    SELECT RAISE(ABORT, 'the ruleset has this rule already: update its mitigation instead')
    WHERE EXISTS (SELECT 1 FROM ruleset_rules WHERE ruleset_id = NEW.ruleset_id AND rule_id = NEW.rule_id);
END;

DROP TRIGGER ruleset_rules_update_guard;
CREATE TRIGGER ruleset_rules_update_guard BEFORE UPDATE ON ruleset_rules
WHEN (SELECT recorded_by_library FROM write_context) IS NOT 1
BEGIN
    SELECT RAISE(ABORT, 'only a rule''s mitigation can change: delete the rule and insert the new one')
    WHERE NEW.ruleset_id IS NOT OLD.ruleset_id OR NEW.rule_id IS NOT OLD.rule_id;
END;

DROP TRIGGER rulesets_insert_guard;
CREATE TRIGGER rulesets_insert_guard BEFORE INSERT ON rulesets
WHEN (SELECT recorded_by_library FROM write_context) IS NOT 1
BEGIN
    SELECT RAISE(ABORT, 'a ruleset with this name already exists (names are unique ignoring letter case)')
    WHERE EXISTS (SELECT 1 FROM rulesets WHERE name = NEW.name);
    -- Without an explicit id, NEW.id is -1 here; ids are positive, so -1 matches nothing.
    SELECT RAISE(ABORT, 'a ruleset with this id already exists')
    WHERE EXISTS (SELECT 1 FROM rulesets WHERE id = NEW.id);
    SELECT RAISE(ABORT, 'revision is kept by the database: insert a ruleset without it')
    WHERE NEW.revision IS NOT 1;
    SELECT RAISE(ABORT, 'timestamps are kept by the database: insert a ruleset without them')
    WHERE NEW.created_at IS NOT strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
       OR NEW.updated_at IS NOT strftime('%Y-%m-%dT%H:%M:%fZ', 'now');
END;

DROP TRIGGER rulesets_update_guard;
CREATE TRIGGER rulesets_update_guard BEFORE UPDATE ON rulesets
WHEN (SELECT recorded_by_library FROM write_context) IS NOT 1
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
