-- ContainerPolicyStore schema, migration 7: the catalogue of managed rules.
--
-- The product's read-only list of managed rules (GET /v3.0/containerSecurity/managedRules), as
-- a user imports it: each rule's ID, name and description, the ATT&CK techniques its MITRE
-- mapping names, and every other field of the API's item as it came. Without a catalogue (the
-- table empty) a rule ID is checked for its form only, as before. With one, for any writer:
--   * a rule added to a ruleset is refused unless the catalogue holds its ID;
--   * a managed rule that a ruleset applies cannot be deleted, and no id can change.
-- So the one way to a ruleset rule outside a non-empty catalogue is a first catalogue typed in
-- the shell that lacks a rule already in use: checkIntegrity names such rules.
-- The library replaces the whole catalogue in one transaction: it deletes the rules the new
-- list lacks (refused, naming the rulesets, while one applies them), updates the rules both
-- hold and inserts the new ones. The catalogue is the product's, not the user's: its changes
-- are not in the history (imported_at says when each rule arrived).

CREATE TABLE managed_rules (
    id           TEXT PRIMARY KEY
                 CONSTRAINT managed_rule_id_format CHECK (
                     length(CAST(id AS BLOB)) = 11
                     AND id GLOB 'TM-[0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]'),
    -- One line: no control character at all, so a name fits a row of a listing.
    name         TEXT NOT NULL
                 CONSTRAINT managed_rule_name_rules CHECK (
                     length(name) BETWEEN 1 AND 256
                     AND instr(CAST(name AS BLOB), x'00') = 0
                     AND name NOT GLOB '*[^ -~' || char(160) || '-' || char(65532, 65536) || '-' || char(1114111) || ']*'),
    description  TEXT NOT NULL DEFAULT ''
                 CONSTRAINT managed_rule_description_rules CHECK (
                     length(description) <= 4000
                     AND instr(CAST(description AS BLOB), x'00') = 0
                     AND description NOT GLOB '*[^' || char(9, 10, 13) || ' -~' || char(160) || '-' || char(65532, 65536) || '-' || char(1114111) || ']*'),
    -- The item's fields but id, name and description, as one compact JSON object (the MITRE
    -- mapping among them, under whatever name the API gives it). JSON functions may not be
    -- used in a schema while trusted_schema is OFF, so only the object's brackets are checked.
    other_fields TEXT NOT NULL DEFAULT '{}'
                 CONSTRAINT managed_rule_other_fields_object CHECK (
                     length(CAST(other_fields AS BLOB)) <= 65536
                     AND other_fields GLOB '{*}'
                     AND instr(CAST(other_fields AS BLOB), x'00') = 0),
    imported_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
                 CONSTRAINT managed_rule_imported_at_format CHECK (
                     length(CAST(imported_at AS BLOB)) = 24
                     AND imported_at GLOB '[0-9][0-9][0-9][0-9]-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9].[0-9][0-9][0-9]Z')
) STRICT, WITHOUT ROWID;

-- The ATT&CK techniques a managed rule's MITRE mapping names: T1609, or a sub-technique such
-- as T1552.005.
CREATE TABLE managed_rule_techniques (
    rule_id   TEXT NOT NULL REFERENCES managed_rules (id) ON DELETE CASCADE,
    technique TEXT NOT NULL
              CONSTRAINT managed_rule_technique_format CHECK (
                  (length(CAST(technique AS BLOB)) = 5 AND technique GLOB 'T[0-9][0-9][0-9][0-9]')
                  OR (length(CAST(technique AS BLOB)) = 9 AND technique GLOB 'T[0-9][0-9][0-9][0-9].[0-9][0-9][0-9]')),
    PRIMARY KEY (rule_id, technique)
) STRICT, WITHOUT ROWID;

CREATE INDEX managed_rule_techniques_by_technique ON managed_rule_techniques (technique, rule_id);

-- Which rulesets apply a rule: the delete guard below, and an import's check of the rules in use.
CREATE INDEX ruleset_rules_by_rule ON ruleset_rules (rule_id, ruleset_id);

-- Managed rules ---------------------------------------------------------------------------------

CREATE TRIGGER managed_rules_insert_guard BEFORE INSERT ON managed_rules
BEGIN
    SELECT RAISE(ABORT, 'the catalogue holds a managed rule with this id already: update it instead')
    WHERE EXISTS (SELECT 1 FROM managed_rules WHERE id = NEW.id);
    SELECT RAISE(ABORT, 'imported_at is kept by the database: insert a managed rule without it')
    WHERE NEW.imported_at IS NOT strftime('%Y-%m-%dT%H:%M:%fZ', 'now');
END;

CREATE TRIGGER managed_rules_update_guard BEFORE UPDATE ON managed_rules
BEGIN
    SELECT RAISE(ABORT, 'a managed rule id cannot be changed: delete the rule and insert the new one')
    WHERE CAST(NEW.id AS BLOB) IS NOT CAST(OLD.id AS BLOB);
    SELECT RAISE(ABORT, 'imported_at is kept by the database: leave it out of the UPDATE, or set it to now')
    WHERE NEW.imported_at IS NOT OLD.imported_at AND NEW.imported_at IS NOT strftime('%Y-%m-%dT%H:%M:%fZ', 'now');
END;

CREATE TRIGGER managed_rules_delete_guard BEFORE DELETE ON managed_rules
BEGIN
    SELECT RAISE(ABORT, 'a ruleset applies this managed rule: remove it from every ruleset before deleting it from the catalogue')
    WHERE EXISTS (SELECT 1 FROM ruleset_rules WHERE rule_id = OLD.id);
END;

CREATE TRIGGER managed_rules_delete_techniques AFTER DELETE ON managed_rules
BEGIN
    DELETE FROM managed_rule_techniques WHERE rule_id = OLD.id;
END;

CREATE TRIGGER managed_rule_techniques_insert_guard BEFORE INSERT ON managed_rule_techniques
BEGIN
    SELECT RAISE(ABORT, 'no managed rule has this rule_id')
    WHERE NOT EXISTS (SELECT 1 FROM managed_rules WHERE id = NEW.rule_id);
    SELECT RAISE(ABORT, 'the managed rule has this technique already')
    WHERE EXISTS (SELECT 1 FROM managed_rule_techniques WHERE rule_id = NEW.rule_id AND technique = NEW.technique);
END;

CREATE TRIGGER managed_rule_techniques_update_guard BEFORE UPDATE ON managed_rule_techniques
BEGIN
    SELECT RAISE(ABORT, 'a technique cannot be changed: delete it and insert the new one');
END;

-- Rules of a ruleset ------------------------------------------------------------------------------

CREATE TRIGGER ruleset_rules_in_catalogue BEFORE INSERT ON ruleset_rules
BEGIN
    SELECT RAISE(ABORT, 'the managed-rule catalogue holds no rule with this rule_id: use an id of managed_rules, or import a catalogue that holds it')
    WHERE EXISTS (SELECT 1 FROM managed_rules) AND NOT EXISTS (SELECT 1 FROM managed_rules WHERE id = NEW.rule_id);
END;

-- Views for people at the shell -----------------------------------------------------------------

-- One row per managed rule: its techniques and the rulesets that apply it.
CREATE VIEW managed_rule_overview AS
SELECT m.id,
       m.name,
       (SELECT group_concat(technique, ', ')
        FROM (SELECT technique FROM managed_rule_techniques WHERE rule_id = m.id ORDER BY technique)) AS techniques,
       (SELECT group_concat(users.name, ', ')
        FROM (SELECT s.name FROM ruleset_rules AS rr JOIN rulesets AS s ON s.id = rr.ruleset_id
              WHERE rr.rule_id = m.id ORDER BY s.name) AS users) AS used_by,
       m.imported_at
FROM managed_rules AS m
ORDER BY m.id;
