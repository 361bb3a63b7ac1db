import ScwDomain
import Testing

@Suite struct NamespaceRulesTests {
    @Test(arguments: ["a", "my-ns", "tf-acctest-basic", "a1", String(repeating: "a", count: 63)])
    func acceptsValidNames(_ name: String) {
        #expect(NamespaceRules.nameProblem(name) == nil)
    }

    @Test(arguments: ["", "-a", "a-", "1abc", "a_b", "a.b", "ä", "Abc", " a", "a ", "a\u{0}", String(repeating: "a", count: 64)])
    func refusesInvalidNames(_ name: String) throws {
        let problem = try #require(NamespaceRules.nameProblem(name))
        #expect(problem.argumentName == "name")
        #expect(problem.reason == .constraint)
    }

    @Test func reservesPortAndScwVariables() {
        let problems = NamespaceRules.environmentProblems(["PORT": "1", "SCW_PUBLIC": "x", "scw_x": "y", "OK": "1"])
        #expect(problems.map(\.argumentName).sorted() == ["environment_variables.PORT", "environment_variables.SCW_PUBLIC", "environment_variables.scw_x"])
    }

    @Test func enforcesVariableLimits() {
        let tooMany = Dictionary(uniqueKeysWithValues: (0...100).map { ("V\($0)", "x") })
        #expect(NamespaceRules.environmentProblems(tooMany).contains { $0.argumentName == "environment_variables" })
        #expect(NamespaceRules.environmentProblems(["A": String(repeating: "x", count: 1000)]).isEmpty)
        #expect(NamespaceRules.environmentProblems(["A": String(repeating: "x", count: 1001)]).map(\.argumentName) == ["environment_variables.A"])
        #expect(NamespaceRules.environmentProblems(["1A": "x"]).first?.reason == .format)
        #expect(NamespaceRules.environmentProblems(["A=B": "x"]).first?.reason == .format)
        #expect(NamespaceRules.environmentProblems(["": "x"]).first?.reason == .format)
    }

    @Test func enforcesSecretLimits() {
        #expect(NamespaceRules.secretProblems([("S", String(repeating: "x", count: 65536))]).isEmpty)
        #expect(NamespaceRules.secretProblems([("S", String(repeating: "x", count: 65537))]).first?.argumentName == "secret_environment_variables.S")
        #expect(NamespaceRules.secretProblems([("S", "a"), ("S", "b")]).first?.helpMessage == "key is listed twice")
        let tooMany = (0...100).map { (key: "S\($0)", value: Optional("x")) }
        #expect(NamespaceRules.secretProblems(tooMany).first?.argumentName == "secret_environment_variables")
    }
}
