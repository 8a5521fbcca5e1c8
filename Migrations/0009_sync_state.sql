-- ContainerPolicyStore schema, migration 9: what the store last synced with a remote tenant.
--
-- ContainerPolicySync pushes the store to Trend Vision One and pulls the product's state back.
-- For each endpoint (a tenant's API base URL) and each policy or ruleset synced with it, one row
-- holds the remote object's id, the remote updatedDateTime seen right after the last push or
-- pull, and the content both sides had then. The next plan compares three versions: the
-- store's content with this one tells "changed here", the remote timestamp (and then the
-- remote content) with these tells "changed there", and both at once is a conflict. A push
-- writes its row after every step, so a push cut short resumes by planning again.
--
-- The rows are bookkeeping, not the objects: they outlive a local delete (so that a prune
-- knows the remote object was synced), they are not in the history, and no trigger guards
-- them; the constraints below hold for any writer.

CREATE TABLE sync_state (
    -- The API's base URL as the client normalizes it: http(s), printable ASCII, no space.
    endpoint          TEXT NOT NULL
                      CONSTRAINT sync_state_endpoint_rules CHECK (
                          length(CAST(endpoint AS BLOB)) BETWEEN 8 AND 2048
                          AND (endpoint GLOB 'https://?*' OR endpoint GLOB 'http://?*')
                          AND endpoint NOT GLOB '*[^!-~]*'),
    object_kind       TEXT NOT NULL
                      CONSTRAINT sync_state_kind CHECK (object_kind IN ('policy', 'ruleset')),
    -- The name as the store spells it; the product's name rules, as for policies and rulesets.
    object_name       TEXT NOT NULL COLLATE NOCASE
                      CONSTRAINT sync_state_name_rules CHECK (
                          length(CAST(object_name AS BLOB)) BETWEEN 1 AND 64
                          AND length(object_name) = length(CAST(object_name AS BLOB))
                          AND object_name NOT GLOB '*[^A-Za-z0-9_.]*'),
    -- The id Vision One gave the object (the last segment of the create's Location).
    remote_id         TEXT NOT NULL
                      CONSTRAINT sync_state_remote_id_rules CHECK (
                          length(CAST(remote_id AS BLOB)) BETWEEN 1 AND 256
                          AND remote_id NOT GLOB '*[^!-~]*'),
    -- The remote updatedDateTime as the server wrote it (compared as text, never parsed);
    -- NULL when the server sent none.
    remote_updated_at TEXT
                      CONSTRAINT sync_state_remote_updated_at_rules CHECK (
                          remote_updated_at IS NULL
                          OR (length(CAST(remote_updated_at AS BLOB)) BETWEEN 1 AND 64
                              AND remote_updated_at NOT GLOB '*[^!-~]*')),
    -- The content both sides had, as the history writes a state: compact JSON that begins
    -- with the object's name, then a policy's runtime or a ruleset's rules. (JSON functions
    -- may not be used in a schema while trusted_schema is OFF: the shape is checked by GLOB.)
    content           TEXT NOT NULL
                      CONSTRAINT sync_state_content_state CHECK (
                          length(CAST(content AS BLOB)) <= 4194304
                          AND instr(CAST(content AS BLOB), x'00') = 0
                          AND content GLOB '{"name":"' || object_name || '",*}'
                          AND ((object_kind = 'policy' AND content GLOB '*,"runtime":{"rulesets":[[]*]}}')
                               OR (object_kind = 'ruleset' AND content GLOB '*,"rules":[[]*]}'))),
    synced_at         TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
                      CONSTRAINT sync_state_synced_at_format CHECK (
                          length(CAST(synced_at AS BLOB)) = 24
                          AND synced_at GLOB '[0-9][0-9][0-9][0-9]-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9].[0-9][0-9][0-9]Z'),
    PRIMARY KEY (endpoint, object_kind, object_name),
    -- A remote object is synced under one name: the product's names never change.
    CONSTRAINT sync_state_one_row_per_remote_object UNIQUE (endpoint, object_kind, remote_id)
) STRICT, WITHOUT ROWID;
