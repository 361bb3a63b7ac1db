import Crypto
import Foundation
@preconcurrency import _CryptoExtras

/// A namespace's RSA key pair (Scaleway signs its tokens with one 4096-bit key per namespace).
public struct NamespaceKey: Sendable {
    /// The private half; leaves the server only through `keys export`-style commands.
    public let privateKey: _RSA.Signing.PrivateKey
    /// The public half, derived once (every token response carries its PEM).
    public let publicKey: NamespacePublicKey
    /// `publicKey.pkcs1PEM`, computed once.
    public let publicPKCS1PEM: String

    /// Wraps a private key.
    public init(privateKey: _RSA.Signing.PrivateKey) {
        self.privateKey = privateKey
        self.publicKey = NamespacePublicKey(key: privateKey.publicKey)
        self.publicPKCS1PEM = publicKey.pkcs1PEM
    }

    /// Generates a new key (about 0.7 s at 4096 bits on these machines: never call it while a request waits).
    public static func generate(bits: Int) throws -> NamespaceKey {
        NamespaceKey(privateKey: try _RSA.Signing.PrivateKey(keySize: .init(bitCount: bits)))
    }

    /// Loads a PEM private key, PKCS#1 (`BEGIN RSA PRIVATE KEY`) or PKCS#8 (`BEGIN PRIVATE KEY`), of at least 2048 bits.
    public init(pem: String) throws {
        self.init(privateKey: try _RSA.Signing.PrivateKey(pemRepresentation: pem))
    }

    /// PKCS#8 PEM, the form the store keeps.
    public var privatePEM: String { privateKey.pkcs8PEMRepresentation }


    /// Signs `message` with RS256 (RSASSA-PKCS1-v1_5 with SHA-256).
    public func signRS256(_ message: [UInt8]) throws -> [UInt8] {
        let signature = try privateKey.signature(for: SHA256.hash(data: message), padding: .insecurePKCS1v1_5)
        return Array(signature.rawRepresentation)
    }
}

/// A namespace's public key and the forms it is exported in.
public struct NamespacePublicKey: Sendable {
    /// The key.
    public let key: _RSA.Signing.PublicKey

    /// Wraps a public key.
    public init(key: _RSA.Signing.PublicKey) { self.key = key }

    /// Loads a PEM public key: PKCS#1 (`BEGIN RSA PUBLIC KEY`) or SubjectPublicKeyInfo (`BEGIN PUBLIC KEY`).
    public init(pem: String) throws {
        let normalized = pem.replacingOccurrences(of: "\r\n", with: "\n")
        if normalized.contains("BEGIN RSA PUBLIC KEY") {
            let body = normalized.split(separator: "\n").filter { !$0.hasPrefix("-----") }.joined()
            guard let der = Data(base64Encoded: body) else { throw KeyError.badPEM }
            self.key = try _RSA.Signing.PublicKey(derRepresentation: der)
        } else {
            self.key = try _RSA.Signing.PublicKey(pemRepresentation: normalized)
        }
    }

    /// PKCS#1 PEM exactly as Scaleway returns `public_key`: 64-character lines and a trailing newline.
    public var pkcs1PEM: String { Self.pem(label: "RSA PUBLIC KEY", der: key.pkcs1DERRepresentation) }

    /// SubjectPublicKeyInfo PEM (`BEGIN PUBLIC KEY`), the form most JWT libraries take.
    public var spkiPEM: String { Self.pem(label: "PUBLIC KEY", der: key.derRepresentation) }

    /// Size of the modulus in bits.
    public var bits: Int { key.keySizeInBits }

    /// The RFC 7517 JWK members.
    public func jwk(kid: String) throws -> JWK {
        let primitives = try key.getKeyPrimitives()
        return JWK(kty: "RSA", kid: kid, use: "sig", alg: "RS256",
                   n: Base64URL.encode(Self.trimmed(primitives.modulus)), e: Base64URL.encode(Self.trimmed(primitives.publicExponent)))
    }

    /// Whether `signature` is a valid RS256 signature of `message`.
    public func isValidRS256(_ signature: [UInt8], for message: [UInt8]) -> Bool {
        guard signature.count * 8 == key.keySizeInBits else { return false }
        return key.isValidSignature(_RSA.Signing.RSASignature(rawRepresentation: signature), for: SHA256.hash(data: message),
                                    padding: .insecurePKCS1v1_5)
    }

    private static func trimmed(_ data: Data) -> [UInt8] {
        let bytes = Array(data.drop { $0 == 0 })
        return bytes.isEmpty ? [0] : bytes
    }

    static func pem(label: String, der: Data) -> String {
        let base64 = der.base64EncodedString()
        var lines: [Substring] = []
        var rest = Substring(base64)
        while !rest.isEmpty {
            lines.append(rest.prefix(64))
            rest = rest.dropFirst(64)
        }
        return "-----BEGIN \(label)-----\n" + lines.joined(separator: "\n") + "\n-----END \(label)-----\n"
    }
}

/// A JSON Web Key for an RSA signing key.
public struct JWK: Codable, Sendable, Equatable {
    public var kty: String
    public var kid: String
    public var use: String
    public var alg: String
    public var n: String
    public var e: String
}

/// Key loading failures.
public enum KeyError: Error {
    case badPEM
}
