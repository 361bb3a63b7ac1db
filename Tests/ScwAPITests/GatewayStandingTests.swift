import ScwDomain
import ScwStore
import Testing

@testable import ScwEngine

/// The gateway's revocation check reads memory, kept in step with the store by its generation.
@Suite struct GatewayStandingTests {
    typealias Cache = GatewayService.GenerationCache<TokenStanding>

    @Test func aTokenIdIsReadFromTheStoreOncePerGeneration() {
        let cache = Cache()
        var loads = 0
        let ns = NamespaceID(trusted: "11111111-1111-4111-8111-111111111111")
        func standing(_ generation: Int, _ answer: TokenStanding) -> TokenStanding {
            GatewayService.standing(jti: "jti-1", cache: cache, generation: generation) { _ throws(ScwError) in
                loads += 1
                return answer
            }
        }
        #expect(standing(1, .known(namespaceID: ns)) == .known(namespaceID: ns))
        #expect(standing(1, .revoked) == .known(namespaceID: ns))  // memory: the store is not read again
        #expect(loads == 1)
        // A write (here: the revocation) moves the generation: the next call sees the store as it is now.
        #expect(standing(2, .revoked) == .revoked)
        #expect(loads == 2)
    }

    @Test func aStoreFailureRefusesAndIsNotKept() {
        let cache = Cache()
        let failed = GatewayService.standing(jti: "jti-2", cache: cache, generation: 1) { _ throws(ScwError) in
            throw ScwError.unavailable("database is busy")
        }
        #expect(failed == .unknown)
        let ns = NamespaceID(trusted: "22222222-2222-4222-8222-222222222222")
        #expect(GatewayService.standing(jti: "jti-2", cache: cache, generation: 1) { _ throws(ScwError) in .known(namespaceID: ns) }
                == .known(namespaceID: ns))
    }
}
