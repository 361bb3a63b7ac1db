import ScwDomain
import Testing

/// Every phase × event pair of the namespace status machine.
@Suite struct ResourceLifecycleTests {
    typealias T = ResourceLifecycle.Transition

    static let table: [(ResourcePhase, ResourceLifecycle.Event, ResourcePhase, [ResourceLifecycle.Effect])] = [
        (.creating, .created, .creating, [.scheduleSettlement]),
        (.ready, .created, .creating, [.scheduleSettlement]),
        (.creating, .configurationChanged, .creating, [.scheduleSettlement]),
        (.updating, .configurationChanged, .updating, [.scheduleSettlement]),
        (.ready, .configurationChanged, .updating, [.scheduleSettlement]),
        (.error, .configurationChanged, .updating, [.scheduleSettlement]),
        (.deleting, .configurationChanged, .deleting, []),
        (.creating, .metadataChanged, .creating, []),
        (.updating, .metadataChanged, .updating, []),
        (.ready, .metadataChanged, .ready, []),
        (.error, .metadataChanged, .error, []),
        (.deleting, .metadataChanged, .deleting, []),
        (.creating, .settled, .ready, []),
        (.updating, .settled, .ready, []),
        (.ready, .settled, .ready, []),
        (.error, .settled, .error, []),
        (.deleting, .settled, .deleting, []),
        (.creating, .deleteRequested, .deleting, [.purge]),
        (.updating, .deleteRequested, .deleting, [.purge]),
        (.ready, .deleteRequested, .deleting, [.purge]),
        (.error, .deleteRequested, .deleting, [.purge]),
        (.deleting, .deleteRequested, .deleting, [.purge]),
    ]

    @Test func tableCoversEveryPair() {
        for phase in ResourcePhase.allCases {
            for event in ResourceLifecycle.Event.allCases where event != .created {
                #expect(Self.table.contains { $0.0 == phase && $0.1 == event }, "missing \(phase) × \(event)")
            }
        }
    }

    @Test(arguments: 0..<table.count)
    func transition(_ row: Int) {
        let (phase, event, expected, effects) = Self.table[row]
        #expect(ResourceLifecycle.apply(event, to: phase) == T(phase: expected, effects: effects))
    }
}
