import SQLiteCore

// The fingerprint is the Interchange's: it hashes the plan's JSON, where the plan itself is a
// domain value (a `PolicyStoreError` carries one).
extension ImportPlan {
    /// 64 hexadecimal digits naming the steps, each with the revision it was planned against:
    /// the SHA-256 of their compact JSON. Two plans have the same fingerprint exactly when they
    /// make the same changes to the same revisions of the same objects.
    public var fingerprint: String {
        var writer = JSONWriter(escapesForTerminals: false)
        writer.raw("ContainerPolicyStore import plan 1\n")
        writer.compactValue(ProductJSON.tree(steps))
        return SHA256.hex(String(decoding: writer.bytes, as: UTF8.self))
    }
}
