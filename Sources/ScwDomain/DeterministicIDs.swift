import Crypto
import Foundation
import Synchronization

/// Ids, generated names, endpoint suffixes, namespace key choices, secret salts and request ids drawn from counters
/// instead of the system's random generator (`--deterministic-ids`, an operator setting of the command line): the
/// same client script against a fresh mock then gets byte-identical answers, its JWTs included (with a frozen clock at
/// a fixed instant, see `MockClock`).
///
/// Value `n` of a stream is SHA-256 of `scw-mock/<seed>/<stream>/<n>`, shaped as the random value it stands for
/// (a version 4 UUID, a Docker-style name, eight `[a-z0-9]`). Each kind of draw has a counter of its own, so that draws
/// of one kind (request ids, which every call takes, including the polls of an SDK's `wait_for_*`) never shift the
/// values of another (resource ids, which only creations take). Only request paths draw from them: nothing in the
/// background does, so the order of draws is the order of the client's calls.
public final class DeterministicIDSource: IDSource {
    /// The counters, one per stream.
    struct Counters: Equatable {
        var ids: UInt64 = 0
        var suffixes: UInt64 = 0
        var names: UInt64 = 0
        var keys: UInt64 = 0
        var bytes: UInt64 = 0
        var requests: UInt64 = 0
    }

    /// The seed: different seeds give different, equally reproducible, values.
    public let seed: UInt64
    private let counters = Mutex(Counters())
    /// The counters a reset returns to (taken once the seed is applied).
    private let marked = Mutex(Counters())

    /// Creates the source.
    public init(seed: UInt64 = 0) { self.seed = seed }

    /// Value `n` of `stream`: 32 bytes.
    func digest(_ stream: String, _ n: UInt64) -> [UInt8] {
        Array(SHA256.hash(data: Array("scw-mock/\(seed)/\(stream)/\(n)".utf8)))
    }

    private func draw(_ counter: WritableKeyPath<Counters, UInt64>) -> UInt64 {
        counters.withLock { c in
            defer { c[keyPath: counter] += 1 }
            return c[keyPath: counter]
        }
    }

    public func next() -> UUID { Self.uuid(digest("id", draw(\.ids))) }

    public func nextSuffix() -> String {
        let bytes = digest("suffix", draw(\.suffixes))
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789")
        return String(bytes.prefix(8).map { alphabet[Int($0) % alphabet.count] })
    }

    public func nextName(prefix: String) -> String {
        let bytes = digest("name", draw(\.names))
        let a = Int(bytes[0]) << 8 | Int(bytes[1]), s = Int(bytes[2]) << 8 | Int(bytes[3])
        let (adjectives, scientists) = (NameGenerator.adjectives, NameGenerator.scientists)
        return "\(prefix)-\(adjectives[a % adjectives.count])-\(scientists[s % scientists.count])"
    }

    /// Namespace keys are taken in turn from a fixed list: the n-th namespace created gets key n (modulo the list).
    public func nextKeyIndex() -> Int? { Int(draw(\.keys) % UInt64(Int.max)) }

    public func nextBytes(count: Int) -> [UInt8] {
        let n = draw(\.bytes)
        var out: [UInt8] = []
        var block: UInt64 = 0
        while out.count < count {
            out += digest("bytes/\(n)", block)
            block += 1
        }
        return Array(out.prefix(count))
    }

    /// A secret's salt depends on its value only (and the seed): the same value hashes to the same PHC string in
    /// every run, whichever order a request's secrets are hashed in.
    public func salt(for value: String) -> [UInt8]? {
        Array(SHA256.hash(data: Array("scw-mock/\(seed)/salt/".utf8) + Array(value.utf8)).prefix(16))
    }

    /// The next `X-Request-Id`.
    public func nextRequestID() -> String { Self.uuid(digest("request", draw(\.requests))).uuidString.lowercased() }

    /// Remembers the counters as they are now (right after the seed is applied at start).
    public func mark() {
        let now = counters.withLock { $0 }
        marked.withLock { $0 = now }
    }

    /// Puts every counter but the request ids' back where `mark()` left them (`POST /_mock/reset`): after a reset the
    /// same calls get the same ids as after a fresh start.
    public func rewind() {
        let saved = marked.withLock { $0 }
        counters.withLock { c in
            let requests = c.requests
            c = saved
            c.requests = requests
        }
    }

    /// The first 16 bytes as a version 4, RFC 9562 variant UUID.
    static func uuid(_ bytes: [UInt8]) -> UUID {
        var b = Array(bytes.prefix(16))
        b[6] = (b[6] & 0x0F) | 0x40
        b[8] = (b[8] & 0x3F) | 0x80
        return UUID(uuid: (b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]))
    }
}
