/// The status machine of namespaces, crons, domains and triggers, as a value: an event goes in, the new phase and the
/// effects come out. Follows the sequences recorded on Scaleway (create → creating → ready; configuration
/// change → updating → ready; delete → deleting → gone).
public enum ResourceLifecycle {
    /// Things that happen to a namespace.
    public enum Event: Sendable, CaseIterable {
        case created, configurationChanged, metadataChanged, settled, deleteRequested
    }

    /// Work the service must do after a transition.
    public enum Effect: Sendable, Equatable {
        /// Set `settlesAt` to now plus the transition delay.
        case scheduleSettlement
        /// Remove the namespace and everything in it from the store.
        case purge
    }

    /// The outcome of one event.
    public struct Transition: Sendable, Equatable {
        public var phase: ResourcePhase
        public var effects: [Effect]

        /// Creates a transition.
        public init(phase: ResourcePhase, effects: [Effect]) {
            self.phase = phase
            self.effects = effects
        }
    }

    /// Applies `event` to a namespace in `phase` (for `created`, the phase is ignored).
    public static func apply(_ event: Event, to phase: ResourcePhase) -> Transition {
        switch (event, phase) {
        case (.created, _):
            return Transition(phase: .creating, effects: [.scheduleSettlement])
        case (.configurationChanged, .creating):
            // Still being created: the change joins the pending work.
            return Transition(phase: .creating, effects: [.scheduleSettlement])
        case (.configurationChanged, .deleting):
            return Transition(phase: .deleting, effects: [])
        case (.configurationChanged, _):
            return Transition(phase: .updating, effects: [.scheduleSettlement])
        case (.metadataChanged, let p):
            // Description and tags only: the platform has nothing to redeploy (v1 stays `ready`).
            return Transition(phase: p, effects: [])
        case (.settled, .creating), (.settled, .updating):
            return Transition(phase: .ready, effects: [])
        case (.settled, let p):
            return Transition(phase: p, effects: [])
        case (.deleteRequested, _):
            return Transition(phase: .deleting, effects: [.purge])
        }
    }
}
