import HTTPTypes
import NIOCore
import NIOHTTP1
import ScwEngine

/// Where a call goes, and how its headers change on the way. The connection's `GatewayHandler` asks it about every
/// request (`decide`), `ConnectionGuard` asks whether a request is a gateway call, and `InvocationGateway` refuses what
/// the edge policy refuses before the API.
public struct GatewayRouting: Sendable {
    let gateway: GatewayService
    let edge: EdgePolicy
    /// How long a call waits for a process that is still starting (then 503).
    let readyWaitSeconds: Double

    /// Creates the routing.
    public init(gateway: GatewayService, edge: EdgePolicy = EdgePolicy(), readyWaitSeconds: Double = 10) {
        self.gateway = gateway
        self.edge = edge
        self.readyWaitSeconds = readyWaitSeconds
    }

    enum Route {
        /// Not a gateway call: the API serves it.
        case api
        /// `/_mock/invoke/{id}` naming no container or function.
        case unknown(String)
        /// A call for this application, to be sent to `forwardPath` on its process.
        case application(GatewayService.Target, forwardPath: String)
        /// Refused before anything runs (`EdgePolicy`: host not allowed, cross-site, control token).
        case refused(ErrorRenderer.EdgeRefusal)
    }

    /// A call whose `Host` is an allowed name of this server (`EdgePolicy`) is for the API or `/_mock` (among them
    /// `/_mock/invoke/{id}/<path>`, for that application), never for a workload, whatever custom domain a tenant
    /// created; a call whose `Host` is a container's or function's domain name (or one of its custom domains) is for
    /// that application; anything else is refused (DNS rebinding). `.api` is not the last word: `InvocationGateway`
    /// then applies the rest of the policy (cross-site, control token) before the router; it is checked here only for
    /// `/_mock/invoke`, which the gateway answers itself. (Each request pays for the header checks once.)
    func route(path: String, authority: String?, edgeRefusal: () -> ErrorRenderer.EdgeRefusal?) -> Route {
        if !edge.hosts.allows(authority: authority) {
            if let host = Self.hostName(authority), Self.isApplicationHost(host), let found = try? gateway.target(host: host) {
                return .application(found, forwardPath: path)
            }
            return .refused(.hostNotAllowed(authority ?? ""))
        }
        // On every call: the path's bytes, not its characters.
        var path = path
        let invoke: (id: String, forwardPath: String)? = path.withUTF8 { bytes in
            let prefix = Self.invokePrefix.count
            guard bytes.count >= prefix, UnsafeBufferPointer(rebasing: bytes[..<prefix]).elementsEqual(Self.invokePrefix) else { return nil }
            let rest = UnsafeBufferPointer(rebasing: bytes[prefix...])
            let slash = rest.firstIndex(of: UInt8(ascii: "/")) ?? rest.endIndex
            return (String(decoding: rest[..<slash], as: UTF8.self), slash == rest.endIndex ? "/" : String(decoding: rest[slash...], as: UTF8.self))
        }
        guard let invoke else { return .api }
        if let refusal = edgeRefusal() { return .refused(refusal) }
        guard let found = try? gateway.target(id: invoke.id) else { return .unknown(invoke.id) }
        return .application(found, forwardPath: invoke.forwardPath)
    }

    private static let invokePrefix = Array("/_mock/invoke/".utf8)

    /// A request target split at its first `?`: the path, and the query with its `?` ("" when there is none).
    static func splitQuery(_ target: String) -> (path: String, query: String) {
        var target = target
        return target.withUTF8 { bytes in
            guard let question = bytes.firstIndex(of: UInt8(ascii: "?")) else { return nil }
            return (String(decoding: bytes[..<question], as: UTF8.self), String(decoding: bytes[question...], as: UTF8.self))
        } ?? (target, "")
    }

    /// The host name a request was sent to, without the port.
    static func hostName(_ authority: String?) -> String? {
        guard let authority, !authority.hasPrefix("[") else { return nil }
        return authority.split(separator: ":").first.map { $0.lowercased() }
    }

    /// Whether a host can name an application (not an IP literal or localhost, which always mean the API).
    static func isApplicationHost(_ host: String) -> Bool {
        host != "localhost" && host.contains(".") && !host.allSatisfy { $0.isNumber || $0 == "." }
    }

    /// The request headers the process receives: the caller's, minus hop-by-hop ones (and, under `--private-auth
    /// edge`, minus the credential of a private application: it stops at the gateway), plus what Scaleway's edge adds
    /// (containers docs): who called, over what, and the request id.
    /// (As name-value pairs: `HTTPHeaders(_:)` takes them as they are, where `add` checks every name again.)
    func upstreamHeaders(_ fields: HTTPHeaders, target: GatewayService.Target, remoteIP: String?, authority: String?, requestID: String) -> [(String, String)] {
        let stripToken = target.privacy == .private && gateway.mode == .edge
        var headers: [(String, String)] = []
        headers.reserveCapacity(fields.count + 5)
        for (name, value) in fields {
            switch HeaderName.role(of: name) {
            case .hopByHop, .contentLength, .forwarded, .requestID: continue
            case .authToken where stripToken: continue
            case .authToken, .stamped, .other: headers.append((name, Self.trimmed(value)))
            }
        }
        headers.append(("X-Forwarded-For", remoteIP ?? "127.0.0.1"))
        headers.append(("X-Forwarded-Proto", "http"))
        headers.append(("X-Request-Id", requestID))
        if let authority { headers.append(("X-Forwarded-Host", authority)) }
        return headers
    }

    /// A header value without the spaces and tabs around it (HTTP's optional whitespace, which HTTP/1 parsing keeps at
    /// the end): what the value is, as the API's HTTP types see it too.
    static func trimmed(_ value: String) -> String {
        let utf8 = value.utf8
        func isSpace(_ byte: UInt8?) -> Bool { byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }
        guard isSpace(utf8.first) || isSpace(utf8.last) else { return value }
        let bytes = utf8.drop(while: { isSpace($0) })
        return String(decoding: bytes.reversed().drop(while: { isSpace($0) }).reversed(), as: UTF8.self)
    }

    /// The response headers the caller receives: the process's, minus hop-by-hop ones (its `Content-Length` stays:
    /// the body passes unchanged) and those the gateway sets (`Server`, `Date`), plus the request id.
    /// (As name-value pairs, with room for the two the gateway stamps.)
    static func responseHeaders(_ fields: HTTPHeaders, requestID: String) -> [(String, String)] {
        var headers: [(String, String)] = []
        headers.reserveCapacity(fields.count + 3)
        for (name, value) in fields {
            switch HeaderName.role(of: name) {
            case .hopByHop, .requestID, .stamped: continue
            case .contentLength, .forwarded, .authToken, .other: headers.append((name, value))
            }
        }
        headers.append(("X-Request-Id", requestID))
        return headers
    }
}

extension GatewayRouting: GatewayDecider {
    /// The application's log gets one line a call, as the console shows it: `GET /hello → 200 in 1.2 ms (request …)`.
    /// This runs on every call and the log is read rarely: the line is written out only when the log is read.
    func noteAnswer(_ call: AnsweredCall, status: Int, milliseconds: Double) {
        // Tenths of a millisecond as integers.
        let tenths = Int((milliseconds * 10).rounded())
        gateway.runtime.noteGatewayCall(call.applicationID) {
            "\(call.method) \(call.uri) → \(status) in \(tenths / 10).\(tenths % 10) ms (request \(call.requestID))"
        }
    }

    /// What the gateway does with a request: the API's and refused ones pass on to Hummingbird; a call for an
    /// application is answered at once when it can be (unknown id, access denied, a ready process), else after
    /// `resolve` has waited for what is missing (a process starting or scaled to zero, a namespace key not loaded).
    func decide(_ request: HTTPRequestHead, remoteIP: String?, ids: inout RequestIDs) -> GatewayDecision {
        let (path, query) = Self.splitQuery(request.uri)
        let authority = request.headers.first(name: "host").map(Self.trimmed)
        let target: GatewayService.Target, forwardPath: String
        switch route(path: path, authority: authority, edgeRefusal: { edge.refusal(path: path, headers: request.headers) }) {
        case .api, .refused: return .pass  // the API, or refused by InvocationGateway with the API's headers
        case .unknown(let id): return .refuse(.unknownApplication(id: id))
        case .application(let found, let path): (target, forwardPath) = (found, path)
        }
        // Only a private application's access reads the caller's credential.
        let tokens = target.privacy == .private ? request.headers["x-auth-token"].map(Self.trimmed) : []
        let access = gateway.access(for: target, tokenHeaders: tokens, key: target.privacy == .private ? gateway.cachedKey(for: target) : nil)
        if case .denied(let reason) = access {
            let refusal = ErrorRenderer.EdgeRefusal.denied(reason: reason)
            let line = "\(request.method.rawValue) \(forwardPath) → \(ErrorRenderer.render(refusal).0.code) refused: \(reason)"
            gateway.runtime.noteGatewayCall(target.id) { line }
            return .refuse(refusal)
        }

        let requestID: String = ids.next()
        var headers = upstreamHeaders(request.headers, target: target, remoteIP: remoteIP, authority: authority, requestID: requestID)
        // The body goes as it came: with its length, chunked, or not at all. A GET must not grow an empty chunked body
        // on the way: a process that answers without reading it (Python's http.server does) closes a socket with
        // unread bytes, the kernel resets it, and the reset can cut the response short.
        let length = request.headers.first(name: "content-length").map(Self.trimmed)
        let chunked = request.headers.contains(name: "transfer-encoding")
        let replayable = !chunked && (length == nil || length == "0")
        if replayable && ![.GET, .HEAD, .OPTIONS, .DELETE, .TRACE].contains(request.method) {
            headers.append(("Content-Length", "0"))
        } else if let length {
            headers.append(("Content-Length", length))
        } else if chunked {
            headers.append(("Transfer-Encoding", "chunked"))
        }
        let head = HTTPRequestHead(version: .http1_1, method: request.method, uri: forwardPath + query, headers: HTTPHeaders(headers))
        let call = GatewayCall(head: head, requestID: requestID, kind: target.kind.rawValue, timeoutSeconds: target.timeoutSeconds,
                               replayable: replayable, applicationID: target.id)

        if access == .allowed, let port = gateway.runtime.readyPort(of: target.id) { return .proxy(call, port: port) }
        let gateway = self.gateway, wait = readyWaitSeconds, checkToken = access == .needsKey
        return .wait(call) {
            if checkToken, let reason = await gateway.denial(for: target, tokenHeaders: tokens) { return .refused(.denied(reason: reason)) }
            guard let port = await gateway.runtime.port(of: target.id, timeout: wait) else {
                return .refused(.notRunning(kind: target.kind.rawValue, id: target.id))
            }
            return .port(port)
        }
    }
}
