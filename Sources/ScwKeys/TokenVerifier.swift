import Foundation

/// Why a token was refused; the description is what users see (`token verify`, gateway 403 bodies).
public enum TokenFailure: Error, Equatable, Sendable, CustomStringConvertible {
    case malformed(String)
    case algorithmNotAllowed(String)
    case criticalHeader
    case badSignature
    case expired
    case notYetValid
    case issuedInTheFuture
    case badClaim(String)
    case wrongNamespace
    case wrongApplication
    case revoked

    public var description: String {
        switch self {
        case .malformed(let why): "malformed token: \(why)"
        case .algorithmNotAllowed(let alg): "algorithm not allowed: \(alg) (only RS256 is accepted)"
        case .criticalHeader: "critical header parameters are not supported"
        case .badSignature: "bad signature: the token was not signed by this namespace's key"
        case .expired: "token expired"
        case .notYetValid: "token not yet valid (nbf)"
        case .issuedInTheFuture: "token issued in the future (iat)"
        case .badClaim(let claim): "invalid claim: \(claim)"
        case .wrongNamespace: "token is for another namespace"
        case .wrongApplication: "token is for another container or function"
        case .revoked: "token was revoked"
        }
    }
}

/// What a token must grant access to: a namespace, and optionally one container or function in it.
public struct TokenTarget: Sendable {
    public var namespaceID: String
    /// nil: only namespace tokens qualify (the CLI's `--namespace-id` alone).
    public var applicationID: String?

    /// Creates a target.
    public init(namespaceID: String, applicationID: String?) {
        self.namespaceID = namespaceID
        self.applicationID = applicationID
    }
}

/// A strict RS256 verifier for Scaleway tokens (reliability catalog 1.1): the key is given by the caller (chosen by
/// the route, never by `kid`/`jku`/`jwk`), `alg` must be exactly RS256, no `crit`, canonical base64url, UTF-8 JSON
/// without duplicate members, the Scaleway claims, and `exp` strictly (`now < exp`). `nbf` and `iat` get a leeway of
/// `leewaySeconds` for issuer clock skew (so `nbf == now` is valid).
public struct TokenVerifier: Sendable {
    /// Longest token accepted; real ones are about 1,060 characters.
    public static let maxTokenLength = 8192
    /// Default leeway on `nbf`/`iat`.
    public static let defaultLeewaySeconds: Int64 = 60

    public let publicKey: NamespacePublicKey
    public let leewaySeconds: Int64

    /// Creates a verifier for one namespace's key.
    public init(publicKey: NamespacePublicKey, leewaySeconds: Int64 = TokenVerifier.defaultLeewaySeconds) {
        self.publicKey = publicKey
        self.leewaySeconds = leewaySeconds
    }

    /// The token's claims if it grants `target` at `nowNanoseconds` (Unix time), else the reason.
    public func verify(_ token: String, for target: TokenTarget, nowNanoseconds: Int64) throws(TokenFailure) -> TokenClaims {
        guard token.utf8.count <= Self.maxTokenLength else { throw .malformed("longer than \(Self.maxTokenLength) bytes") }
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3 else { throw .malformed("expected 3 dot-separated parts, got \(parts.count)") }
        // The signature is decoded after the header is checked, so an `alg:none` token with an empty signature is
        // refused for its algorithm (catalog J01), not as malformed.
        guard let headerBytes = Base64URL.decode(parts[0]), let payloadBytes = Base64URL.decode(parts[1]),
              !headerBytes.isEmpty, !payloadBytes.isEmpty
        else { throw .malformed("not canonical unpadded base64url") }

        let header: [String: JSONValue]
        do {
            guard let object = try JSONValue.parse(headerBytes).object else { throw TokenFailure.malformed("header is not an object") }
            header = object
        } catch let error as TokenFailure { throw error } catch { throw .malformed("header: \(error)") }
        guard let alg = header["alg"]?.string else { throw .algorithmNotAllowed("missing") }
        guard alg == "RS256" else { throw .algorithmNotAllowed(alg) }
        guard header["crit"] == nil else { throw .criticalHeader }
        if let typ = header["typ"], typ != .string("JWT") { throw .malformed("typ must be JWT") }
        guard let signature = Base64URL.decode(parts[2]) else { throw .malformed("not canonical unpadded base64url") }
        guard !signature.isEmpty else { throw .malformed("empty signature") }

        let signingInput = Array(token.utf8.prefix(parts[0].utf8.count + 1 + parts[1].utf8.count))
        guard publicKey.isValidRS256(signature, for: signingInput) else { throw .badSignature }

        let payload: [String: JSONValue]
        do {
            guard let object = try JSONValue.parse(payloadBytes).object else { throw TokenFailure.malformed("payload is not an object") }
            payload = object
        } catch let error as TokenFailure { throw error } catch { throw .malformed("payload: \(error)") }

        guard payload["iss"] == .string("SCALEWAY") else { throw .badClaim("iss") }
        switch payload["aud"] {
        case .string("functions"): break
        case .array(let items) where items.contains(.string("functions")): break
        default: throw .badClaim("aud")
        }
        guard payload["sub"] == .string("token") else { throw .badClaim("sub") }
        guard payload["version"] == .integer(2) else { throw .badClaim("version") }
        guard let jti = payload["jti"]?.string, !jti.isEmpty else { throw .badClaim("jti") }
        guard case .array(let claims)? = payload["application_claim"], claims.count == 1,
              let claim = claims[0].object, let ns = claim["namespace_id"]?.string, let app = claim["application_id"]?.string,
              ns.isEmpty != app.isEmpty
        else { throw .badClaim("application_claim") }

        guard let iat = payload["iat"]?.integer, iat >= 0 else { throw .badClaim("iat") }
        guard let nbf = payload["nbf"]?.integer, nbf >= 0 else { throw .badClaim("nbf") }
        var exp: Int64?
        if let raw = payload["exp"] {
            guard let value = raw.integer, value >= 0, value < 253_402_300_800 else { throw .badClaim("exp") }
            exp = value
        }
        // Compared in seconds: claims are seconds, and instants after 2262 do not fit in Int64 nanoseconds (an `exp`
        // in the year 9999 is valid and must not overflow).
        let now = nowNanoseconds >= 0 ? nowNanoseconds / 1_000_000_000 : (nowNanoseconds - 999_999_999) / 1_000_000_000
        if let exp, now >= exp { throw .expired }
        if nbf > now + leewaySeconds { throw .notYetValid }
        if iat > now + leewaySeconds { throw .issuedInTheFuture }

        if !ns.isEmpty {
            guard ns == target.namespaceID else { throw .wrongNamespace }
        } else {
            guard let wanted = target.applicationID else { throw .wrongApplication }
            guard app == wanted else { throw .wrongApplication }
        }
        return TokenClaims(namespaceID: ns, applicationID: app, expiresAt: exp, jti: jti, issuedAt: iat)
    }
}
