-- ContainerPolicyStore schema, migration 2: policies, rulesets, their rules and the links.
--
-- Every rule of the product is kept here, so that it holds for any writer, the sqlite3 shell
-- included, where foreign_keys is OFF unless the user turns it on:
--   * descriptions: at most 1,000 characters, no control characters but tab, line feed and
--     carriage return (no terminal escape sequences in a policy list), no NUL, and none of
--     U+FFFD to U+FFFF: SQLite reads bytes that are not UTF-8 as U+FFFD.
--   * names: 1 to 64 characters, only ASCII letters, digits, '_' and '.', unique ignoring
--     ASCII case, never changed. length(x) = length(CAST(x AS BLOB)) holds only for ASCII
--     text without a NUL byte, which GLOB and length() alone would not see past.
--   * revision starts at 1 and grows by one with every change to a row or to its links;
--     updated_at follows. Triggers keep both, so a change made in the shell is seen by a
--     caller that modifies with an expected revision.
--   * links to nothing are refused by triggers as well as by foreign keys.
--   * INSERT OR REPLACE (and UPSERT) could delete or change a row without firing its delete
--     or update triggers; every table's insert guard refuses an insert whose key is taken, so
--     neither ever gets that far.
--   * timestamps are the database's: an insert must leave them to their defaults, and an
--     update may only set them to now.

CREATE TABLE policies (
    id                  INTEGER PRIMARY KEY CONSTRAINT policy_id_positive CHECK (id > 0),
    name                TEXT NOT NULL COLLATE NOCASE UNIQUE
                        CONSTRAINT policy_name_rules CHECK (
                            length(CAST(name AS BLOB)) BETWEEN 1 AND 64
                            AND length(name) = length(CAST(name AS BLOB))
                            AND name NOT GLOB '*[^A-Za-z0-9_.]*'),
    description         TEXT NOT NULL DEFAULT ''
                        CONSTRAINT policy_description_rules CHECK (
                            length(description) <= 1000
                            AND instr(CAST(description AS BLOB), x'00') = 0
                            AND description NOT GLOB '*[^' || char(9, 10, 13) || ' -~' || char(160) || '-' || char(65532, 65536) || '-' || char(1114111) || ']*'),
    xdr_enabled         INTEGER NOT NULL DEFAULT 1
                        CONSTRAINT policy_xdr_enabled_is_boolean CHECK (xdr_enabled IN (0, 1)),
    revision            INTEGER NOT NULL DEFAULT 1
                        CONSTRAINT policy_revision_positive CHECK (revision >= 1),
    created_at          TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
                        CONSTRAINT policy_created_at_format CHECK (
                            length(CAST(created_at AS BLOB)) = 24
                            AND created_at GLOB '[0-9][0-9][0-9][0-9]-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9].[0-9][0-9][0-9]Z'),
    updated_at          TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
                        CONSTRAINT policy_updated_at_format CHECK (
                            length(CAST(updated_at AS BLOB)) = 24
                            AND updated_at GLOB '[0-9][0-9][0-9][0-9]-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9].[0-9][0-9][0-9]Z'),
    rulesets_updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
                        CONSTRAINT policy_rulesets_updated_at_format CHECK (
                            length(CAST(rulesets_updated_at AS BLOB)) = 24
                            AND rulesets_updated_at GLOB '[0-9][0-9][0-9][0-9]-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9].[0-9][0-9][0-9]Z')
) STRICT;

CREATE TABLE rulesets (
    id          INTEGER PRIMARY KEY CONSTRAINT ruleset_id_positive CHECK (id > 0),
    name        TEXT NOT NULL COLLATE NOCASE UNIQUE
                CONSTRAINT ruleset_name_rules CHECK (
                    length(CAST(name AS BLOB)) BETWEEN 1 AND 64
                    AND length(name) = length(CAST(name AS BLOB))
                    AND name NOT GLOB '*[^A-Za-z0-9_.]*'),
    description TEXT NOT NULL DEFAULT ''
                CONSTRAINT ruleset_description_rules CHECK (
                    length(description) <= 1000
                    AND instr(CAST(description AS BLOB), x'00') = 0
                    AND description NOT GLOB '*[^' || char(9, 10, 13) || ' -~' || char(160) || '-' || char(65532, 65536) || '-' || char(1114111) || ']*'),
    revision    INTEGER NOT NULL DEFAULT 1
                CONSTRAINT ruleset_revision_positive CHECK (revision >= 1),
    created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
                CONSTRAINT ruleset_created_at_format CHECK (
                    length(CAST(created_at AS BLOB)) = 24
                    AND created_at GLOB '[0-9][0-9][0-9][0-9]-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9].[0-9][0-9][0-9]Z'),
    updated_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
                CONSTRAINT ruleset_updated_at_format CHECK (
                    length(CAST(updated_at AS BLOB)) = 24
                    AND updated_at GLOB '[0-9][0-9][0-9][0-9]-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9].[0-9][0-9][0-9]Z')
) STRICT;

-- The managed rules a ruleset applies, each at most once, with what to do on a match.
CREATE TABLE ruleset_rules (
    ruleset_id INTEGER NOT NULL REFERENCES rulesets (id) ON DELETE CASCADE,
    rule_id    TEXT NOT NULL
               CONSTRAINT rule_id_format CHECK (
                   length(CAST(rule_id AS BLOB)) = 11
                   AND rule_id GLOB 'TM-[0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]'),
    mitigation TEXT NOT NULL DEFAULT 'log'
               CONSTRAINT rule_mitigation_kind CHECK (mitigation IN ('log', 'isolate', 'terminate')),
    PRIMARY KEY (ruleset_id, rule_id)
) STRICT, WITHOUT ROWID;

-- A policy's Runtime part: the set of rulesets it applies (referenced, not copied).
CREATE TABLE policy_rulesets (
    policy_id  INTEGER NOT NULL REFERENCES policies (id) ON DELETE CASCADE,
    ruleset_id INTEGER NOT NULL REFERENCES rulesets (id) ON DELETE RESTRICT,
    PRIMARY KEY (policy_id, ruleset_id)
) STRICT, WITHOUT ROWID;

CREATE INDEX policy_rulesets_by_ruleset ON policy_rulesets (ruleset_id, policy_id);

-- Policies --------------------------------------------------------------------------------

CREATE TRIGGER policies_insert_guard BEFORE INSERT ON policies
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

CREATE TRIGGER policies_update_guard BEFORE UPDATE ON policies
BEGIN
    SELECT RAISE(ABORT, 'a policy name cannot be changed after the policy is created')
    WHERE CAST(NEW.name AS BLOB) IS NOT CAST(OLD.name AS BLOB);
    SELECT RAISE(ABORT, 'a policy id cannot be changed')
    WHERE NEW.id IS NOT OLD.id;
    SELECT RAISE(ABORT, 'created_at cannot be changed')
    WHERE NEW.created_at IS NOT OLD.created_at;
    SELECT RAISE(ABORT, 'revision is kept by the database: leave it out of the UPDATE')
    WHERE NEW.revision IS NOT OLD.revision AND NEW.revision IS NOT OLD.revision + 1;
    SELECT RAISE(ABORT, 'updated_at and rulesets_updated_at are kept by the database: leave them out of the UPDATE')
    WHERE (NEW.updated_at IS NOT OLD.updated_at AND NEW.updated_at IS NOT strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
       OR (NEW.rulesets_updated_at IS NOT OLD.rulesets_updated_at AND NEW.rulesets_updated_at IS NOT strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));
END;

-- An UPDATE that left revision alone is a change: count it. The trigger's own UPDATE moves
-- revision, so it does not fire this trigger again even with recursive_triggers on.
CREATE TRIGGER policies_count_change AFTER UPDATE ON policies
WHEN NEW.revision = OLD.revision
BEGIN
    UPDATE policies
    SET revision = OLD.revision + 1,
        updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
    WHERE id = NEW.id;
END;

CREATE TRIGGER policies_delete_links AFTER DELETE ON policies
BEGIN
    DELETE FROM policy_rulesets WHERE policy_id = OLD.id;
END;

-- Rulesets --------------------------------------------------------------------------------

CREATE TRIGGER rulesets_insert_guard BEFORE INSERT ON rulesets
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

CREATE TRIGGER rulesets_update_guard BEFORE UPDATE ON rulesets
BEGIN
    SELECT RAISE(ABORT, 'a ruleset name cannot be changed after the ruleset is created')
    WHERE CAST(NEW.name AS BLOB) IS NOT CAST(OLD.name AS BLOB);
    SELECT RAISE(ABORT, 'a ruleset id cannot be changed')
    WHERE NEW.id IS NOT OLD.id;
    SELECT RAISE(ABORT, 'created_at cannot be changed')
    WHERE NEW.created_at IS NOT OLD.created_at;
    SELECT RAISE(ABORT, 'revision is kept by the database: leave it out of the UPDATE')
    WHERE NEW.revision IS NOT OLD.revision AND NEW.revision IS NOT OLD.revision + 1;
    SELECT RAISE(ABORT, 'updated_at is kept by the database: leave it out of the UPDATE')
    WHERE NEW.updated_at IS NOT OLD.updated_at AND NEW.updated_at IS NOT strftime('%Y-%m-%dT%H:%M:%fZ', 'now');
END;

CREATE TRIGGER rulesets_count_change AFTER UPDATE ON rulesets
WHEN NEW.revision = OLD.revision
BEGIN
    UPDATE rulesets
    SET revision = OLD.revision + 1,
        updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
    WHERE id = NEW.id;
END;

CREATE TRIGGER rulesets_delete_guard BEFORE DELETE ON rulesets
BEGIN
    SELECT RAISE(ABORT, 'this ruleset is used by a policy: remove it from every policy before deleting it')
    WHERE EXISTS (SELECT 1 FROM policy_rulesets WHERE ruleset_id = OLD.id);
END;

CREATE TRIGGER rulesets_delete_rules AFTER DELETE ON rulesets
BEGIN
    DELETE FROM ruleset_rules WHERE ruleset_id = OLD.id;
END;

-- Rules of a ruleset ----------------------------------------------------------------------

CREATE TRIGGER ruleset_rules_insert_guard BEFORE INSERT ON ruleset_rules
BEGIN
    SELECT RAISE(ABORT, 'no ruleset has this ruleset_id')
    WHERE NOT EXISTS (SELECT 1 FROM rulesets WHERE id = NEW.ruleset_id);
    SELECT RAISE(ABORT, 'the ruleset has this rule already: update its mitigation instead')
    WHERE EXISTS (SELECT 1 FROM ruleset_rules WHERE ruleset_id = NEW.ruleset_id AND rule_id = NEW.rule_id);
END;

CREATE TRIGGER ruleset_rules_update_guard BEFORE UPDATE ON ruleset_rules
BEGIN
    SELECT RAISE(ABORT, 'only a rule''s mitigation can change: delete the rule and insert the new one')
    WHERE NEW.ruleset_id IS NOT OLD.ruleset_id OR NEW.rule_id IS NOT OLD.rule_id;
END;

CREATE TRIGGER ruleset_rules_count_insert AFTER INSERT ON ruleset_rules
BEGIN
    UPDATE rulesets
    SET revision = revision + 1, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
    WHERE id = NEW.ruleset_id;
END;

CREATE TRIGGER ruleset_rules_count_update AFTER UPDATE ON ruleset_rules
BEGIN
    UPDATE rulesets
    SET revision = revision + 1, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
    WHERE id = NEW.ruleset_id;
END;

CREATE TRIGGER ruleset_rules_count_delete AFTER DELETE ON ruleset_rules
BEGIN
    UPDATE rulesets
    SET revision = revision + 1, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
    WHERE id = OLD.ruleset_id;
END;

-- Links between policies and rulesets -----------------------------------------------------

CREATE TRIGGER policy_rulesets_insert_guard BEFORE INSERT ON policy_rulesets
BEGIN
    SELECT RAISE(ABORT, 'no policy has this policy_id')
    WHERE NOT EXISTS (SELECT 1 FROM policies WHERE id = NEW.policy_id);
    SELECT RAISE(ABORT, 'no ruleset has this ruleset_id')
    WHERE NOT EXISTS (SELECT 1 FROM rulesets WHERE id = NEW.ruleset_id);
    SELECT RAISE(ABORT, 'the policy links this ruleset already')
    WHERE EXISTS (SELECT 1 FROM policy_rulesets WHERE policy_id = NEW.policy_id AND ruleset_id = NEW.ruleset_id);
END;

CREATE TRIGGER policy_rulesets_update_guard BEFORE UPDATE ON policy_rulesets
BEGIN
    SELECT RAISE(ABORT, 'a link cannot be changed: delete it and insert the new one');
END;

CREATE TRIGGER policy_rulesets_count_insert AFTER INSERT ON policy_rulesets
BEGIN
    UPDATE policies
    SET revision = revision + 1,
        updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now'),
        rulesets_updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
    WHERE id = NEW.policy_id;
END;

CREATE TRIGGER policy_rulesets_count_delete AFTER DELETE ON policy_rulesets
BEGIN
    UPDATE policies
    SET revision = revision + 1,
        updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now'),
        rulesets_updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
    WHERE id = OLD.policy_id;
END;

-- Views for people at the shell -----------------------------------------------------------

-- One row per policy, as the console's policy list shows it.
CREATE VIEW policy_overview AS
SELECT p.name,
       p.description,
       p.xdr_enabled,
       p.revision,
       (SELECT group_concat(linked.name, ', ')
        FROM (SELECT r.name
              FROM policy_rulesets AS pr JOIN rulesets AS r ON r.id = pr.ruleset_id
              WHERE pr.policy_id = p.id
              ORDER BY r.name) AS linked) AS rulesets
FROM policies AS p
ORDER BY p.name;

-- One row per ruleset: its rules and the policies that use it.
CREATE VIEW ruleset_overview AS
SELECT r.name,
       r.description,
       r.revision,
       (SELECT group_concat(rule.rule_id || ':' || rule.mitigation, ', ')
        FROM (SELECT rule_id, mitigation FROM ruleset_rules
              WHERE ruleset_id = r.id ORDER BY rule_id) AS rule) AS rules,
       (SELECT group_concat(users.name, ', ')
        FROM (SELECT p.name
              FROM policy_rulesets AS pr JOIN policies AS p ON p.id = pr.policy_id
              WHERE pr.ruleset_id = r.id
              ORDER BY p.name) AS users) AS used_by
FROM rulesets AS r
ORDER BY r.name;
