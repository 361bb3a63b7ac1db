import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// The end of a connection to a process: hands response parts to the call that owns it; idle in the pool otherwise.
/// Used on its channel's event loop only (the pool merely keeps it with its channel).
final class UpstreamHandler: ChannelInboundHandler, RemovableChannelHandler, @unchecked Sendable {
    typealias InboundIn = HTTPClientResponsePart
    let pool: UpstreamPool
    let port: Int
    /// The call using this connection; nil while it waits in the pool.
    var owner: GatewayHandler?
    /// The owner's call number.
    var exchange = 0

    init(pool: UpstreamPool, port: Int) {
        self.pool = pool
        self.port = port
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        owner?.upstreamRead(unwrapInboundIn(data), from: context.channel)
    }

    func channelReadComplete(context: ChannelHandlerContext) { owner?.upstreamReadComplete() }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { owner?.upstreamWritable() }
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        pool.forget(context.channel, port: port)
        let owner = self.owner
        self.owner = nil
        owner?.upstreamFailed(ChannelError.eof, channel: context.channel, exchange: exchange)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        let owner = self.owner
        self.owner = nil
        owner?.upstreamFailed(error, channel: context.channel, exchange: exchange)
        context.close(promise: nil)
    }
}

/// Opens connections to processes; the channel it gives has an `UpstreamHandler` in its pipeline.
struct UpstreamConnector: Sendable {
    let connect: @Sendable (_ port: Int, _ loop: any EventLoop, _ pool: UpstreamPool) -> EventLoopFuture<any Channel>

    /// TCP to `127.0.0.1:port`, HTTP/1.1.
    static let tcp = UpstreamConnector { port, loop, pool in
        ClientBootstrap(group: loop)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connectTimeout(.seconds(5))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    // The headers were validated when the caller's request was parsed.
                    try channel.pipeline.syncOperations.addHTTPClientHandlers(enableOutboundHeaderValidation: false)
                    try channel.pipeline.syncOperations.addHandler(UpstreamHandler(pool: pool, port: port))
                }
            }
            .connect(host: "127.0.0.1", port: port)
    }
}

/// A connection to a process and the handler at its end.
struct Upstream: Sendable {
    let channel: any Channel
    let handler: UpstreamHandler
}

/// Idle keep-alive connections to processes, per event loop and port (a connection is only used on its own loop).
final class UpstreamPool: Sendable {
    private struct Key: Hashable {
        var loop: ObjectIdentifier
        var port: Int
    }
    private let idle = Mutex<[Key: [Upstream]]>([:])
    /// Idle connections kept per event loop and process.
    let limit = 64

    func take(port: Int, on loop: any EventLoop) -> Upstream? {
        let key = Key(loop: ObjectIdentifier(loop), port: port)
        return idle.withLock { idle in
            while let connection = idle[key]?.popLast() {
                if connection.channel.isActive { return connection }
            }
            return nil
        }
    }

    func give(_ connection: Upstream) {
        let key = Key(loop: ObjectIdentifier(connection.channel.eventLoop), port: connection.handler.port)
        let kept = idle.withLock { idle in
            guard (idle[key]?.count ?? 0) < limit else { return false }
            idle[key, default: []].append(connection)
            return true
        }
        if !kept { connection.channel.close(promise: nil) }
    }

    func forget(_ channel: any Channel, port: Int) {
        let key = Key(loop: ObjectIdentifier(channel.eventLoop), port: port)
        idle.withLock { idle in idle[key]?.removeAll { $0.channel === channel } }
    }
}
