import Foundation
import ScwDomain
import Synchronization
import Testing

/// A base clock the test moves by hand (real time passing).
private final class HandClock: WallClock {
    private let current: Mutex<Timestamp>
    init(_ start: Timestamp) { current = Mutex(start) }
    func now() -> Timestamp { current.withLock { $0 } }
    func pass(seconds: Int64) { current.withLock { $0 = $0.adding(nanoseconds: seconds * 1_000_000_000) } }
}

@Suite struct DeterministicIDsTests {
    @Test func theSameSeedGivesTheSameValuesInTheSameOrder() {
        let a = DeterministicIDSource(seed: 0), b = DeterministicIDSource(seed: 0)
        let first = (0..<5).map { _ in a.next() }
        #expect(first == (0..<5).map { _ in b.next() })
        #expect(Set(first).count == 5)
        #expect(a.nextName(prefix: "cns") == b.nextName(prefix: "cns"))
        #expect(a.nextSuffix() == b.nextSuffix())
        #expect(a.nextBytes(count: 24) == b.nextBytes(count: 24))
        #expect(DeterministicIDSource(seed: 1).next() != DeterministicIDSource(seed: 0).next())
    }

    @Test func valuesHaveTheShapeOfTheRandomOnesTheyReplace() {
        let ids = DeterministicIDSource(seed: 42)
        let id = ids.next().uuidString.lowercased()
        #expect(Array(id)[14] == "4")  // version 4
        #expect("89ab".contains(Array(id)[19]))  // RFC 9562 variant
        #expect(ids.nextSuffix().allSatisfy { $0.isLowercase || $0.isNumber } && ids.nextSuffix().count == 8)
        #expect(ids.nextName(prefix: "ns").split(separator: "-").count == 3)
        #expect(ids.nextBytes(count: 70).count == 70)
    }

    /// Request ids (every call, polls included) and ids (creations only) count apart: polling more never shifts ids.
    @Test func eachKindOfDrawHasItsOwnCounter() {
        let quiet = DeterministicIDSource(), busy = DeterministicIDSource()
        for _ in 0..<10 { _ = busy.nextRequestID() }
        _ = busy.nextName(prefix: "cns")
        #expect(quiet.next() == busy.next())
        #expect(quiet.nextKeyIndex() == 0 && busy.nextKeyIndex() == 0 && busy.nextKeyIndex() == 1)
    }

    @Test func aSecretsSaltDependsOnItsValueOnly() throws {
        let ids = DeterministicIDSource()
        #expect(ids.salt(for: "hunter2") == DeterministicIDSource().salt(for: "hunter2"))
        #expect(ids.salt(for: "hunter2") != ids.salt(for: "hunter3"))
        let hash = SecretHasher.hash("hunter2", profile: .legacy, cost: .fast, salt: try #require(ids.salt(for: "hunter2")))
        #expect(hash == SecretHasher.hash("hunter2", profile: .legacy, cost: .fast, salt: ids.salt(for: "hunter2")))
        #expect(SecretHasher.verify("hunter2", against: hash))
        #expect(RandomIDSource().salt(for: "hunter2") == nil)
    }

    @Test func rewindReturnsToTheMarkButKeepsCountingRequests() {
        let ids = DeterministicIDSource()
        _ = ids.next()
        ids.mark()
        let afterMark = ids.next()
        let request = ids.nextRequestID()
        ids.rewind()
        #expect(ids.next() == afterMark)
        #expect(ids.nextRequestID() != request)
    }

    /// The built-in keys are the files of `Keys/`, byte for byte, in that order.
    @Test func builtInKeysAreThePublicDevelopmentKeys() throws {
        let keys = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../Keys").standardized
        let files = ["dev-namespace-1.pem", "dev-namespace-2.pem", "dev-namespace-3-pkcs1.pem"]
        let contents = try files.map { try String(contentsOf: keys.appendingPathComponent($0), encoding: .utf8) }
        #expect(DeterministicKeys.pems.map { $0 + "\n" } == contents)
    }
}

@Suite struct MockClockTests {
    static let start = Timestamp.parseRFC3339("2024-01-01T00:00:00Z")!

    @Test func startsAtTheConfiguredInstantPastIncludedAndRuns() {
        let base = HandClock(Timestamp.parseRFC3339("2026-05-05T00:00:00Z")!)
        let clock = MockClock(base: base, start: Self.start)
        #expect(clock.now() == Self.start && clock.offsetNanoseconds < 0 && !clock.isFrozen)
        base.pass(seconds: 10)
        #expect(clock.now() == Self.start.adding(nanoseconds: 10_000_000_000))
    }

    @Test func frozenItStandsStillUntilMovedAndResumesWithoutAJump() {
        let base = HandClock(Timestamp.parseRFC3339("2026-05-05T00:00:00Z")!)
        let clock = MockClock(base: base, start: Self.start, frozen: true)
        base.pass(seconds: 100)
        #expect(clock.now() == Self.start && clock.isFrozen)
        clock.advance(nanoseconds: 5_000_000_000)
        #expect(clock.now() == Self.start.adding(nanoseconds: 5_000_000_000))
        clock.setFrozen(false)
        #expect(clock.now() == Self.start.adding(nanoseconds: 5_000_000_000))
        base.pass(seconds: 1)
        #expect(clock.now() == Self.start.adding(nanoseconds: 6_000_000_000))
        clock.setFrozen(true)
        base.pass(seconds: 1)
        #expect(clock.now() == Self.start.adding(nanoseconds: 6_000_000_000))
    }

    @Test func canBeSetToThePastAndAResetReturnsToTheConfiguredStart() {
        let base = HandClock(Timestamp.parseRFC3339("2026-05-05T00:00:00Z")!)
        let clock = MockClock(base: base, start: Self.start, frozen: true)
        let past = Timestamp.parseRFC3339("2001-01-01T00:00:00Z")!
        clock.set(to: past)
        #expect(clock.now() == past)
        clock.setFrozen(false)
        base.pass(seconds: 30)
        clock.resetOffset()
        #expect(clock.now() == Self.start && clock.isFrozen)
        // Without --clock, a reset returns to the base clock's time (offset 0).
        let plain = MockClock(base: base)
        plain.advance(nanoseconds: 1_000_000_000)
        plain.resetOffset()
        #expect(plain.offsetNanoseconds == 0 && plain.now() == base.now())
    }
}
