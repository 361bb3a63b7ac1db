import NIOCore
import NIOHTTP1
import NIOPosix

/// Calls from the mock to a workload's own port (readiness probes, cron deliveries), made on SwiftNIO's event loops
/// and awaited: no socket call blocks a thread of the cooperative pool or an actor, and every call has a deadline.
enum LoopbackClient {
    static var group: any EventLoopGroup { MultiThreadedEventLoopGroup.singleton }

    /// Whether something accepts TCP connections on 127.0.0.1:`port` within `timeout`.
    static func accepts(port: Int, timeout: TimeAmount = .seconds(1)) async -> Bool {
        do {
            let channel = try await ClientBootstrap(group: group)
                .connectTimeout(timeout)
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .connect(host: "127.0.0.1", port: port).get()
            channel.close(promise: nil)
            return true
        } catch {
            return false
        }
    }

    /// Sends one HTTP/1.0 request to 127.0.0.1:`port` (`Host` first, then `headers` in order) and returns the status
    /// code of the answer; nil when the connection is refused or no response head arrives within `timeout`.
    static func status(port: Int, method: String, path: String, headers: [(String, String)], body: [UInt8] = [],
                       timeout: TimeAmount) async -> Int? {
        let loop = group.next()
        let promise = loop.makePromise(of: Int?.self)
        let bootstrap = ClientBootstrap(group: loop)
            .connectTimeout(timeout)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(StatusHandler(promise: promise, timeout: timeout))
                }
            }
        let channel: any Channel
        do {
            channel = try await bootstrap.connect(host: "127.0.0.1", port: port).get()
        } catch {
            promise.succeed(nil)  // no-op when the handler already completed it
            return nil
        }
        var head = HTTPRequestHead(version: .http1_0, method: HTTPMethod(rawValue: method), uri: path)
        head.headers.add(name: "Host", value: "127.0.0.1:\(port)")
        for (name, value) in headers { head.headers.add(name: name, value: value) }
        channel.write(HTTPClientRequestPart.head(head), promise: nil)
        if !body.isEmpty { channel.write(HTTPClientRequestPart.body(.byteBuffer(ByteBuffer(bytes: body))), promise: nil) }
        channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
        let code = try? await promise.futureResult.get()
        channel.close(promise: nil)
        return code ?? nil
    }

    /// Completes the promise with the status of the first response head; with nil when the connection ends first,
    /// an error occurs or the deadline passes (then it closes the connection).
    private final class StatusHandler: ChannelInboundHandler, RemovableChannelHandler {
        typealias InboundIn = HTTPClientResponsePart

        let promise: EventLoopPromise<Int?>
        let timeout: TimeAmount
        var timer: Scheduled<Void>?

        init(promise: EventLoopPromise<Int?>, timeout: TimeAmount) {
            self.promise = promise
            self.timeout = timeout
        }

        func handlerAdded(context: ChannelHandlerContext) {
            let promise = self.promise
            let channel = context.channel
            timer = context.eventLoop.scheduleTask(in: timeout) {
                promise.succeed(nil)
                channel.close(promise: nil)
            }
        }

        func handlerRemoved(context: ChannelHandlerContext) {
            timer?.cancel()
            promise.succeed(nil)
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            if case .head(let head) = unwrapInboundIn(data) {
                timer?.cancel()
                promise.succeed(Int(head.status.code))
                context.close(promise: nil)
            }
        }

        func channelInactive(context: ChannelHandlerContext) {
            timer?.cancel()
            promise.succeed(nil)
            context.fireChannelInactive()
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            promise.succeed(nil)
            context.close(promise: nil)
        }
    }
}
