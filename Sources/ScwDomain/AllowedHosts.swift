/// The host names that name this server (the API, `/_mock` and the pre-signed URLs): the DNS-rebinding defence, decided
/// as webpack-dev-server and Vite decide it. A web page can make a browser send requests to 127.0.0.1 only under a
/// name it controls (`Host: rebind.attacker.example` after the name re-resolves to 127.0.0.1), so a request is for
/// this server only when its `Host` is:
/// - a loopback name: `localhost` or a subdomain of it (RFC 6761 reserves `.localhost` for loopback);
/// - an IP literal, v4 or v6: a page cannot make a browser send an IP literal it did not connect to (Vite and
///   webpack-dev-server allow every IP for the same reason), so `127.0.0.1`, the bound address and a CI service's
///   container address all work;
/// - the name the server was told to bind (`--host`);
/// - a name the operator added (`--allowed-host`, `SCW_MOCK_ALLOWED_HOSTS`); one with a leading dot also allows every
///   subdomain (`.example.test`).
/// Everything else is either a container's or function's own host (routed to it by the gateway) or refused.
public struct AllowedHosts: Sendable, Equatable {
    /// Exact names, lower-cased.
    public let names: Set<String>
    /// Suffixes (with their leading dot) whose subdomains are allowed, lower-cased.
    public let suffixes: [String]

    /// The defaults plus the bound host and the operator's names.
    public init(boundHost: String = "127.0.0.1", extra: [String] = []) {
        var names: Set<String> = ["localhost"]
        var suffixes: [String] = [".localhost"]
        for raw in [boundHost] + extra {
            let name = raw.lowercased().trimmingTrailingDot
            if name.hasPrefix(".") {
                suffixes.append(name)
                names.insert(String(name.dropFirst()))
            } else if !name.isEmpty {
                names.insert(name)
            }
        }
        self.names = names
        self.suffixes = suffixes
    }

    /// Whether `host` (a name or an IP literal, without port or brackets) names this server.
    public func allows(host: String) -> Bool {
        if names.contains(host) { return true }  // the common case: already lower-case, no trailing dot
        let host = host.lowercased().trimmingTrailingDot
        if names.contains(host) || Self.isIPLiteral(host) { return true }
        return suffixes.contains { host.hasSuffix($0) }
    }

    /// Whether an HTTP `Host` or authority value (`name`, `name:port`, `[v6]:port`) names this server. No `Host` at all
    /// (an HTTP/1.0 client) is allowed: no browser sends a request without one.
    public func allows(authority: String?) -> Bool {
        guard let authority, !authority.isEmpty else { return true }
        if Self.isIPv4Authority(authority) { return true }  // the common case (`127.0.0.1:8080`), from its bytes
        guard let host = Self.hostName(authority) else { return false }
        return allows(host: host)
    }

    /// Whether an authority is a dotted-quad IPv4 literal (each part 0–255, one to three ASCII digits), with or without
    /// a `:port` of ASCII digits, read from its bytes. Anything else (names, IPv6, malformed values) is false: for an
    /// authority, it then goes the long way (`hostName`, then `allows(host:)`).
    static func isIPv4Authority(_ authority: String) -> Bool {
        var authority = authority
        return authority.withUTF8 { bytes in
            var parts = 0, digits = 0, value = 0, i = 0
            while i < bytes.count {
                let b = bytes[i]
                if b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") {
                    digits += 1
                    value = value * 10 + Int(b - UInt8(ascii: "0"))
                    guard digits <= 3, value <= 255 else { return false }
                } else if b == UInt8(ascii: ".") || b == UInt8(ascii: ":") {
                    guard digits > 0 else { return false }
                    parts += 1
                    (digits, value) = (0, 0)
                    if b == UInt8(ascii: ":") { break }
                } else {
                    return false
                }
                i += 1
            }
            if i == bytes.count {  // no port: the last part ends the value
                guard digits > 0 else { return false }
                parts += 1
            }
            guard parts == 4 else { return false }
            // After the colon: the port, digits only (empty is fine: `host:` is a valid authority).
            return bytes[Swift.min(i + 1, bytes.count)...].allSatisfy { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
        }
    }

    /// Whether an `Origin` header value (`scheme://host[:port]`) names this server. `null` (sandboxed frames, files,
    /// redirects across sites) never does.
    public func allows(origin: String) -> Bool {
        guard let schemeEnd = origin.range(of: "://") else { return false }
        let authority = origin[schemeEnd.upperBound...]
        guard !authority.isEmpty, !authority.contains("/"), !authority.contains("@"), let host = Self.hostName(String(authority)) else { return false }
        return allows(host: host)
    }

    /// The host of an authority, without port and brackets; nil when it is malformed. (On every request: no
    /// intermediate arrays.)
    public static func hostName(_ authority: String) -> String? {
        // UTF-8 positions, not characters: `[`, `]` and `:` are ASCII, so their positions are valid String indices.
        let utf8 = authority.utf8
        if utf8.first == UInt8(ascii: "[") {
            guard let close = utf8.firstIndex(of: UInt8(ascii: "]")) else { return nil }
            let rest = authority[utf8.index(after: close)...]
            guard rest.isEmpty || (rest.hasPrefix(":") && isPort(rest.dropFirst())) else { return nil }
            return String(authority[utf8.index(after: utf8.startIndex)..<close])
        }
        guard let colon = utf8.firstIndex(of: UInt8(ascii: ":")) else { return authority }
        guard colon != utf8.startIndex, isPort(authority[utf8.index(after: colon)...]) else { return nil }
        return String(authority[..<colon])
    }

    /// ASCII digits only (empty is fine: `host:` is a valid authority).
    private static func isPort(_ text: Substring) -> Bool {
        text.utf8.allSatisfy { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
    }

    /// An IPv4 dotted quad (`isIPv4Authority`'s rule) or an IPv6 address (hex digits, colons, and an optional embedded
    /// IPv4 or zone).
    public static func isIPLiteral(_ host: String) -> Bool {
        if isIPv4Authority(host) { return true }
        guard host.contains(":") else { return false }
        let address = host.split(separator: "%", maxSplits: 1).first ?? ""
        return !address.isEmpty && address.allSatisfy { $0.isASCII && ($0.isHexDigit || $0 == ":" || $0 == ".") }
    }
}

extension String {
    fileprivate var trimmingTrailingDot: String { hasSuffix(".") ? String(dropLast()) : self }
}
