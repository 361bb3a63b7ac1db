import Crypto
import Foundation
import ScwKeys
import Testing

/// Keys shared by the tests (2048 bits keeps generation fast; the server defaults to 4096).
enum TestKeys {
    static let a = try! NamespaceKey.generate(bits: 2048)
    static let b = try! NamespaceKey.generate(bits: 2048)
}

/// Builds tokens from raw header and payload text, signed by a key or carrying a given signature.
enum Forge {
    static func b64(_ s: String) -> String { Base64URL.encode(Array(s.utf8)) }

    static func rs256(header: String = TokenSigner.header, payload: String, key: NamespaceKey = TestKeys.a) -> String {
        let input = b64(header) + "." + b64(payload)
        return input + "." + Base64URL.encode(try! key.signRS256(Array(input.utf8)))
    }

    static func raw(header: String, payloadBytes: [UInt8], key: NamespaceKey = TestKeys.a) -> String {
        let input = b64(header) + "." + Base64URL.encode(payloadBytes)
        return input + "." + Base64URL.encode(try! key.signRS256(Array(input.utf8)))
    }

    static func hs256(header: String, payload: String, secret: [UInt8]) -> String {
        let input = b64(header) + "." + b64(payload)
        let mac = HMAC<SHA256>.authenticationCode(for: Array(input.utf8), using: SymmetricKey(data: secret))
        return input + "." + Base64URL.encode(Array(mac))
    }
}

@Suite struct TokenVerifierTests {
    static let ns = "eefd9007-0000-4000-8000-000000000001"
    static let app = "fdb905fa-0000-4000-8000-000000000002"
    static let now: Int64 = 1_777_992_131
    static var nowNanos: Int64 { now * 1_000_000_000 }

    static func claims(ns: String = ns, app: String = "", exp: Int64? = nil, iat: Int64 = now) -> TokenClaims {
        TokenClaims(namespaceID: ns, applicationID: app, expiresAt: exp, jti: "35a4f101-7328-4554-9da7-1ec9eb8411c9", issuedAt: iat)
    }

    let verifier = TokenVerifier(publicKey: TestKeys.a.publicKey)
    let target = TokenTarget(namespaceID: ns, applicationID: app)

    func refuse(_ token: String, _ expected: TokenFailure? = nil, target: TokenTarget? = nil, now: Int64 = now,
                sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            _ = try verifier.verify(token, for: target ?? self.target, nowNanoseconds: now * 1_000_000_000)
            Issue.record("accepted: \(token.prefix(80))", sourceLocation: sourceLocation)
        } catch {
            if let expected { #expect(error == expected, sourceLocation: sourceLocation) }
        }
    }

    @Test func signsExactlyLikeScaleway() throws {
        let key = try NamespaceKey.generate(bits: 4096)
        let token = try TokenSigner.sign(Self.claims(exp: Self.now + 86400), with: key)
        let parts = token.split(separator: ".")
        #expect(parts[0] == "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9")
        let payload = String(decoding: Base64URL.decode(parts[1])!, as: UTF8.self)
        #expect(payload == #"{"application_claim":[{"namespace_id":"eefd9007-0000-4000-8000-000000000001","application_id":""}],"version":2,"aud":"functions","exp":1778078531,"jti":"35a4f101-7328-4554-9da7-1ec9eb8411c9","iat":1777992131,"iss":"SCALEWAY","nbf":1777992131,"sub":"token"}"#)
        #expect(Base64URL.decode(parts[2])!.count == 512)
        // As recorded from Scaleway: a namespace token with exp is 1063 characters; a container token without exp 1040.
        #expect(token.count == 1063)
        let appToken = try TokenSigner.sign(Self.claims(ns: "", app: Self.app), with: key)
        #expect(appToken.count == 1040)
        let pem = key.publicKey.pkcs1PEM
        #expect(pem.hasPrefix("-----BEGIN RSA PUBLIC KEY-----\n") && pem.hasSuffix("\n-----END RSA PUBLIC KEY-----\n"))
        #expect(pem.count == 775)
        #expect(pem.split(separator: "\n").dropFirst().dropLast().dropLast().allSatisfy { $0.count == 64 })
    }

    /// Catalog C08: every forged kind carries `exp`, at most an hour after `nbf` (tampered_payload's payload
    /// claims a far `exp`: that is its attack, and the signature covers another one). `not_yet_valid` is genuinely
    /// signed: a verifier accepts it from its `nbf` on, for an hour at most.
    @Test func forgedTokensExpireWithinAnHourOfNbf() throws {
        for kind in TokenForger.Kind.allCases {
            let token = try TokenForger.forge(kind, claims: Self.claims(), key: TestKeys.a, nowSeconds: Self.now)
            let payload = try JSONSerialization.jsonObject(with: Data(Base64URL.decode(token.split(separator: ".")[1])!)) as! [String: Any]
            let exp = try #require(payload["exp"] as? Int64, "\(kind)")
            if kind != .tampered_payload { #expect(exp <= (payload["nbf"] as! Int64) + 3600, "\(kind)") }
        }
        let early = try TokenForger.forge(.not_yet_valid, claims: Self.claims(), key: TestKeys.a, nowSeconds: Self.now)
        refuse(early, .notYetValid)
        let nbf = Self.now + 3600
        #expect(try verifier.verify(early, for: target, nowNanoseconds: nbf * 1_000_000_000).jti == Self.claims().jti)
        refuse(early, .expired, now: nbf + TokenForger.lifetimeSeconds)
    }

    /// Regression (JWT catalog J14/J15): claims past 2262 overflowed Int64 nanoseconds and trapped every verifier.
    @Test func datesPast2262NeitherTrapNorPass() throws {
        let far: Int64 = 10_413_792_000  // 2300-01-01
        let claims = { (exp: String, nbf: Int64, iat: Int64) in
            #"{"application_claim":[{"namespace_id":"\#(Self.ns)","application_id":""}],"version":2,"aud":"functions",\#(exp)"jti":"j","iat":\#(iat),"iss":"SCALEWAY","nbf":\#(nbf),"sub":"token"}"#
        }
        for exp in [far, 253_402_300_799] {
            let token = Forge.rs256(payload: claims("\"exp\":\(exp),", Self.now, Self.now))
            #expect(throws: Never.self) { try verifier.verify(token, for: target, nowNanoseconds: Self.nowNanos) }
        }
        refuse(Forge.rs256(payload: claims("", far, Self.now)), .notYetValid)
        refuse(Forge.rs256(payload: claims("", Self.now, far)), .issuedInTheFuture)
    }

    @Test func acceptsGenuineTokens() throws {
        let nsToken = try TokenSigner.sign(Self.claims(exp: Self.now + 10), with: TestKeys.a)
        #expect(try verifier.verify(nsToken, for: target, nowNanoseconds: Self.nowNanos).namespaceID == Self.ns)
        let appToken = try TokenSigner.sign(Self.claims(ns: "", app: Self.app), with: TestKeys.a)
        #expect(try verifier.verify(appToken, for: target, nowNanoseconds: Self.nowNanos).applicationID == Self.app)
        // Namespace token alone on a namespace target.
        #expect(throws: Never.self) { try verifier.verify(nsToken, for: TokenTarget(namespaceID: Self.ns, applicationID: nil), nowNanoseconds: Self.nowNanos) }
        // The public key round-trips through both PEM forms.
        let spki = try NamespacePublicKey(pem: TestKeys.a.publicKey.spkiPEM)
        let pkcs1 = try NamespacePublicKey(pem: TestKeys.a.publicKey.pkcs1PEM.replacingOccurrences(of: "\n", with: "\r\n"))
        for key in [spki, pkcs1] {
            #expect(throws: Never.self) { try TokenVerifier(publicKey: key).verify(nsToken, for: target, nowNanoseconds: Self.nowNanos) }
        }
    }

    @Test func j01AlgNone() {
        let payload = Self.claims().payloadJSON
        for alg in ["none", "None", "NONE", "noNE"] {
            let h = Forge.b64(#"{"alg":"\#(alg)","typ":"JWT"}"#) + "." + Forge.b64(payload)
            refuse(h + ".", .algorithmNotAllowed(alg))
            refuse(h + "." + Base64URL.encode([UInt8](repeating: 7, count: 512)), .algorithmNotAllowed(alg))
        }
        // An empty signature is still refused under RS256, as such.
        let rs = Forge.rs256(payload: payload)
        refuse(String(rs[..<rs.lastIndex(of: ".")!]) + ".", .malformed("empty signature"))
    }

    @Test func j02HS256WithThePublicKeyAsSecret() throws {
        let pub = TestKeys.a.publicKey
        let secrets: [[UInt8]] = [Array(pub.spkiPEM.utf8), Array(pub.pkcs1PEM.utf8), Array(pub.pkcs1PEM.dropLast().utf8),
                                  Array(pub.key.derRepresentation), Array(try pub.jwk(kid: "x").n.utf8)]
        for secret in secrets {
            refuse(Forge.hs256(header: #"{"alg":"HS256","typ":"JWT"}"#, payload: Self.claims().payloadJSON, secret: secret), .algorithmNotAllowed("HS256"))
        }
    }

    @Test func j03WrongKey() throws {
        refuse(try TokenSigner.sign(Self.claims(), with: TestKeys.b), .badSignature)
    }

    @Test func j04AlgLabelMismatch() {
        for header in [#"{"alg":"HS256","typ":"JWT"}"#, #"{"alg":"rs256","typ":"JWT"}"#, #"{"alg":"RS256 ","typ":"JWT"}"#,
                       #"{"alg":"PS256","typ":"JWT"}"#, #"{"typ":"JWT"}"#] {
            refuse(Forge.rs256(header: header, payload: Self.claims().payloadJSON))
        }
    }

    @Test func j05KidHasNoEffect() {
        for kid in ["../../../../dev/null", "' OR '1'='1", String(repeating: "k", count: 5000), Self.ns] {
            let header = #"{"alg":"RS256","typ":"JWT","kid":"\#(kid)"}"#
            // Signed by B with any kid: still refused (the key comes from the route).
            refuse(Forge.rs256(header: header, payload: Self.claims().payloadJSON, key: TestKeys.b), .badSignature)
        }
    }

    @Test func j06KeyByReferenceHeadersAreIgnored() throws {
        let jwk = try TestKeys.b.publicKey.jwk(kid: "attacker")
        let header = #"{"alg":"RS256","typ":"JWT","jku":"http://127.0.0.1:1/jwks","x5u":"http://127.0.0.1:1/x","jwk":{"kty":"RSA","n":"\#(jwk.n)","e":"\#(jwk.e)"}}"#
        refuse(Forge.rs256(header: header, payload: Self.claims().payloadJSON, key: TestKeys.b), .badSignature)
    }

    @Test func j07Crit() {
        for header in [#"{"alg":"RS256","crit":["x-bind"],"x-bind":1}"#, #"{"alg":"RS256","crit":[]}"#, #"{"alg":"RS256","crit":"exp"}"#] {
            refuse(Forge.rs256(header: header, payload: Self.claims().payloadJSON), .criticalHeader)
        }
    }

    @Test func j08SignatureStripping() throws {
        let good = try TokenSigner.sign(Self.claims(), with: TestKeys.a)
        let parts = good.split(separator: ".").map(String.init)
        let hp = parts[0] + "." + parts[1]
        let sig = Base64URL.decode(Substring(parts[2]))!
        var flipped = sig; flipped[100] ^= 1
        var big = [UInt8](repeating: 0xFF, count: 256)
        big[0] = 0xFF
        for token in [hp + ".", hp, hp + "." + String(parts[2].dropLast(4)), hp + "." + String(parts[2].dropLast(1)),
                      hp + "." + Base64URL.encode(sig.dropLast()), hp + "." + Base64URL.encode([UInt8](repeating: 0, count: 256)),
                      hp + "." + Base64URL.encode([UInt8](repeating: 0, count: 255) + [1]), hp + "." + Base64URL.encode(big),
                      hp + "." + Base64URL.encode(flipped)] {
            refuse(token)
        }
    }

    @Test func j09Base64Variants() throws {
        let good = try TokenSigner.sign(Self.claims(), with: TestKeys.a)
        let parts = good.split(separator: ".").map(String.init)
        var variants = [parts[0] + "=." + parts[1] + "." + parts[2], parts[0] + "." + parts[1] + "==." + parts[2],
                        parts[0] + "." + parts[1] + "." + parts[2] + "=", parts[0] + " ." + parts[1] + "." + parts[2],
                        parts[0] + "." + parts[1] + "\t." + parts[2], parts[0] + "." + parts[1] + "." + parts[2] + "\n",
                        parts[0] + "." + parts[1] + "." + parts[2].replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/"),
                        parts[0] + "." + parts[1] + "." + parts[2] + "A"]
        // Non-canonical spare bits: the last character of a 256-byte signature carries 4 spare bits.
        let last = parts[2].last!
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
        let index = alphabet.firstIndex(of: last)!
        variants.append(parts[0] + "." + parts[1] + "." + parts[2].dropLast() + String(alphabet[index ^ 1]))
        for v in variants where v != good { refuse(v) }
    }

    @Test func j10EnvelopeShape() {
        let start = ContinuousClock.now
        for token in ["a.b", "a.b.c.d", "a.b.c.d.e", ".b.c", String(repeating: ".", count: 1_000_000),
                      String(repeating: "A", count: 10_000_000)] {
            refuse(token)
        }
        #expect(ContinuousClock.now - start < .seconds(1))
    }

    @Test func j11DuplicateMembers() {
        refuse(Forge.rs256(header: #"{"alg":"RS256","alg":"none"}"#, payload: Self.claims().payloadJSON))
        let dupNS = #"{"application_claim":[{"namespace_id":"\#(Self.ns)","namespace_id":"other","application_id":""}],"version":2,"aud":"functions","jti":"j","iat":\#(Self.now),"iss":"SCALEWAY","nbf":\#(Self.now),"sub":"token"}"#
        refuse(Forge.rs256(payload: dupNS))
        let dupIss = Self.claims().payloadJSON.replacingOccurrences(of: #""sub":"token"}"#, with: #""sub":"token","iss":"SCALEWAY"}"#)
        refuse(Forge.rs256(payload: dupIss))
    }

    @Test func j12Encodings() {
        let payload = Self.claims().payloadJSON
        let utf16le: [UInt8] = [0xFF, 0xFE] + payload.utf16.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }
        let utf16be: [UInt8] = payload.utf16.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] }
        let bom: [UInt8] = [0xEF, 0xBB, 0xBF] + Array(payload.utf8)
        let invalid: [UInt8] = Array(payload.utf8.dropLast()) + [0xC3, 0x28, UInt8(ascii: "}")]
        let surrogate = Array(payload.replacingOccurrences(of: "\"sub\":\"token\"", with: "\"sub\":\"token\",\"x\":\"\\ud800\"").utf8)
        for bytes in [utf16le, utf16be, bom, invalid, surrogate] {
            refuse(Forge.raw(header: TokenSigner.header, payloadBytes: bytes))
        }
    }

    @Test func j13OversizeAndNesting() {
        let deep = String(repeating: "[", count: 5000) + String(repeating: "]", count: 5000)
        refuse(Forge.rs256(payload: deep))
        refuse(Forge.rs256(header: #"{"alg":"RS256","x":\#(String(repeating: "[", count: 3000) + String(repeating: "]", count: 3000))}"#, payload: Self.claims().payloadJSON))
        refuse(String(repeating: "a", count: 79 * 1024), .malformed("longer than 8192 bytes"))
    }

    @Test func j14ExpBoundaries() throws {
        for exp in [Self.now - 1, Self.now] {
            refuse(try TokenSigner.sign(Self.claims(exp: exp), with: TestKeys.a), .expired)
        }
        #expect(throws: Never.self) { try verifier.verify(try TokenSigner.sign(Self.claims(exp: Self.now + 1), with: TestKeys.a), for: target, nowNanoseconds: Self.nowNanos) }
        for bad in ["\"1778078531\"", "1778078531.5", "-1", "1e300", "9007199254740993000"] {
            let payload = Self.claims().payloadJSON.replacingOccurrences(of: "\"jti\"", with: "\"exp\":\(bad),\"jti\"")
            refuse(Forge.rs256(payload: payload))
        }
    }

    @Test func j15NbfAndIat() throws {
        let leeway = TokenVerifier.defaultLeewaySeconds
        func token(nbf: Int64, iat: Int64) -> String {
            Forge.rs256(payload: Self.claims().payloadJSON
                .replacingOccurrences(of: "\"nbf\":\(Self.now)", with: "\"nbf\":\(nbf)")
                .replacingOccurrences(of: "\"iat\":\(Self.now)", with: "\"iat\":\(iat)"))
        }
        for nbf in [Self.now, Self.now + 1, Self.now + leeway] {
            #expect(throws: Never.self) { try verifier.verify(token(nbf: nbf, iat: Self.now), for: target, nowNanoseconds: Self.nowNanos) }
        }
        refuse(token(nbf: Self.now + leeway + 1, iat: Self.now), .notYetValid)
        refuse(token(nbf: Self.now, iat: Self.now + leeway + 1), .issuedInTheFuture)
        let noIat = Self.claims().payloadJSON.replacingOccurrences(of: "\"iat\":\(Self.now),", with: "")
        refuse(Forge.rs256(payload: noIat), .badClaim("iat"))
        let nbfAfterExp = Self.claims(exp: Self.now + 5).payloadJSON.replacingOccurrences(of: "\"nbf\":\(Self.now)", with: "\"nbf\":\(Self.now + 10)")
        #expect(throws: TokenFailure.self) { try verifier.verify(Forge.rs256(payload: nbfAfterExp), for: target, nowNanoseconds: (Self.now + 7) * 1_000_000_000) }
    }

    @Test func j17ClaimMismatches() {
        let base = Self.claims().payloadJSON
        let mutations: [(String, String)] = [
            (#""aud":"functions""#, #""aud":"Functions""#), (#""aud":"functions""#, #""aud":"functions ""#),
            (#""aud":"functions""#, #""aud":[]"#), (#""aud":"functions","#, ""),
            (#""iss":"SCALEWAY""#, #""iss":"scaleway""#), (#""iss":"SCALEWAY","#, ""),
            (#""sub":"token""#, #""sub":"other""#), (#""version":2"#, #""version":1"#), (#""version":2"#, #""version":"2""#),
            (#"[{"namespace_id":"\#(Self.ns)","application_id":""}]"#, "[]"),
            (#"[{"namespace_id":"\#(Self.ns)","application_id":""}]"#, #"[{"namespace_id":"\#(Self.ns)","application_id":""},{"namespace_id":"b","application_id":""}]"#),
            (#"[{"namespace_id":"\#(Self.ns)","application_id":""}]"#, #"[{"namespace_id":"\#(Self.ns)","application_id":"\#(Self.app)"}]"#),
            (#"[{"namespace_id":"\#(Self.ns)","application_id":""}]"#, #"[{"namespace_id":"","application_id":""}]"#),
        ]
        for (from, to) in mutations {
            let payload = base.replacingOccurrences(of: from, with: to)
            #expect(payload != base)
            refuse(Forge.rs256(payload: payload))
        }
        // Decision (documented): an aud array that contains "functions" is accepted.
        let arrayAud = base.replacingOccurrences(of: #""aud":"functions""#, with: #""aud":["functions","x"]"#)
        #expect(throws: Never.self) { try verifier.verify(Forge.rs256(payload: arrayAud), for: target, nowNanoseconds: Self.nowNanos) }
    }

    @Test func j18CrossNamespace() throws {
        // Minted for namespace A, presented for B (with B's key chosen by the route).
        let forA = try TokenSigner.sign(Self.claims(), with: TestKeys.a)
        let verifierB = TokenVerifier(publicKey: TestKeys.b.publicKey)
        #expect(throws: TokenFailure.badSignature) { try verifierB.verify(forA, for: TokenTarget(namespaceID: "b", applicationID: nil), nowNanoseconds: Self.nowNanos) }
        // Signed with B's key but claiming A, presented to A's route: A's key fails it.
        refuse(try TokenSigner.sign(Self.claims(), with: TestKeys.b), .badSignature)
        // Genuine A token on a target in another namespace whose key is also A's (same key, other id): claim mismatch.
        refuse(forA, .wrongNamespace, target: TokenTarget(namespaceID: "other", applicationID: nil))
    }

    @Test func j19SiblingContainer() throws {
        let c1 = try TokenSigner.sign(Self.claims(ns: "", app: "c1"), with: TestKeys.a)
        refuse(c1, .wrongApplication, target: TokenTarget(namespaceID: Self.ns, applicationID: "c2"))
        refuse(c1, .wrongApplication, target: TokenTarget(namespaceID: Self.ns, applicationID: nil))
        let nsToken = try TokenSigner.sign(Self.claims(), with: TestKeys.a)
        for app in ["c1", "c2"] {
            #expect(throws: Never.self) { try verifier.verify(nsToken, for: TokenTarget(namespaceID: Self.ns, applicationID: app), nowNanoseconds: Self.nowNanos) }
        }
    }

    @Test func jwkExport() throws {
        let jwk = try TestKeys.a.publicKey.jwk(kid: Self.ns)
        #expect(jwk.kty == "RSA" && jwk.alg == "RS256" && jwk.use == "sig" && jwk.kid == Self.ns)
        #expect(jwk.e == "AQAB")
        #expect(Base64URL.decode(Substring(jwk.n))!.count == 256)
    }
}
