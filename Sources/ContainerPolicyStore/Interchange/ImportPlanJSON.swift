import SQLiteCore

// The plan's JSON and fingerprint are the Interchange's: the fingerprint hashes the steps'
// JSON, where the plan itself is a domain value (a `PolicyStoreError` carries one).
extension ImportPlan: Codable {
    /// 64 hexadecimal digits naming the steps, each with the revision it was planned against:
    /// the SHA-256 of their compact JSON. Two plans have the same fingerprint exactly when they
    /// make the same changes to the same revisions of the same objects.
    public var fingerprint: String {
        var writer = JSONWriter(escapesForTerminals: false)
        writer.raw("ContainerPolicyStore import plan 1\n")
        writer.compactValue(ProductJSON.tree(steps))
        return SHA256.hex(String(decoding: writer.bytes, as: UTF8.self))
    }

    /// `{"steps", "unchanged", "applied", "fingerprint"}`.
    public func encode(to encoder: any Encoder) throws {
        try encoder.encodeMembers(["steps": steps, "unchanged": unchanged, "applied": applied, "fingerprint": fingerprint])
    }

    /// The fingerprint is not read: it follows from the steps.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: FieldKey.self)
        self.init(
            steps: try container.decode([Step].self, forKey: FieldKey("steps")),
            unchanged: try container.decode(Int.self, forKey: FieldKey("unchanged")),
            applied: try container.decode(Bool.self, forKey: FieldKey("applied")))
    }
}
