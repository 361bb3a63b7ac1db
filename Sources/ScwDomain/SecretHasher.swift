import CArgon2
import Crypto
import Foundation

/// Argon2id parameter sets Scaleway answers with: containers v1 uses m=65536,t=3,p=64;
/// containers v1beta1 and functions use m=65536,t=1,p=2. Either way a 16-byte random salt and a 32-byte hash.
public enum SecretHashProfile: Sendable {
    case containersV1
    case legacy

    var timeCost: UInt32 { self == .containersV1 ? 3 : 1 }
    var memoryKiB: UInt32 { 65536 }
    var lanes: UInt32 { self == .containersV1 ? 64 : 2 }
}

/// How much CPU and memory a secret hash costs (`--secret-hash-cost`): Scaleway's own parameters, or cheaper
/// Argon2id parameters (still a verifiable PHC string) for test suites with many secrets.
public enum SecretHashCost: String, Sendable, CaseIterable {
    case scaleway
    case fast
}

/// Hashes secret values into Argon2id PHC strings with Debian's libargon2, and verifies them.
/// libargon2 is the reference implementation; no Swift package on the mirror provides Argon2.
public enum SecretHasher {
    /// Argon2id parameters of `cost.fast`, for both profiles: 1 MiB, one pass, one lane (about a millisecond instead of
    /// Scaleway's 64 MiB; v1's t=3,p=64 costs ~0.26 s of CPU per secret). Same salt and hash lengths, same PHC format.
    public static let fastParameters: (timeCost: UInt32, memoryKiB: UInt32, lanes: UInt32) = (1, 1024, 1)

    /// Hashes `value` with a fresh random salt (or `fixedSalt`, 16 bytes: `--deterministic-ids`); returns
    /// `$argon2id$v=19$m=…,t=…,p=…$salt$hash`, with the profile's parameters (`cost` `.scaleway`) or `fastParameters` (`.fast`).
    public static func hash(_ value: String, profile: SecretHashProfile, cost: SecretHashCost = .scaleway, salt fixedSalt: [UInt8]? = nil) -> String {
        let (timeCost, memoryKiB, lanes) = cost == .fast ? fastParameters : (profile.timeCost, profile.memoryKiB, profile.lanes)
        var salt = [UInt8](repeating: 0, count: 16)
        for i in salt.indices { salt[i] = UInt8.random(in: 0...255) }
        if let fixedSalt { salt = fixedSalt }
        let password = Array(value.utf8)
        let encodedLength = argon2_encodedlen(timeCost, memoryKiB, lanes, UInt32(salt.count), 32, Argon2_id)
        var encoded = [CChar](repeating: 0, count: encodedLength)
        let rc = password.withUnsafeBytes { pw in
            argon2id_hash_encoded(timeCost, memoryKiB, lanes, pw.baseAddress, pw.count,
                                  salt, salt.count, 32, &encoded, encodedLength)
        }
        precondition(rc == ARGON2_OK.rawValue, "argon2id_hash_encoded failed: \(rc)")
        return String(decoding: encoded.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Whether `encoded` is the Argon2id hash of `value`.
    public static func verify(_ value: String, against encoded: String) -> Bool {
        let password = Array(value.utf8)
        return password.withUnsafeBytes { pw in
            argon2id_verify(encoded, pw.baseAddress, pw.count) == ARGON2_OK.rawValue
        }
    }
}

/// Constant-time comparison of secrets, so response time does not tell how much of a guess was right.
/// The SHA-256 of a secret, as an in-memory index: the secret itself is never a dictionary key (whose hashing and
/// comparison are not constant-time); what is found by it is then compared with `ConstantTime.equals`.
public struct SecretDigest: Hashable, Sendable {
    /// The 32 bytes, as four words.
    private let words: (UInt64, UInt64, UInt64, UInt64)

    /// The digest of `secret`'s UTF-8 bytes.
    public init(_ secret: String) {
        var secret = secret
        let digest = secret.withUTF8 { SHA256.hash(data: UnsafeRawBufferPointer($0)) }
        words = digest.withUnsafeBytes { bytes in
            (bytes.loadUnaligned(fromByteOffset: 0, as: UInt64.self), bytes.loadUnaligned(fromByteOffset: 8, as: UInt64.self),
             bytes.loadUnaligned(fromByteOffset: 16, as: UInt64.self), bytes.loadUnaligned(fromByteOffset: 24, as: UInt64.self))
        }
    }

    public static func == (a: Self, b: Self) -> Bool { a.words == b.words }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(words.0)
        hasher.combine(words.1)
        hasher.combine(words.2)
        hasher.combine(words.3)
    }
}

public enum ConstantTime {
    /// True when `a` and `b` are equal; the time taken depends only on their lengths.
    public static func equals(_ a: String, _ b: String) -> Bool {
        var a = a, b = b
        return a.withUTF8 { x in
            b.withUTF8 { y in
                var diff = UInt8(x.count == y.count ? 0 : 1)
                for i in 0..<max(x.count, y.count) {
                    diff |= (i < x.count ? x[i] : 0) ^ (i < y.count ? y[i] : 0)
                }
                return diff == 0
            }
        }
    }

    /// SHA-256 of a secret as hex, the index the store looks keys up by (so the secret itself is never a query key).
    public static func digest(_ secret: String) -> String {
        hex(SHA256.hash(data: Array(secret.utf8)))
    }

    /// Lower-case hex of bytes (on the authentication hot path: no per-byte formatting).
    public static func hex(_ bytes: some Sequence<UInt8>) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(64)
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
