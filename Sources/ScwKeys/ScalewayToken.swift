import Foundation

/// The claims of a Scaleway serverless token, in the order Scaleway writes them:
/// `application_claim, version, aud, exp?, jti, iat, iss, nbf, sub`.
public struct TokenClaims: Sendable, Equatable {
    /// Namespace id for a namespace token, "" for a container or function token.
    public var namespaceID: String
    /// Container or function id for an application token, "" for a namespace token.
    public var applicationID: String
    /// Unix seconds; only when the client asked for an expiry.
    public var expiresAt: Int64?
    /// The token's id.
    public var jti: String
    /// Unix seconds of issue; `nbf` equals it.
    public var issuedAt: Int64

    /// Creates claims.
    public init(namespaceID: String, applicationID: String, expiresAt: Int64?, jti: String, issuedAt: Int64) {
        self.namespaceID = namespaceID
        self.applicationID = applicationID
        self.expiresAt = expiresAt
        self.jti = jti
        self.issuedAt = issuedAt
    }

    /// The payload bytes, byte for byte as Scaleway lays them out.
    public var payloadJSON: String {
        let exp = expiresAt.map { "\"exp\":\($0)," } ?? ""
        return #"{"application_claim":[{"namespace_id":"\#(Self.escape(namespaceID))","application_id":"\#(Self.escape(applicationID))"}],"#
            + #""version":2,"aud":"functions","# + exp + #""jti":"\#(Self.escape(jti))","iat":\#(issuedAt),"iss":"SCALEWAY","#
            + #""nbf":\#(issuedAt),"sub":"token"}"#
    }

    private static func escape(_ s: String) -> String {
        let data = try! JSONEncoder().encode(s)
        return String(decoding: data.dropFirst().dropLast(), as: UTF8.self)
    }
}

/// Makes RS256 JWTs exactly like Scaleway's: header `{"alg":"RS256","typ":"JWT"}`, base64url without padding.
/// Written by hand over swift-crypto's RSA because the header and claim order must be byte-exact and the verifier
/// below needs the raw bytes; jwt-kit re-encodes both.
public enum TokenSigner {
    /// The exact header Scaleway sends.
    public static let header = #"{"alg":"RS256","typ":"JWT"}"#

    /// A signed compact JWT.
    public static func sign(_ claims: TokenClaims, with key: NamespaceKey) throws -> String {
        let signingInput = Base64URL.encode(Array(header.utf8)) + "." + Base64URL.encode(Array(claims.payloadJSON.utf8))
        let signature = try key.signRS256(Array(signingInput.utf8))
        return signingInput + "." + Base64URL.encode(signature)
    }
}
