import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import NIOHTTP1
import ScwDomain
import ScwEngine

/// The gateway (issue 6): a call whose `Host` is a container's or function's domain name (or one of its custom
/// domains), or a call to `/_mock/invoke/{id}/<path>`, is proxied to the application's local process, streaming both
/// ways, after the privacy check. Everything else goes on to the API.
public struct InvocationGateway: RouterMiddleware {
    public typealias Context = ScwRequestContext
    let gateway: GatewayService
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

    static let hopByHop: Set<String> = ["connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "te", "trailer", "host",
                                        "content-length"]

    /// Creates the gateway.
    public init(gateway: GatewayService, readyWaitSeconds: Double = 10) {
        self.gateway = gateway
        self.readyWaitSeconds = readyWaitSeconds
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let path = request.uri.path
        var target: GatewayService.Target?
        var forwardPath = path
        if path.hasPrefix("/_mock/invoke/") {
            let rest = path.dropFirst("/_mock/invoke/".count)
            let id = rest.prefix { $0 != "/" }
            forwardPath = String(rest.dropFirst(id.count))
            if forwardPath.isEmpty { forwardPath = "/" }
            guard let found = try? gateway.target(id: String(id)) else {
                return Self.error(.notFound, ["message": "no container or function \(id)", "type": "not_found"])
            }
            target = found
        } else if let host = Self.hostName(request), Self.isApplicationHost(host) {
            target = try? gateway.target(host: host)
        }
        guard let target else { return try await next(request, context) }

        if let reason = await gateway.denial(for: target, tokenHeaders: request.headers[values: HTTPField.Name("X-Auth-Token")!]) {
            return Self.error(.forbidden, ["message": reason, "type": "permissions_denied"])
        }
        guard let port = await gateway.runtime.port(of: target.id, timeout: readyWaitSeconds) else {
            return Self.error(.serviceUnavailable, ["message": "the \(target.kind.rawValue) is not running (deploy it, or see /_mock/\(target.kind.rawValue)s/\(target.id)/logs)"])
        }
        let query = request.uri.query.map { "?\($0)" } ?? ""
        var upstream = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(forwardPath)\(query)")
        upstream.method = HTTPMethod(rawValue: request.method.rawValue)
        // Under `--private-auth edge` the credential stops at the gateway: the process never sees a caller's API key.
        let stripToken = target.privacy == .private && gateway.mode == .edge
        for field in request.headers where !Self.hopByHop.contains(field.name.canonicalName) {
            if stripToken && field.name.canonicalName == "x-auth-token" { continue }
            upstream.headers.add(name: field.name.rawName, value: field.value)
        }
        // As Scaleway's edge does (containers docs): who called, over what, and the request id.
        let requestID = GatewayMiddleware.requestID()
        upstream.headers.replaceOrAdd(name: "X-Forwarded-For", value: context.remoteIP ?? "127.0.0.1")
        upstream.headers.replaceOrAdd(name: "X-Forwarded-Proto", value: "http")
        upstream.headers.replaceOrAdd(name: "X-Request-Id", value: requestID)
        if let authority = request.head.authority { upstream.headers.replaceOrAdd(name: "X-Forwarded-Host", value: authority) }
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
            var headers = HTTPFields()
            for (name, value) in response.headers where !Self.hopByHop.contains(name.lowercased()) {
                if let field = HTTPField.Name(name) { headers.append(HTTPField(name: field, value: value)) }
            }
            headers[HTTPField.Name("X-Request-Id")!] = requestID
            return Response(status: .init(code: Int(response.status.code)), headers: headers, body: ResponseBody(asyncSequence: response.body))
        } catch let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout {
            return Self.error(.gatewayTimeout, ["message": "the \(target.kind.rawValue) did not answer within its timeout (\(target.timeoutSeconds)s)"])
        } catch {
            return Self.error(.badGateway, ["message": "the \(target.kind.rawValue) closed the connection: \(error)"])
        }
    }

    /// The host name a request was sent to, without the port.
    static func hostName(_ request: Request) -> String? {
        guard let authority = request.head.authority else { return nil }
        if authority.hasPrefix("[") { return nil }
        return authority.split(separator: ":").first.map { $0.lowercased() }
    }

    /// Whether a host can name an application (not an IP literal or localhost, which always mean the API).
    static func isApplicationHost(_ host: String) -> Bool {
        host != "localhost" && host.contains(".") && !host.allSatisfy { $0.isNumber || $0 == "." }
    }

    static func error(_ status: HTTPResponse.Status, _ body: [String: String]) -> Response {
        let data = (try? WireJSON.encoder.encode(body)) ?? Data()
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
