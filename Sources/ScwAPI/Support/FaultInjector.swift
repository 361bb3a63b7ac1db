import Foundation
import HTTPTypes
import ScwDomain
import Synchronization

/// Failures injected through `PUT /_mock/faults`: a Scaleway-shaped error status and/or added latency for the API
/// calls matching a method and a path pattern (`*` matches any characters), for the next N calls or until a time.
public final class FaultInjector: Sendable {
    /// One rule, as the client sends it.
    public struct Rule: Codable, Sendable {
        /// HTTP method to match; nil = any.
        var method: String?
        /// Path pattern with `*` wildcards, e.g. `/containers/v1/regions/*/namespaces*`.
        var path: String
        /// Status to answer with (Scaleway's body for it); nil = only add latency.
        var status: Int?
        /// Milliseconds to wait before answering.
        var latency_ms: Int?
        /// Apply to the next `count` matching calls only; nil = no limit.
        var count: Int?
        /// Apply until this RFC 3339 instant (by the mock's clock); nil = no limit.
        var until: String?
    }

    /// What to do with one call.
    struct Decision {
        var status: Int?
        var latencyMilliseconds: Int
    }

    private let rules = Mutex<[Rule]>([])
    /// Whether any rule is in force: most runs have none, and then a call costs one atomic load, not the clock and the lock.
    private let armed = Atomic<Bool>(false)
    private let clock: any WallClock

    /// Creates an injector reading time from the mock's clock.
    public init(clock: any WallClock) { self.clock = clock }

    /// Replaces the rules after checking them.
    func set(_ new: [Rule]) throws {
        for (i, r) in new.enumerated() {
            if r.path.isEmpty { throw ScwError.invalid("faults[\(i)].path", .required, "path is required") }
            if let s = r.status, !(400...599).contains(s) { throw ScwError.invalid("faults[\(i)].status", .constraint, "status must be 400-599") }
            if let l = r.latency_ms, !(0...60000).contains(l) { throw ScwError.invalid("faults[\(i)].latency_ms", .constraint, "latency_ms must be 0-60000") }
            if let c = r.count, c < 1 { throw ScwError.invalid("faults[\(i)].count", .constraint, "count must be at least 1") }
            if let u = r.until {
                guard let until = Timestamp.parseRFC3339(u) else { throw ScwError.invalid("faults[\(i)].until", .format, "until must be RFC 3339") }
                // A rule that has already ended would be dropped unseen: refuse it (by the mock's clock).
                if until <= clock.now() { throw ScwError.invalid("faults[\(i)].until", .constraint, "until must be in the future") }
            }
            if r.status == nil && r.latency_ms == nil { throw ScwError.invalid("faults[\(i)]", .required, "set status, latency_ms or both") }
        }
        rules.withLock {
            $0 = new
            armed.store(!new.isEmpty, ordering: .releasing)
        }
    }

    /// The rules in force.
    func current() -> [Rule] { rules.withLock { $0 } }

    /// Removes every rule.
    func clear() {
        rules.withLock {
            $0.removeAll()
            armed.store(false, ordering: .releasing)
        }
    }

    /// The fault for a call, consuming one use of a counted rule.
    func decide(method: String, path: String) -> Decision? {
        guard armed.load(ordering: .acquiring) else { return nil }
        let now = clock.now()
        return rules.withLock { rules -> Decision? in
            defer { armed.store(!rules.isEmpty, ordering: .releasing) }
            rules.removeAll { r in r.until.flatMap(Timestamp.parseRFC3339).map { $0 <= now } ?? false }
            guard let i = rules.firstIndex(where: { r in
                (r.method.map { $0.uppercased() == method } ?? true) && Self.matches(pattern: r.path, path)
            }) else { return nil }
            let rule = rules[i]
            if let count = rule.count {
                if count <= 1 { rules.remove(at: i) } else { rules[i].count = count - 1 }
            }
            return Decision(status: rule.status, latencyMilliseconds: rule.latency_ms ?? 0)
        }
    }

    /// Glob match with `*` only.
    static func matches(pattern: String, _ text: String) -> Bool {
        let p = Array(pattern), t = Array(text)
        var pi = 0, ti = 0, star = -1, mark = 0
        while ti < t.count {
            if pi < p.count, p[pi] != "*", p[pi] == t[ti] { pi += 1; ti += 1 }
            else if pi < p.count, p[pi] == "*" { star = pi; mark = ti; pi += 1 }
            else if star >= 0 { pi = star + 1; mark += 1; ti = mark }
            else { return false }
        }
        while pi < p.count, p[pi] == "*" { pi += 1 }
        return pi == p.count
    }

    /// The domain error Scaleway answers with for an injected status on `path`.
    static func error(status: Int, path: String) -> ScwError? {
        let segments = path.split(separator: "/").map(String.init)
        let kinds: [String: ResourceKind] = ["namespaces": .namespace, "containers": .container, "functions": .function, "tokens": .token,
                                             "crons": .cron, "domains": .domain, "triggers": .trigger]
        let index = segments.lastIndex { kinds[$0] != nil }
        let kind = index.flatMap { kinds[segments[$0]] } ?? .namespace
        let id = index.flatMap { $0 + 1 < segments.count ? segments[$0 + 1] : nil } ?? ""
        switch status {
        case 400: return .invalid("fault", .constraint, "injected fault")
        case 401: return .deniedAuthentication(.invalidArgument)
        case 403: return .permissionsDenied([PermissionDetail(action: "read", resource: kind.rawValue)])
        case 404: return .notFound(kind, id: id)
        case 409: return .transientState(kind, id: id, currentState: "updating")
        case 412: return .preconditionFailed(precondition: "resource_still_in_use", help: "injected fault")
        default: return nil
        }
    }
}
