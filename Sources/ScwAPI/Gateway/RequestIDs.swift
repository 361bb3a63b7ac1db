import ScwDomain
import Synchronization

/// Random (version 4) UUIDs for `X-Request-Id`, from a generator seeded once from the system's (one per gateway
/// connection, one shared by the API's answers: `EdgeHeaders.requestID()`): request ids must be unique, not secret,
/// and two `getrandom` calls per call were a quarter of the gateway's system calls. (xoshiro256**, 256 bits of state.)
struct RequestIDs {
    private var s0: UInt64, s1: UInt64, s2: UInt64, s3: UInt64

    init() {
        var system = SystemRandomNumberGenerator()
        (s0, s1, s2, s3) = (system.next(), system.next(), system.next(), system.next())
        if s0 | s1 | s2 | s3 == 0 { s0 = 1 }  // the one state the generator never leaves
    }

    private mutating func next() -> UInt64 {
        let result = (s1 &* 5).rotatedLeft(by: 7) &* 9
        let t = s1 << 17
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = s3.rotatedLeft(by: 45)
        return result
    }

    /// The next id, e.g. `9b2f6c1e-4d0a-4c3b-8e21-5f7a9d0c3b12`.
    mutating func next() -> String {
        if let counted = DeterministicRequestIDs.next() { return counted }
        let high = next() as UInt64, low = next() as UInt64
        let digits: StaticString = "0123456789abcdef"
        return String(unsafeUninitializedCapacity: 36) { out in
            var written = 0
            for i in 0..<16 {
                var byte = UInt8(truncatingIfNeeded: (i < 8 ? high : low) >> (UInt64(7 - i % 8) * 8))
                if i == 6 { byte = (byte & 0x0F) | 0x40 }  // version 4
                if i == 8 { byte = (byte & 0x3F) | 0x80 }  // RFC 9562 variant
                if i == 4 || i == 6 || i == 8 || i == 10 {
                    out[written] = UInt8(ascii: "-")
                    written += 1
                }
                digits.withUTF8Buffer { hex in
                    out[written] = hex[Int(byte >> 4)]
                    out[written + 1] = hex[Int(byte & 0x0F)]
                }
                written += 2
            }
            return written
        }
    }
}

extension UInt64 {
    fileprivate func rotatedLeft(by count: UInt64) -> UInt64 { (self << count) | (self >> (64 - count)) }
}

/// Request ids from a counter instead (`--deterministic-ids`, an operator setting): the n-th call the server answers
/// gets the same `X-Request-Id` in every run. Process-wide, because request ids are made where no service is at hand
/// (the connection guard's early answers, each connection's gateway); one server runs per process.
public enum DeterministicRequestIDs {
    private static let enabled = Atomic<Bool>(false)
    private static let source = Mutex<DeterministicIDSource?>(nil)

    /// Takes request ids from `ids` from now on.
    public static func use(_ ids: DeterministicIDSource) {
        source.withLock { $0 = ids }
        enabled.store(true, ordering: .releasing)
    }

    /// The next counted request id; nil when ids are random (one atomic load: this is on every call's path).
    static func next() -> String? {
        guard enabled.load(ordering: .acquiring) else { return nil }
        return source.withLock { $0 }?.nextRequestID()
    }
}
