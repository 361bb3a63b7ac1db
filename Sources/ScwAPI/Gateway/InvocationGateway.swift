import HTTPTypes
import Hummingbird
import NIOCore
import ScwEngine

/// The edge policy in front of the API, a middleware: a request that is no gateway call (those never reach
/// Hummingbird: `GatewayHandler` answers them on the connection) is refused here when `EdgePolicy` refuses it (host not
/// allowed, cross-site, control token), with the headers Scaleway's gateway puts on every answer; the rest goes on.
public struct InvocationGateway: RouterMiddleware {
    public typealias Context = ScwRequestContext
    let routing: GatewayRouting

    /// Creates the middleware.
    public init(gateway: GatewayService, edge: EdgePolicy = EdgePolicy()) {
        self.routing = GatewayRouting(gateway: gateway, edge: edge)
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let path = request.uri.path
        let edge = routing.edge
        let refusal = { edge.refusal(path: path, fields: request.headers) }
        switch routing.route(path: path, authority: request.head.authority, edgeRefusal: refusal) {
        case .api:
            guard let refusal = refusal() else { return try await next(request, context) }
            return Self.refusal(refusal)
        case .refused(let refusal): return Self.refusal(refusal)
        // Only without the gateway's channel handler in the pipeline (the router alone, in tests).
        case .unknown(let id): return Self.refusal(.unknownApplication(id: id))
        case .application(let target, _): return Self.refusal(.notRunning(kind: target.kind.rawValue, id: target.id))
        }
    }

    /// Refused before the API (`EdgePolicy`): the answer still carries what Scaleway's gateway puts on every answer.
    static func refusal(_ refusal: ErrorRenderer.EdgeRefusal) -> Response {
        let (status, body) = ErrorRenderer.render(refusal)
        var response = Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: body)))
        EdgeHeaders.stamp(&response.headers, requestID: EdgeHeaders.requestID())
        return response
    }
}
