import ScwDomain
import Testing

/// Every phase × event pair of the container and function status machine.
@Suite struct ApplicationLifecycleTests {
    typealias T = ApplicationLifecycle.Transition
    static let settle: [ApplicationLifecycle.Effect] = [.scheduleSettlement]

    static let table: [(ApplicationPhase, ApplicationLifecycle.Event, T)] = {
        var rows: [(ApplicationPhase, ApplicationLifecycle.Event, T)] = []
        for p in ApplicationPhase.allCases {
            rows.append((p, .createdAndDeployed, T(phase: .creating, effects: settle)))
            rows.append((p, .createdOnly, T(phase: .created)))
            rows.append((p, .metadataChanged, T(phase: p)))
            rows.append((p, .deleteRequested, T(phase: .deleting, effects: [.purge])))
        }
        rows += [
            (.created, .deployRequested, T(phase: .creating, effects: settle)),
            (.creating, .deployRequested, T(phase: .creating, refused: true)),
            (.updating, .deployRequested, T(phase: .updating, refused: true)),
            (.ready, .deployRequested, T(phase: .updating, effects: settle)),
            (.error, .deployRequested, T(phase: .updating, effects: settle)),
            (.deleting, .deployRequested, T(phase: .deleting, refused: true)),
            (.created, .configurationChanged, T(phase: .creating, effects: settle)),
            (.creating, .configurationChanged, T(phase: .creating, effects: settle)),
            (.updating, .configurationChanged, T(phase: .updating, effects: settle)),
            (.ready, .configurationChanged, T(phase: .updating, effects: settle)),
            (.error, .configurationChanged, T(phase: .updating, effects: settle)),
            (.deleting, .configurationChanged, T(phase: .deleting, refused: true)),
            (.created, .deploySucceeded, T(phase: .created)),
            (.creating, .deploySucceeded, T(phase: .ready)),
            (.updating, .deploySucceeded, T(phase: .ready)),
            (.ready, .deploySucceeded, T(phase: .ready)),
            (.error, .deploySucceeded, T(phase: .error)),
            (.deleting, .deploySucceeded, T(phase: .deleting)),
            (.created, .deployFailed, T(phase: .created)),
            (.creating, .deployFailed, T(phase: .error)),
            (.updating, .deployFailed, T(phase: .error)),
            (.ready, .deployFailed, T(phase: .ready)),
            (.error, .deployFailed, T(phase: .error)),
            (.deleting, .deployFailed, T(phase: .deleting)),
        ]
        return rows
    }()

    @Test func tableCoversEveryPair() {
        for phase in ApplicationPhase.allCases {
            for event in ApplicationLifecycle.Event.allCases {
                #expect(Self.table.filter { $0.0 == phase && $0.1 == event }.count == 1, "\(phase) × \(event)")
            }
        }
    }

    @Test(arguments: 0..<table.count)
    func transition(_ row: Int) {
        let (phase, event, expected) = Self.table[row]
        #expect(ApplicationLifecycle.apply(event, to: phase) == expected, "\(phase) × \(event)")
    }

    @Test(arguments: ["nginx:latest", "nginx", "rg.fr-par.scw.cloud/funcscwabc/web:1.0", "localhost:5000/a/b", "hello-world:latest",
                      "nginx:1.29.4-alpine", "a/b@sha256:" + String(repeating: "a", count: 64), "registry.example.com:443/x_y/z.w:v-1"])
    func acceptsImageReferences(_ image: String) {
        #expect(ContainerRules.imageProblem(image) == nil)
    }

    @Test(arguments: ["", "UPPER/case", "a b", "../x", "/abs", "a//b", "a:", "a:-tag", "file:///bin/sh", "a\u{0}b", "a/b@sha256:xyz", "-a"])
    func refusesImageReferences(_ image: String) {
        #expect(ContainerRules.imageProblem(image) != nil)
    }
}
