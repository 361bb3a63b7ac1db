import HTTPTypes
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1
import ScwEngine

/// Hummingbird's HTTP/1 channel with the gateway (`GatewayHandler`) added after the connection-state handler, so that
/// idle timeouts and graceful shutdown see the calls it answers.
public struct GatewayHTTP1Channel: HTTPChannelHandler {
    public typealias Value = NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>
    public let responder: HTTPChannelHandler.Responder
    let configuration: HTTP1Channel.Configuration
    let routing: GatewayRouting
    let pool = UpstreamPool()
    let budget = ConnectionBudget()
    let serverName: String?

    /// Creates the channel.
    public init(responder: @escaping HTTPChannelHandler.Responder, configuration: HTTP1Channel.Configuration, gateway: GatewayService,
                edge: EdgePolicy = EdgePolicy(), serverName: String?) {
        self.responder = responder
        self.configuration = configuration
        self.routing = GatewayRouting(gateway: gateway, edge: edge)
        self.serverName = serverName
    }

    public func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            var limits = NIOHTTPDecoderLimitConfiguration()
            limits.maxHeaderFieldSize = configuration.httpDecoder.maxHeaderFieldSize
            limits.maxHeaderListSize = configuration.httpDecoder.maxHeaderListSize
            limits.maxHeaderFieldCount = configuration.httpDecoder.maxHeaderFieldCount
            try channel.pipeline.syncOperations.configureHTTPServerPipeline(
                // Pipelining assistance holds a pipelined request until the response before it has ended, which the
                // gateway needs (Hummingbird alone reads requests one by one from its async channel instead).
                withPipeliningAssistance: true, withErrorHandling: false, withOutboundHeaderValidation: false,
                withEncoderConfiguration: .init(), withDecoderLimitConfiguration: limits)
            // In front of the HTTP/1 decoder: the socket stays in the poll set while a response is pending.
            try channel.pipeline.syncOperations.addHandler(PipelineReadAhead(), position: .first)
            let routing = self.routing
            try channel.pipeline.syncOperations.addHandler(ConnectionGuard(
                timeout: configuration.idleTimeout ?? .seconds(60), maxBodyBytes: WireJSON.maxBodyBytes, budget: budget,
                isGatewayCall: { path, authority in
                    switch routing.route(path: path, authority: authority, edgeRefusal: { nil }) {
                    case .application, .unknown: return true
                    case .api, .refused: return false
                    }
                }))
            // The gateway reads requests as HTTP/1 parsed them: calls for a container or function never become HTTP
            // types (and back), which was an eighth of a call. Everything else goes on to Hummingbird.
            try channel.pipeline.syncOperations.addHandler(GatewayHandler(decider: routing, pool: pool, serverName: serverName))
            try channel.pipeline.syncOperations.addHandler(HTTP1ToHTTPServerCodec(secure: false))
            // Without an idle timeout of its own: it would see only the API's requests and close a connection busy with
            // gateway calls as idle. `ConnectionGuard`, which sees every request, closes idle connections instead.
            try channel.pipeline.syncOperations.addHandler(HTTPConnectionStateHandler(idleTimeout: nil, logger: logger))
            // After the gateway: only Hummingbird's responses pass through it.
            try channel.pipeline.syncOperations.addHandler(ExplicitDateHandler())
            return try NIOAsyncChannel(wrappingChannelSynchronously: channel, configuration: .init(isOutboundHalfClosureEnabled: true))
        }
    }

    public func handle(value asyncChannel: NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>, logger: Logger) async {
        await handleHTTP(asyncChannel: asyncChannel, logger: logger)
    }
}
