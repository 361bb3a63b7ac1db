import Crypto
import Foundation

/// Deliberately bad tokens for users to test their own verifiers (`POST /_mock/tokens/forge`); the gateway and
/// `TokenVerifier` refuse every one of them. Every kind carries `exp`: `not_yet_valid` is genuinely
/// signed, so an offline verifier accepts it once its `nbf` has passed, and without `exp` it would then be a
/// permanent credential; it becomes valid for `lifetimeSeconds` at most. (The gateway never accepts one: forged
/// tokens are not in the store.)
public enum TokenForger {
    /// How long a forged token lives at most: `exp` is at most this far after its `nbf`.
    public static let lifetimeSeconds: Int64 = 3600

    /// The kinds of bad token on offer (reliability catalog J01–J19).
    public enum Kind: String, CaseIterable, Sendable {
        case expired, not_yet_valid, wrong_namespace, wrong_container, tampered_signature, tampered_payload, alg_none
        case hs256_public_key, other_key
    }

    /// A bad token of `kind` for `claims` (a genuine token's claims), using the namespace's `key`. Claims without
    /// `exp`, or with an `exp` further than `lifetimeSeconds` after their `nbf`, get `nbf + lifetimeSeconds`.
    public static func forge(_ kind: Kind, claims: TokenClaims, key: NamespaceKey, nowSeconds: Int64) throws -> String {
        var c = claims
        c.expiresAt = min(c.expiresAt ?? Int64.max, c.issuedAt + lifetimeSeconds)
        switch kind {
        case .expired:
            c.issuedAt = nowSeconds - 7200
            c.expiresAt = nowSeconds - 3600
            return try TokenSigner.sign(c, with: key)
        case .not_yet_valid:
            // nbf = iat, an hour ahead (beyond any verifier's leeway); valid for at most an hour after that.
            c.issuedAt = nowSeconds + 3600
            c.expiresAt = c.issuedAt + lifetimeSeconds
            return try TokenSigner.sign(c, with: key)
        case .wrong_namespace:
            c.namespaceID = UUID().uuidString.lowercased()
            c.applicationID = ""
            return try TokenSigner.sign(c, with: key)
        case .wrong_container:
            c.namespaceID = ""
            c.applicationID = UUID().uuidString.lowercased()
            return try TokenSigner.sign(c, with: key)
        case .tampered_signature:
            var parts = try TokenSigner.sign(c, with: key).split(separator: ".").map(String.init)
            var signature = Base64URL.decode(Substring(parts[2]))!
            signature[signature.count / 2] ^= 0x01
            parts[2] = Base64URL.encode(signature)
            return parts.joined(separator: ".")
        case .tampered_payload:
            let genuine = try TokenSigner.sign(c, with: key).split(separator: ".").map(String.init)
            var other = c
            other.expiresAt = nowSeconds + 10 * 365 * 86400
            return genuine[0] + "." + Base64URL.encode(Array(other.payloadJSON.utf8)) + "." + genuine[2]
        case .alg_none:
            return Base64URL.encode(Array(#"{"alg":"none","typ":"JWT"}"#.utf8)) + "." + Base64URL.encode(Array(c.payloadJSON.utf8)) + "."
        case .hs256_public_key:
            let input = Base64URL.encode(Array(#"{"alg":"HS256","typ":"JWT"}"#.utf8)) + "." + Base64URL.encode(Array(c.payloadJSON.utf8))
            let mac = HMAC<SHA256>.authenticationCode(for: Array(input.utf8), using: SymmetricKey(data: Array(key.publicKey.pkcs1PEM.utf8)))
            return input + "." + Base64URL.encode(Array(mac))
        case .other_key:
            return try TokenSigner.sign(c, with: try NamespaceKey.generate(bits: 2048))
        }
    }
}
