import NIOCore

/// Keeps a connection's socket in the poll set while NIO's HTTP pipelining handler waits for a response, reading up to
/// `limit` bytes ahead.
///
/// The pipelining handler (`HTTPServerPipelineHandler`) holds every read request from the moment a request has arrived
/// whole until its response has ended, so that a pipelined request waits for the one before it. SwiftNIO then takes the
/// socket out of the poll set, and puts it back when the response ends: two `epoll_ctl` calls for every request, although
/// most clients send nothing before they have their answer. That was a twentieth of an API read and of a gateway call.
///
/// First in the pipeline, this handler asks for the next read itself once a read is complete, and sees whether the
/// request reached it. When it was held, it reads ahead instead: the socket stays in the poll set, and whatever arrives
/// meanwhile is decoded and buffered by the pipelining handler, in order, as before. After `limit` bytes it stops until
/// the pipelining handler asks again, so a client that pipelines without reading its answers still meets backpressure.
final class PipelineReadAhead: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = Any

    /// 16 KiB: a few pipelined requests, far less than one unanswered request can cost in a response.
    static let defaultLimit = 16 * 1024

    let limit: Int
    /// Bytes read on this handler's own requests since the pipeline last asked for a read.
    private var ahead = 0
    /// A read request came through from the pipeline (it was not held).
    private var asked = false
    /// Whether the channel reads by itself (looked up once: the option was a tenth of this handler's cost per request,
    /// and nothing in the server turns automatic reads off on a connection).
    private var autoRead = false

    init(limit: Int = PipelineReadAhead.defaultLimit) {
        self.limit = limit
    }

    func handlerAdded(context: ChannelHandlerContext) {
        autoRead = (try? context.channel.syncOptions?.getOption(.autoRead)) == true
    }

    func read(context: ChannelHandlerContext) {
        asked = true
        ahead = 0
        context.read()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if !asked { ahead += unwrapInboundIn(data).readableBytes }
        context.fireChannelRead(data)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.fireChannelReadComplete()
        // What SwiftNIO does next with automatic reads (a read request from the tail), done here first to see its fate.
        guard autoRead, context.channel.isActive else { return }
        asked = false
        context.pipeline.syncOperations.read()
        if !asked && ahead < limit { context.read() }
    }
}
