import Foundation
import HTTPTypes
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1

/// The gateway, in each client connection's pipeline: it proxies calls for containers and functions to their
/// processes on the connection's event loop (no task, no actor hop, no thread switch; keep-alive connections to
/// processes reused from a per-event-loop pool), and passes every other request on to Hummingbird. A call that cannot
/// go at once (a process starting or scaled to zero, a namespace key not loaded) waits for its resolution in a task,
/// with the request held, then goes the same way. The decisions are `GatewayStateMachine`'s; this handler only
/// performs its actions.
///
/// Written on SwiftNIO rather than with an HTTP client behind an async middleware: that route kept 15% of the
/// throughput of calling a process directly.
final class GatewayHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    let decider: any GatewayDecider
    let pool: UpstreamPool
    let connector: UpstreamConnector
    let serverName: String?

    init(decider: any GatewayDecider, pool: UpstreamPool, connector: UpstreamConnector = .tcp, serverName: String?) {
        self.decider = decider
        self.pool = pool
        self.connector = connector
        self.serverName = serverName
    }

    private var machine = GatewayStateMachine()
    private var context: ChannelHandlerContext?
    /// The connection to the process of the current call, and its end.
    private var upstream: (any Channel)?
    private var upstreamHandler: UpstreamHandler?
    /// One timer per connection, re-armed only when a call's deadline comes before the armed one (calls are short:
    /// most end long before it fires, and then it only re-arms for the call in progress, if any).
    private var timer: Scheduled<Void>?
    private var timerFires: NIODeadline?
    /// The current call's deadline and number.
    private var deadline: (at: NIODeadline, exchange: Int)?
    private lazy var remoteIP: String? = context?.channel.remoteAddress?.ipAddress
    private lazy var ids = RequestIDs()
    private var resolution: (@Sendable () async -> GatewayResolution)?
    private var readHeld = false
    /// The caller closed its side during a call: passed on once the call has been answered.
    private var inputClosedHeld = false
    /// The call being answered and when it arrived, for its line in the application's log.
    private var answering: (call: AnsweredCall, since: NIODeadline)?
    private var date = (second: 0, text: "")

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }

    func handlerRemoved(context: ChannelHandlerContext) {
        perform(machine.clientClosed())
        self.context = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        perform(machine.clientClosed())
        context.fireChannelInactive()
    }

    /// A caller that closes its side after sending a call still gets the answer: the end of its input waits for the
    /// call's response, as NIO's pipelining handler makes a pipelined request wait. Passed on at once, it would end
    /// Hummingbird's side of the connection, which then closes the output under the call.
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case .inputClosed? = event as? ChannelEvent, machine.answerPending {
            inputClosedHeld = true
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let action: GatewayStateMachine.Action
        switch unwrapInboundIn(data) {
        case .head(let request):
            let decision = machine.phase == .idle ? decider.decide(request, remoteIP: remoteIP, ids: &ids) : .pass
            switch decision {
            case .proxy(let call, _): answering = (AnsweredCall(call), context.eventLoop.now)
            case .wait(let call, let resolve):
                answering = (AnsweredCall(call), context.eventLoop.now)
                resolution = resolve
            case .pass, .refuse: break
            }
            action = machine.requestHead(decision, closeAfterResponse: request.headers[canonicalForm: "connection"].contains { $0.lowercased() == "close" })
        case .body(let buffer): action = machine.requestBody(buffer)
        case .end: action = machine.requestEnd()
        }
        if case .pass = action { context.fireChannelRead(data) } else { perform(action) }
    }

    /// Backpressure for request bodies: no more reading while the process's socket is full, or while the call waits.
    func read(context: ChannelHandlerContext) {
        if machine.holdsReads || (machine.phase == .proxying && upstream.map { !$0.isWritable } == true) {
            readHeld = true
            return
        }
        context.read()
    }

    /// The application's log line for the call being answered, once.
    private func noteAnswer(status: Int) {
        guard let (call, since) = answering, let context else { return }
        answering = nil
        let elapsed = context.eventLoop.now - since
        decider.noteAnswer(call, status: status, milliseconds: Double(elapsed.nanoseconds) / 1e6)
    }

    // MARK: Performing actions

    private func perform(_ action: GatewayStateMachine.Action) {
        switch action {
        case .none, .pass: break
        case .resolve(let exchange):
            guard let resolve = resolution, let loop = context?.eventLoop else { return }
            resolution = nil
            let handler = NIOLoopBound(self, eventLoop: loop)
            Task {
                let result = await resolve()
                loop.execute { handler.value.perform(handler.value.machine.resolved(result, exchange: exchange)) }
            }
        case .open(let port, let exchange, let seconds):
            guard let context else { return }
            arm(at: context.eventLoop.now + .seconds(Int64(seconds)), exchange: exchange)
            if let pooled = pool.take(port: port, on: context.eventLoop) {
                attach(pooled, exchange: exchange, reused: true)
            } else {
                connect(port: port, exchange: exchange)
            }
        case .reconnect(let port, let exchange):
            dropUpstream()
            connect(port: port, exchange: exchange)
        case .send(let parts):
            guard let upstream else { return }
            for part in parts { upstream.write(part, promise: nil) }
            upstream.flush()
        case .writeHead(let head, let requestID):
            guard let context else { return }
            var headers = GatewayRouting.responseHeaders(head.headers, requestID: requestID)
            stamp(&headers)
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: head.status, headers: HTTPHeaders(headers)))), promise: nil)
            noteAnswer(status: Int(head.status.code))
        case .writeBody(let buffer):
            context?.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        case .endResponse(let fate, let close):
            letGo(fate)
            context?.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            if close { context?.close(promise: nil) }
        case .refuse(let refusal, let fate, let close):
            letGo(fate)
            noteAnswer(status: Int(ErrorRenderer.render(refusal).0.code))
            respond(refusal)
            if close { context?.close(promise: nil) }
        case .close:
            letGo(.close)
            context?.close(promise: nil)
        case .dropUpstream:
            letGo(.close)
            timer?.cancel()
            timer = nil
            timerFires = nil
        }
        if readHeld, !machine.holdsReads, machine.phase != .proxying || upstream?.isWritable != false, let context {
            readHeld = false
            context.read()
        }
        if inputClosedHeld, !machine.answerPending, let context {
            inputClosedHeld = false
            context.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
        }
    }

    /// Clears the call's deadline and lets go of the process's connection. Runs before the end of a response is
    /// written (the next call may start re-entrantly and must find neither).
    private func letGo(_ fate: GatewayStateMachine.UpstreamFate) {
        deadline = nil
        guard let channel = upstream, let handler = upstreamHandler else { return }
        upstream = nil
        upstreamHandler = nil
        handler.owner = nil
        if fate == .pool && channel.isActive {
            pool.give(Upstream(channel: channel, handler: handler))
        } else {
            channel.close(promise: nil)
        }
    }

    private func dropUpstream() {
        guard let channel = upstream else { return }
        upstream = nil
        upstreamHandler?.owner = nil
        upstreamHandler = nil
        channel.close(promise: nil)
    }

    /// Sets the current call's deadline, arming the connection's timer if it would fire later.
    private func arm(at when: NIODeadline, exchange: Int) {
        deadline = (when, exchange)
        if let fires = timerFires, fires <= when { return }
        timer?.cancel()
        schedule(at: when)
    }

    private func schedule(at when: NIODeadline) {
        guard let context else { return }
        timerFires = when
        timer = context.eventLoop.assumeIsolated().scheduleTask(deadline: when) { [self] in
            timer = nil
            timerFires = nil
            guard let (at, exchange) = deadline, let context = self.context else { return }
            if context.eventLoop.now >= at {
                deadline = nil
                perform(machine.timedOut(exchange: exchange))
            } else {
                schedule(at: at)
            }
        }
    }

    private func connect(port: Int, exchange: Int) {
        guard let context else { return }
        connector.connect(port, context.eventLoop, pool).assumeIsolated().whenComplete { [self] result in
            switch result {
            case .success(let channel):
                guard let handler = try? channel.pipeline.syncOperations.handler(type: UpstreamHandler.self) else {
                    channel.close(promise: nil)
                    return
                }
                attach(Upstream(channel: channel, handler: handler), exchange: exchange, reused: false)
            case .failure(let error): perform(machine.upstreamFailed("\(error)", exchange: exchange))
            }
        }
    }

    private func attach(_ connection: Upstream, exchange: Int, reused: Bool) {
        guard let action = machine.upstreamConnected(exchange: exchange, reused: reused) else {
            connection.channel.close(promise: nil)
            return
        }
        connection.handler.owner = self
        connection.handler.exchange = exchange
        upstream = connection.channel
        upstreamHandler = connection.handler
        perform(action)
    }

    /// An error answered by the gateway itself.
    private func respond(_ refusal: ErrorRenderer.EdgeRefusal) {
        guard let context else { return }
        let (status, body) = ErrorRenderer.render(refusal)
        let buffer = ByteBuffer(bytes: body)
        var headers = [("Content-Type", "application/json"), ("Content-Length", String(buffer.readableBytes))]
        stamp(&headers)
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .init(statusCode: status.code), headers: HTTPHeaders(headers)))),
                      promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }

    /// The headers Hummingbird adds to every response, appended: the gateway's responses never carry them already
    /// (`GatewayRouting.responseHeaders` drops the process's own). The date is formatted once a second.
    private func stamp(_ headers: inout [(String, String)]) {
        if let serverName { headers.append(("Server", serverName)) }
        let now = time(nil)
        if date.second != now {
            var t = now, parts = tm()
            gmtime_r(&t, &parts)
            var buffer = [CChar](repeating: 0, count: 64)
            let count = strftime(&buffer, buffer.count, "%a, %d %b %Y %H:%M:%S GMT", &parts)
            date = (now, String(decoding: buffer.prefix(count).map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        headers.append(("Date", date.text))
    }

    // MARK: Events from the process's connection (`UpstreamHandler`)

    func upstreamRead(_ part: HTTPClientResponsePart, from channel: any Channel) {
        guard channel === upstream else { return }
        switch part {
        case .head(let head): perform(machine.upstreamHead(head))
        case .body(let buffer): perform(machine.upstreamBody(buffer))
        case .end: perform(machine.upstreamEnd())
        }
    }

    func upstreamReadComplete() { context?.flush() }

    func upstreamWritable() {
        if readHeld, !machine.holdsReads, let context {
            readHeld = false
            context.read()
        }
    }

    func upstreamFailed(_ error: any Error, channel: any Channel, exchange: Int) {
        guard channel === upstream else { return }
        perform(machine.upstreamFailed("\(error)", exchange: exchange))
    }
}
