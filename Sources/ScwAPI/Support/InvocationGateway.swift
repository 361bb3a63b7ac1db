import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import NIOHTTP1
import NIOHTTPTypesHTTP1
import ScwDomain
import ScwEngine

/// Where a call goes, and how its headers change on the way (issue 6). Shared by the gateway's two paths: the fast
/// path (`GatewayFastPath`, on the connection's event loop, for ready applications whose privacy can be decided at
/// once) and the slow path (`InvocationGateway`, a middleware, for everything else: waiting for a process that is
/// starting, a cold start, a key not loaded yet).
public struct GatewayRouting: Sendable {
    let gateway: GatewayService
    let edge: EdgePolicy

    /// Creates the routing.
    public init(gateway: GatewayService, edge: EdgePolicy = EdgePolicy()) {
        self.gateway = gateway
        self.edge = edge
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
    /// `/_mock/invoke`, which the fast path answers itself. (Each request pays for the header checks once.)
    func route(path: String, authority: String?, fields: HTTPFields) -> Route {
        if !edge.hosts.allows(authority: authority) {
            if let host = Self.hostName(authority), Self.isApplicationHost(host), let found = try? gateway.target(host: host) {
                return .application(found, forwardPath: path)
            }
            return .refused(.hostNotAllowed(authority ?? ""))
        }
        if path.hasPrefix("/_mock/invoke/") {
            if let refusal = edge.refusal(path: path, fields: fields) { return .refused(refusal) }
            let rest = path.dropFirst("/_mock/invoke/".count)
            let id = rest.prefix { $0 != "/" }
            var forwardPath = String(rest.dropFirst(id.count))
            if forwardPath.isEmpty { forwardPath = "/" }
            guard let found = try? gateway.target(id: String(id)) else { return .unknown(String(id)) }
            return .application(found, forwardPath: forwardPath)
        }
        return .api
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

    /// Headers that describe one hop, never forwarded. `expect` is answered by neither path, so it is not passed on.
    static let hopByHop: Set<String> = ["connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "te", "trailer", "host",
                                        "content-length", "expect"]

    /// The request headers the process receives: the caller's, minus hop-by-hop ones (and, under `--private-auth
    /// edge`, minus the credential of a private application: it stops at the gateway), plus what Scaleway's edge adds
    /// (containers docs): who called, over what, and the request id.
    func upstreamHeaders(_ fields: HTTPFields, target: GatewayService.Target, remoteIP: String?, authority: String?, requestID: String) -> HTTPFields {
        let stripToken = target.privacy == .private && gateway.mode == .edge
        var headers = HTTPFields()
        for field in fields where !Self.hopByHop.contains(field.name.canonicalName) {
            if stripToken && field.name.canonicalName == "x-auth-token" { continue }
            headers.append(field)
        }
        headers[HTTPField.Name("X-Forwarded-For")!] = remoteIP ?? "127.0.0.1"
        headers[HTTPField.Name("X-Forwarded-Proto")!] = "http"
        headers[HTTPField.Name("X-Request-Id")!] = requestID
        if let authority { headers[HTTPField.Name("X-Forwarded-Host")!] = authority }
        return headers
    }

    /// The response headers the caller receives: the process's, minus hop-by-hop ones (its `Content-Length` stays:
    /// the body passes unchanged), plus the request id.
    static func responseHeaders(_ fields: HTTPFields, requestID: String) -> HTTPFields {
        var headers = HTTPFields()
        for field in fields where field.name == .contentLength || !hopByHop.contains(field.name.canonicalName) { headers.append(field) }
        headers[HTTPField.Name("X-Request-Id")!] = requestID
        return headers
    }
}

/// The gateway's slow path (issue 6), a middleware: everything the fast path leaves to it. It waits for a process
/// that is still starting (then 503), starts one scaled to zero, and loads a namespace key before verifying a token;
/// then proxies through AsyncHTTPClient, streaming both ways. Everything that is not a gateway call goes on to the API.
public struct InvocationGateway: RouterMiddleware {
    public typealias Context = ScwRequestContext
    let routing: GatewayRouting
    var gateway: GatewayService { routing.gateway }
    /// How long a call waits for a process that is still starting.
    let readyWaitSeconds: Double

    /// One client for the life of the process, with a connection pool sized for many concurrent calls per process
    /// (the shared client's default of 8 connections per host queues calls under load).
    static let client: HTTPClient = {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 256)
        configuration.decompression = .disabled
        return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }()

    /// Creates the gateway.
    public init(gateway: GatewayService, edge: EdgePolicy = EdgePolicy(), readyWaitSeconds: Double = 10) {
        self.routing = GatewayRouting(gateway: gateway, edge: edge)
        self.readyWaitSeconds = readyWaitSeconds
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let target: GatewayService.Target, forwardPath: String
        switch routing.route(path: request.uri.path, authority: request.head.authority, fields: request.headers) {
        case .api:
            guard let refusal = routing.edge.refusal(path: request.uri.path, fields: request.headers) else { return try await next(request, context) }
            return Self.refusal(refusal)
        case .refused(let refusal): return Self.refusal(refusal)
        case .unknown(let id): return Self.error(.unknownApplication(id: id))
        case .application(let found, let path): (target, forwardPath) = (found, path)
        }
        if let reason = await gateway.denial(for: target, tokenHeaders: request.headers[values: HTTPField.Name("X-Auth-Token")!]) {
            return Self.error(.denied(reason: reason))
        }
        guard let port = await gateway.runtime.port(of: target.id, timeout: readyWaitSeconds) else {
            return Self.error(.notRunning(kind: target.kind.rawValue, id: target.id))
        }
        let query = request.uri.query.map { "?\($0)" } ?? ""
        var upstream = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(forwardPath)\(query)")
        upstream.method = HTTPMethod(rawValue: request.method.rawValue)
        let requestID = EdgeHeaders.requestID()
        upstream.headers = HTTPHeaders(routing.upstreamHeaders(request.headers, target: target, remoteIP: context.remoteIP,
                                                               authority: request.head.authority, requestID: requestID))
        // Forward the body as it came: with its length, chunked, or not at all. A GET must not grow a chunked empty
        // body on the way: a process that answers without reading it (Python's http.server does) closes a socket
        // with unread bytes, the kernel resets it, and the reset can cut the response short.
        if let length = request.headers[.contentLength].flatMap({ Int($0) }) {
            if length > 0 { upstream.body = .stream(request.body, length: .known(Int64(length))) }
        } else if request.headers[.transferEncoding] != nil {
            upstream.body = .stream(request.body, length: .unknown)
        }
        do {
            let response = try await Self.client.execute(upstream, timeout: .seconds(Int64(target.timeoutSeconds)))
            let headers = GatewayRouting.responseHeaders(HTTPFields(response.headers, splitCookie: false), requestID: requestID)
            return Response(status: .init(code: Int(response.status.code)), headers: headers, body: ResponseBody(asyncSequence: response.body))
        } catch let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout {
            return Self.error(.timedOut(kind: target.kind.rawValue, seconds: target.timeoutSeconds))
        } catch {
            return Self.error(.closed(kind: target.kind.rawValue, detail: "\(error)"))
        }
    }

    /// Refused before the API (`EdgePolicy`): the answer still carries what Scaleway's gateway puts on every answer.
    static func refusal(_ refusal: ErrorRenderer.EdgeRefusal) -> Response {
        var response = error(refusal)
        for (name, value) in EdgeHeaders.security { response.headers[name] = value }
        response.headers[values: EdgeHeaders.requestIDName] = [EdgeHeaders.requestID()]
        return response
    }

    static func error(_ refusal: ErrorRenderer.EdgeRefusal) -> Response {
        let (status, body) = ErrorRenderer.render(refusal)
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }
}
