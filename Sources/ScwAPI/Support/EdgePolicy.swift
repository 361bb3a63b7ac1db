import HTTPTypes
import NIOHTTP1
import ScwDomain

/// Who may talk to the API and to `/_mock` at all, decided before any route runs (the local-server attacks of the
/// reliability catalog: web pages, rebound DNS names). The trust line: the operator (flags, `--seed` files) is trusted;
/// every request is not. Three checks, in this order:
/// 1. `Host` must name this server (`AllowedHosts`, checked by `GatewayRouting.route`, which sends the hosts of
///    applications to the gateway instead): a rebound name (`Host: rebind.attacker.example`) is refused, so a
///    page that re-resolved its own name to 127.0.0.1 reads and changes nothing.
/// 2. A browser's cross-site request is refused: an `Origin` that is not an allowed host, or, without `Origin`,
///    `Sec-Fetch-Site: cross-site` (a navigation or an `<img>` GET). Clients that are not browsers (SDKs, Terraform,
///    Ansible, curl) send neither and are not affected. No CORS header is ever granted, so a page cannot read answers.
/// 3. With `--control-token`, every `/_mock` route requires `X-Mock-Token`, except health (readiness probes), the
///    gateway's `/_mock/invoke` (the application's own privacy applies) and the pre-signed upload and download URLs
///    (their `token=` is the credential, handed out by the authenticated API).
/// Calls for a container's or function's own host go to the gateway instead and are not checked here: applications
/// serve browsers, cross-site included, as they do on Scaleway.
public struct EdgePolicy: Sendable {
    /// The names that mean this server.
    public let hosts: AllowedHosts
    /// The `--control-token` value (compared in constant time).
    let controlToken: String?

    /// Creates the policy.
    public init(hosts: AllowedHosts = AllowedHosts(), controlToken: String? = nil) {
        self.hosts = hosts
        self.controlToken = controlToken
    }

    static let mockToken = HTTPField.Name("X-Mock-Token")!

    /// Why a request for the API or `/_mock` whose `Host` is allowed (`hosts`, checked by the routing) is refused, or
    /// nil when it may go on. One pass over the headers: this runs on every API call.
    func refusal(path: String, fields: HTTPFields) -> ErrorRenderer.EdgeRefusal? {
        refusal(path: path, headers: fields.lazy.map { ($0.name.canonicalName, $0.value) })
    }

    /// The same, for a request as HTTP/1 parsed it (the gateway reads requests before they become HTTP types).
    func refusal(path: String, headers: HTTPHeaders) -> ErrorRenderer.EdgeRefusal? {
        refusal(path: path, headers: headers.lazy.compactMap { field in Self.checkedName(field.name).map { ($0, GatewayRouting.trimmed(field.value)) } })
    }

    /// The lower-case name of a header the check reads, nil for any other (without lower-casing every name).
    private static func checkedName(_ name: String) -> String? {
        var name = name
        return name.withUTF8 { bytes in
            if HeaderName.matches(bytes, "origin") { return "origin" }
            if HeaderName.matches(bytes, "sec-fetch-site") { return "sec-fetch-site" }
            if HeaderName.matches(bytes, "x-mock-token") { return "x-mock-token" }
            return nil
        }
    }

    /// The check itself, over (lower-case name, value) pairs.
    private func refusal(path: String, headers: some Sequence<(String, String)>) -> ErrorRenderer.EdgeRefusal? {
        var sawOrigin = false, crossSite = false, mockTokens = 0, mockTokenMatches = false
        for (name, value) in headers {
            switch name {
            case "origin":
                sawOrigin = true
                if !hosts.allows(origin: value) { return .crossSite("Origin: \(value)") }
            case "sec-fetch-site":
                if value.lowercased() == "cross-site" { crossSite = true }
            case "x-mock-token":
                mockTokens += 1
                if let controlToken { mockTokenMatches = ConstantTime.equals(value, controlToken) }
            default: break
            }
        }
        if crossSite && !sawOrigin { return .crossSite("Sec-Fetch-Site: cross-site") }
        if controlToken != nil, Self.needsControlToken(path), !(mockTokens == 1 && mockTokenMatches) { return .controlTokenRequired }
        return nil
    }

    /// The `/_mock` routes behind `--control-token`: all but health, the gateway's invoke route and the pre-signed URLs.
    static func needsControlToken(_ path: String) -> Bool {
        guard path == "/_mock" || path.hasPrefix("/_mock/") else { return false }
        return path != "/_mock/health" && !path.hasPrefix("/_mock/invoke/") && !path.hasPrefix("/_mock/uploads/")
            && !path.hasPrefix("/_mock/downloads/")
    }
}
