import NIOHTTP1
import Testing

@testable import ScwAPI

/// The gateway's header names, recognised by their bytes in any case.
@Suite struct HeaderNameTests {
    @Test func everyNameTheGatewayActsOnIsRecognisedInAnyCase() {
        let roles: [(String, HeaderName.Role)] = [
            ("connection", .hopByHop), ("keep-alive", .hopByHop), ("proxy-connection", .hopByHop),
            ("transfer-encoding", .hopByHop), ("upgrade", .hopByHop), ("te", .hopByHop), ("trailer", .hopByHop),
            ("host", .hopByHop), ("expect", .hopByHop), ("content-length", .contentLength),
            ("x-forwarded-for", .forwarded), ("x-forwarded-proto", .forwarded), ("x-forwarded-host", .forwarded),
            ("x-request-id", .requestID), ("server", .stamped), ("date", .stamped), ("x-auth-token", .authToken),
        ]
        for (name, role) in roles {
            #expect(HeaderName.role(of: name) == role, "\(name)")
            #expect(HeaderName.role(of: name.uppercased()) == role, "\(name.uppercased())")
            let mixed = String(name.enumerated().map { $0.offset % 2 == 0 ? Character($0.element.uppercased()) : $0.element })
            #expect(HeaderName.role(of: mixed) == role, "\(mixed)")
        }
    }

    @Test func namesThatOnlyLookAlikeAreOther() {
        for name in ["hosts", "hos", "x-request-ix", "content_length", "content-lengths", "x-forwarded-fo", "t3", "dates",
                     "X-Auth-Tokens", "accept", "x-forwarded-prot0", "keep alive", "", "höst"] {
            #expect(HeaderName.role(of: name) == .other, "\(name)")
        }
        #expect(HeaderName.equals("Content-Length", "content-length"))
        #expect(!HeaderName.equals("Content-Lengt", "content-length"))
        #expect(!HeaderName.equals("Content.Length", "content-length"))
    }

    @Test func theCallerGetsTheProcessesHeadersWithoutHopByHopOnesAndWithTheGatewaysRequestID() {
        let fields = HTTPHeaders([
            ("Content-Type", "text/plain"), ("CONTENT-LENGTH", "2"), ("Connection", "keep-alive"), ("Keep-Alive", "timeout=5"),
            ("server", "BaseHTTP/0.6"), ("DATE", "Mon, 07 Dec 2026 10:00:00 GMT"), ("X-Request-ID", "forged"),
            ("X-Forwarded-For", "10.0.0.1"), ("Set-Cookie", "a=b"),
        ])
        let kept = GatewayRouting.responseHeaders(fields, requestID: "req-1")
        #expect(kept.map(\.0) == ["Content-Type", "CONTENT-LENGTH", "X-Forwarded-For", "Set-Cookie", "X-Request-Id"])
        #expect(kept.last?.1 == "req-1")
    }
}
