import ScwDomain
import Testing

/// `observed(at:)` is written once for both kinds; the kind's `deployOutcome` decides how a deploy ends, as
/// decided when it started.
@Suite struct ApplicationCoreTests {
    static let ns = Namespace(id: NamespaceID(trusted: "11111111-1111-1111-1111-111111111111"), kind: .container, name: "n",
                              projectID: WellKnownIdentity.projectID, organizationID: WellKnownIdentity.organizationID, region: .frPar,
                              description: "", phase: .ready, settlesAt: Timestamp(nanoseconds: 0), environmentVariables: [:], secrets: [],
                              tags: [], registryNamespaceID: RegistryNamespaceID(trusted: "22222222-2222-2222-2222-222222222222"),
                              endpointSuffix: "abcdefgh", vpcIntegrationActivated: false, errorMessage: nil,
                              createdAt: Timestamp(nanoseconds: 0), updatedAt: Timestamp(nanoseconds: 0), keyReady: true)

    static func deploying<A: Application>(_: A.Type, spec: A.Spec, settlesAt: Int64 = 100) -> A {
        A(id: Identifier(trusted: "33333333-3333-3333-3333-333333333333"), namespaceID: ns.id, name: "app", region: .frPar,
          projectID: ns.projectID, organizationID: ns.organizationID, spec: spec, secrets: [], phase: .creating,
          settlesAt: Timestamp(nanoseconds: settlesAt), errorMessage: nil, readyAt: nil, domainName: "d",
          createdAt: Timestamp(nanoseconds: 1), updatedAt: Timestamp(nanoseconds: 1))
    }

    @Test func aContainerDeploySettlesReady() {
        let c = Self.deploying(Container.self, spec: .defaults(name: "app", namespace: Self.ns))
        #expect(c.observed(at: Timestamp(nanoseconds: 99)) == c)
        let settled = c.observed(at: Timestamp(nanoseconds: 100))
        #expect(settled.phase == .ready && settled.readyAt == Timestamp(nanoseconds: 100) && settled.errorMessage == nil)
        #expect(settled.updatedAt == Timestamp(nanoseconds: 100))
    }

    @Test func aFunctionWithoutCodeSettlesInError() {
        var f = Self.deploying(Function.self, spec: .defaults(runtime: "python311"))
        f.errorMessage = f.deployOutcome
        let settled = f.observed(at: Timestamp(nanoseconds: 200))
        #expect(settled.phase == .error && settled.errorMessage == "internal error" && settled.readyAt == nil)
    }

    @Test func codeUploadedAfterTheDeployStartedDoesNotChangeItsOutcome() {
        var f = Self.deploying(Function.self, spec: .defaults(runtime: "python311"))
        f.errorMessage = f.deployOutcome  // decided at the start: no code yet
        f.hasCode = true
        #expect(f.observed(at: Timestamp(nanoseconds: 200)).phase == .error)
        var withCode = Self.deploying(Function.self, spec: .defaults(runtime: "python311"))
        withCode.hasCode = true
        withCode.errorMessage = withCode.deployOutcome
        #expect(withCode.observed(at: Timestamp(nanoseconds: 200)).phase == .ready)
    }

    @Test func bothKindsShareTheRulesTheyHaveInCommon() {
        var c = ContainerSpec.defaults(name: "app", namespace: Self.ns)
        var f = FunctionSpec.defaults(runtime: "python311")
        c.minScale = 3; c.maxScale = 2
        f.minScale = 3; f.maxScale = 2
        let expected = ArgumentProblem(argumentName: "min_scale", reason: .constraint, helpMessage: "min_scale must not exceed max_scale")
        #expect(Container.problems(c, in: Self.ns).contains(expected))
        #expect(Function.problems(f, in: Self.ns).contains(expected))
        #expect(ContainerRules.nameProblem("Bad_Name", kind: .function)?.helpMessage.contains("function name") == true)
    }
}
