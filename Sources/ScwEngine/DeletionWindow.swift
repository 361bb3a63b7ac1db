import ScwDomain
import Synchronization

/// What was deleted in the last transition delay, as the delete answered it. Scaleway keeps a deleted namespace,
/// container, function, cron, domain or trigger readable as `deleting` for a few seconds before its `GET` answers 404;
/// with `--transition-delay` the mock does the same, for that long in mock time, so that the SDKs' `wait_for_*` helpers
/// and post-delete waits (Ansible's modules) poll through it. The row itself is gone at once (nothing else sees it:
/// names are free, lists skip it, cascades have run); this only answers the reads by id. Kept in memory: a restart of
/// the mock settles every deletion.
public final class DeletionWindow: Sendable {
    private struct Entry: @unchecked Sendable {
        var value: any Sendable
        var until: Timestamp
    }

    private let entries = Mutex<[String: Entry]>([:])

    /// Creates an empty window.
    public init() {}

    /// Keeps `value` (in `deleting`) readable by id until `until`; nothing when that is not after `now` (no delay).
    func keep<T: Sendable>(_ value: T, kind: ResourceKind, id: String, now: Timestamp, until: Timestamp) {
        guard until > now else { return }
        entries.withLock { entries in
            entries = entries.filter { $0.value.until > now }
            entries["\(kind.rawValue):\(id)"] = Entry(value: value, until: until)
        }
    }

    /// The deleted value of `kind` with this id while its deletion is still under way at `now`.
    func value<T: Sendable>(_: T.Type, kind: ResourceKind, id: String, now: Timestamp) -> T? {
        entries.withLock { entries in
            guard let entry = entries["\(kind.rawValue):\(id)"], entry.until > now else { return nil }
            return entry.value as? T
        }
    }

    /// Forgets every deletion (a reset of the mock's state).
    public func removeAll() {
        entries.withLock { $0.removeAll() }
    }
}
