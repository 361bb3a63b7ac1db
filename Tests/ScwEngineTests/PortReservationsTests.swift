import Testing

@testable import ScwEngine

/// The ports held for launches in progress: a port handed out again while held is refused and another asked for.
@Suite struct PortReservationsTests {
    @Test func aHeldPortIsNeverHandedOutTwiceAndIsFreeAgainOnceReleased() {
        var ports = PortReservations()
        var handed = [5000, 5000, 5000, 5001].makeIterator()
        #expect(ports.reserve(from: { handed.next()! }) == 5000)
        #expect(ports.reserve(from: { handed.next()! }) == 5001)  // 5000 twice more, held: skipped
        ports.release(5000)
        #expect(ports.reserve(from: { 5000 }) == 5000)
    }

    @Test func aSourceThatOnlyGivesHeldPortsEndsInNil() {
        var ports = PortReservations()
        #expect(ports.reserve(from: { 7000 }) == 7000)
        #expect(ports.reserve(from: { 7000 }) == nil)
    }
}
