import Testing

@testable import ScwDomain

/// Which `Host` and `Origin` values name this server (the DNS-rebinding defence): a table of values a browser or a
/// client can send, with the answer for the defaults plus `--host 10.0.0.5 --allowed-host scw-mock --allowed-host .ci.test`.
@Suite struct AllowedHostsTests {
    static let hosts = AllowedHosts(boundHost: "10.0.0.5", extra: ["scw-mock", ".CI.test"])

    static let authorities: [(String?, Bool)] = [
        (nil, true), ("", true),  // HTTP/1.0 without Host: no browser sends that
        ("localhost", true), ("localhost:7290", true), ("LocalHost:1", true), ("api.localhost", true), ("localhost.", true),
        ("127.0.0.1", true), ("127.0.0.1:7290", true), ("10.0.0.5:7290", true), ("192.168.1.20", true), ("[::1]:7290", true),
        ("[fe80::1%25eth0]", true), ("scw-mock", true), ("scw-mock:7290", true), ("ci.test", true), ("runner.ci.test:80", true),
        ("rebind.attacker.example", false), ("localhost.attacker.example", false), ("127.0.0.1.nip.io", false),
        ("scw-mock.evil", false), ("evilci.test", false), ("256.0.0.1", false), ("1.2.3", false), ("x", false),
        ("localhost:80:80", false), ("localhost:http", false), ("[::1", false), ("[::1]x", false), (":7290", false),
        ("١٢٧.0.0.1", false),  // digits of another script are no IP literal
        // Dotted quads, which the byte-level check answers (`isIPv4Authority`), and values it leaves to the long way.
        ("0.0.0.0:1", true), ("01.002.3.4", true), ("1.2.3.4:", true), ("1.2.3.4.", true), ("1.2.3.4.5", false),
        ("1.2.3.4:8a", false), ("1.2.3.4:80:90", false), ("1.2.3.256:80", false), ("1..2.3", false), ("1.2.3.4444", false),
        ("1.2.3.:80", false), (".1.2.3", false),
    ]

    @Test(arguments: authorities)
    func authority(_ value: String?, allowed: Bool) {
        #expect(Self.hosts.allows(authority: value) == allowed)
    }

    /// The byte-level check never allows what the long way (host name, then IP literal) would not.
    @Test(arguments: authorities.compactMap(\.0))
    func theDottedQuadShortcutAgreesWithTheLongWay(_ value: String) {
        if AllowedHosts.isIPv4Authority(value) {
            #expect(AllowedHosts.hostName(value).map(AllowedHosts.isIPLiteral) == true)
        }
    }

    static let origins: [(String, Bool)] = [
        ("http://localhost:7290", true), ("https://127.0.0.1", true), ("http://scw-mock", true), ("http://a.ci.test:3000", true),
        ("null", false), ("http://evil.example", false), ("http://localhost.evil.example", false), ("localhost", false),
        ("http://127.0.0.1@evil.example", false), ("http://localhost/path", false), ("file://", false),
    ]

    @Test(arguments: origins)
    func origin(_ value: String, allowed: Bool) {
        #expect(Self.hosts.allows(origin: value) == allowed)
    }

    @Test func defaultsAllowOnlyLoopbackNamesAndAddresses() {
        let defaults = AllowedHosts()
        #expect(defaults.allows(host: "localhost") && defaults.allows(host: "127.0.0.1") && defaults.allows(host: "::1"))
        #expect(!defaults.allows(host: "scw-mock") && !defaults.allows(host: "host.docker.internal"))
    }
}
