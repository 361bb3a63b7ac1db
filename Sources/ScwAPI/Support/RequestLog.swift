import Foundation
import Synchronization

/// The recent API calls, for `GET /_mock/requests`: bounded, newest last; query strings have their `token` values
/// redacted and no header is ever kept, so secrets and tokens never appear.
public final class RequestLog: Sendable {
    /// One call.
    public struct Entry: Codable, Sendable {
        var time: String
        var method: String
        var path: String
        var status: Int
        var access_key: String
        var request_id: String
        var duration_ms: Double
    }

    private let entries = Mutex<[Entry]>([])
    private let capacity: Int

    /// Creates a log keeping at most `capacity` entries.
    public init(capacity: Int = 1000) { self.capacity = capacity }

    func record(_ entry: Entry) {
        entries.withLock {
            $0.append(entry)
            if $0.count > capacity { $0.removeFirst($0.count - capacity) }
        }
    }

    /// Entries matching the filters, newest last, at most `limit`.
    func query(method: String?, pathPrefix: String?, status: Int?, accessKey: String?, limit: Int) -> [Entry] {
        let all = entries.withLock { $0 }
        let matching = all.filter { e in
            (method.map { $0.uppercased() == e.method } ?? true) && (pathPrefix.map { e.path.hasPrefix($0) } ?? true)
                && (status.map { $0 == e.status } ?? true) && (accessKey.map { $0 == e.access_key } ?? true)
        }
        return Array(matching.suffix(limit))
    }

    /// Forgets everything (reset).
    func clear() { entries.withLock { $0.removeAll() } }

    /// The path and query of a request with every `token=` value redacted.
    static func redacted(path: String, query: String?) -> String {
        guard let query, !query.isEmpty else { return path }
        let parts = query.split(separator: "&").map { part -> String in
            let kv = part.split(separator: "=", maxSplits: 1)
            return kv.first.map { ["token", "x-auth-token", "secret_key"].contains($0.lowercased()) } == true ? "\(kv[0])=<redacted>" : String(part)
        }
        return path + "?" + parts.joined(separator: "&")
    }
}

/// Carries the caller's access key from `AuthMiddleware` back out to the logging middleware of the same request.
final class AccessKeyBox: @unchecked Sendable {
    var value = "-"
    @TaskLocal static var current: AccessKeyBox?
}
