import Testing
@testable import ContainerPolicyStore

@Test func smoke() throws {
    let store = try PolicyStore.inMemory()
    try store.createRuleset(named: "baseline", rules: [RuleReference(id: "TM-00000001", mitigation: .terminate)])
    let policy = try store.createPolicy(named: "web", description: "d", rulesets: ["baseline"])
    #expect(policy.rulesets == ["baseline"])
    let copy = try store.duplicatePolicy(named: "web")
    #expect(copy.name == "webPolicy")
    #expect(copy.rulesets == ["baseline"])
    print(copy)
}
