import Foundation
import ScwDomain
import Synchronization

/// The recent API calls, for `GET /_mock/requests`: bounded, newest last; query strings have their `token` values
/// redacted and no header is ever kept, so secrets and tokens never appear.
public final class RequestLog: Sendable {
    /// One call.
    public struct Entry: Encodable, Sendable {
        /// When it was answered, by the mock's clock: formatted (RFC 3339, microseconds) only when the log is read.
        var at: Timestamp
        var method: String
        var path: String
        var status: Int
        var access_key: String
        var request_id: String
        var duration_ms: Double

        /// `at` as the log shows it.
        var time: String { at.rfc3339(fractionDigits: 6) }

        private enum CodingKeys: String, CodingKey { case time, method, path, status, access_key, request_id, duration_ms }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(time, forKey: .time)
            try c.encode(method, forKey: .method)
            try c.encode(path, forKey: .path)
            try c.encode(status, forKey: .status)
            try c.encode(access_key, forKey: .access_key)
            try c.encode(request_id, forKey: .request_id)
            try c.encode(duration_ms, forKey: .duration_ms)
        }
    }

    private let entries: Mutex<BoundedRing<Entry>>

    /// Creates a log keeping at most `capacity` entries.
    public init(capacity: Int = 1000) { entries = Mutex(BoundedRing(capacity: capacity)) }

    func record(_ entry: Entry) {
        entries.withLock { _ = $0.append(entry) }
    }

    /// Entries matching the filters, newest last, at most `limit`.
    func query(method: String?, pathPrefix: String?, status: Int?, accessKey: String?, limit: Int) -> [Entry] {
        let all = entries.withLock { $0.elements }
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

/// Carries the caller's access key from `AuthMiddleware` back out to the logging middleware of the same request (one
/// box per request context: written once by the middleware, read after it returned, by the same request's task).
final class AccessKeyBox: @unchecked Sendable {
    var value = "-"
}
