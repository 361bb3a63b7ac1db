import ScwDomain
import Testing

/// Every phase × event pair of the namespace status machine.
@Suite struct NamespaceLifecycleTests {
    typealias T = NamespaceLifecycle.Transition

    static let table: [(NamespacePhase, NamespaceLifecycle.Event, NamespacePhase, [NamespaceLifecycle.Effect])] = [
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
        for phase in NamespacePhase.allCases {
            for event in NamespaceLifecycle.Event.allCases where event != .created {
                #expect(Self.table.contains { $0.0 == phase && $0.1 == event }, "missing \(phase) × \(event)")
            }
        }
    }

    @Test(arguments: 0..<table.count)
    func transition(_ row: Int) {
        let (phase, event, expected, effects) = Self.table[row]
        #expect(NamespaceLifecycle.apply(event, to: phase) == T(phase: expected, effects: effects))
    }
}
