import Foundation
import HTTPTypes
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1
import NIOPosix
import ScwEngine
import Synchronization

/// The gateway's fast path (issue 6): a channel handler in each client connection's pipeline that proxies a call for
/// a ready application without leaving the connection's event loop: no task, no actor hop, no thread switch, and
/// keep-alive connections to processes reused from a per-event-loop pool. It takes a call only when everything can
/// be decided at once (the application is known and ready, and its privacy check needs no key still loading);
/// anything else passes on to Hummingbird, where `InvocationGateway` (the slow path) answers it. Both paths share
/// `GatewayRouting`, so they route, refuse and rewrite headers identically.
///
/// Written by hand on SwiftNIO because the library path (AsyncHTTPClient behind an async middleware) kept only 15%
/// of the throughput of calling a process directly, against the 50%.
final class GatewayFastPath: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    let routing: GatewayRouting
    let pool: UpstreamPool
    let serverName: String?

    init(routing: GatewayRouting, pool: UpstreamPool, serverName: String?) {
        self.routing = routing
        self.pool = pool
        self.serverName = serverName
    }

    /// Where the connection is: between calls, passing a call to Hummingbird, or answering one itself.
    private enum State { case idle, passing, answering }
    private var state = State.idle
    private var context: ChannelHandlerContext?

    // The call being answered.
    private var target: GatewayService.Target?
    private var port = 0
    private var requestID = ""
    private var upstreamHead: HTTPRequestHead?
    private var upstream: (any Channel)?
    private var reusedUpstream = false
    private var retried = false
    private var replayable = false
    private var pending: [HTTPClientRequestPart] = []
    private var requestDone = false
    private var upstreamRequestDone = false
    private var sawBody = false
    /// Numbers the calls on this connection, so that a late connect for an earlier call is not mistaken for this one's.
    private var exchange = 0
    private var responseStarted = false
    private var responseDone = false
    private var upstreamKeepAlive = false
    private var closeAfterResponse = false
    private var timeout: Scheduled<Void>?
    private var readHeld = false
    private var date = (second: 0, text: "")

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }

    /// Hummingbird's responses: a handler's own `Date` (`X-Scw-Mock-Date`, token responses) replaces the cached one.
    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .head(var head) = unwrapOutboundIn(data), let date = head.headerFields[.scwMockDate] {
            head.headerFields[.scwMockDate] = nil
            head.headerFields[.date] = date
            context.write(wrapOutboundOut(.head(head)), promise: promise)
            return
        }
        context.write(data, promise: promise)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        abandon()
        self.context = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        abandon()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        switch (state, part) {
        case (.idle, .head(let request)):
            if take(request, context: context) { return }
            state = .passing
            context.fireChannelRead(data)
        case (.passing, .end):
            state = .idle
            context.fireChannelRead(data)
        case (.passing, _), (.idle, _):
            context.fireChannelRead(data)
        case (.answering, .body(let buffer)):
            if !responseDone { send(.body(.byteBuffer(buffer))) }
        case (.answering, .end):
            requestDone = true
            if !responseDone {
                upstreamRequestDone = true
                send(.end(nil))
            }
            finishIfDone()
        case (.answering, .head):
            // The pipelining handler holds a next request until the response ends, so this cannot happen.
            context.close(promise: nil)
        }
    }

    /// Decides whether this call is answered here; false passes it on to Hummingbird.
    private func take(_ request: HTTPRequest, context: ChannelHandlerContext) -> Bool {
        let raw = request.path ?? "/"
        let question = raw.firstIndex(of: "?")
        let path = question.map { String(raw[..<$0]) } ?? raw
        let target: GatewayService.Target, forwardPath: String
        switch routing.route(path: path, authority: request.authority, fields: request.headerFields) {
        case .api, .refused: return false  // the API, or refused by InvocationGateway with the gateway's headers
        case .unknown(let id):
            begin(request)
            answer(.unknownApplication(id: id))
            return true
        case .application(let found, let path): (target, forwardPath) = (found, path)
        }
        let tokens = request.headerFields[values: HTTPField.Name("X-Auth-Token")!]
        switch routing.gateway.access(for: target, tokenHeaders: tokens, key: routing.gateway.cachedKey(for: target)) {
        case .needsKey: return false
        case .denied(let reason):
            begin(request)
            answer(.denied(reason: reason))
            return true
        case .allowed: break
        }
        guard let port = routing.gateway.runtime.readyPort(of: target.id) else { return false }
        begin(request)
        self.target = target
        self.port = port
        requestID = EdgeHeaders.requestID()
        let query = question.map { String(raw[$0...]) } ?? ""
        var fields = routing.upstreamHeaders(request.headerFields, target: target, remoteIP: context.channel.remoteAddress?.ipAddress,
                                             authority: request.authority, requestID: requestID)
        // The body goes as it came: with its length, chunked, or not at all (a GET does not grow an empty chunked body).
        let length = request.headerFields[.contentLength]
        let chunked = request.headerFields[.transferEncoding] != nil
        if let length { fields[.contentLength] = length } else if chunked { fields[.transferEncoding] = "chunked" }
        replayable = !chunked && (length == nil || length == "0")
        if replayable && ![.get, .head, .options, .delete, .trace].contains(request.method) { fields[.contentLength] = "0" }
        var head = HTTPRequestHead(version: .http1_1, method: HTTPMethod(request.method), uri: forwardPath + query)
        head.headers = HTTPHeaders(fields)
        head.headers.add(name: "Host", value: "127.0.0.1:\(port)")
        upstreamHead = head
        pending = [.head(head)]
        timeout = context.eventLoop.assumeIsolated().scheduleTask(in: .seconds(Int64(target.timeoutSeconds))) { [self] in timedOut() }
        if let channel = pool.take(port: port, on: context.eventLoop) {
            attach(channel, reused: true)
        } else {
            connect(context: context)
        }
        return true
    }

    private func begin(_ request: HTTPRequest) {
        exchange += 1
        state = .answering
        requestDone = false
        upstreamRequestDone = false
        responseStarted = false
        responseDone = false
        retried = false
        sawBody = false
        readHeld = false
        closeAfterResponse = request.headerFields[.connection]?.lowercased() == "close"
    }

    private func connect(context: ChannelHandlerContext) {
        let pool = self.pool, port = self.port, exchange = self.exchange
        ClientBootstrap(group: context.eventLoop)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connectTimeout(.seconds(5))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(UpstreamHandler(pool: pool, port: port))
                }
            }
            .connect(host: "127.0.0.1", port: port)
            .assumeIsolated()
            .whenComplete { [self] result in
                switch result {
                case .success(let channel):
                    if exchange == self.exchange { attach(channel, reused: false) } else { channel.close(promise: nil) }
                case .failure(let error):
                    if exchange == self.exchange { upstreamFailed(error, channel: nil) }
                }
            }
    }

    private func attach(_ channel: any Channel, reused: Bool) {
        guard state == .answering, !responseDone, let handler = try? channel.pipeline.syncOperations.handler(type: UpstreamHandler.self) else {
            channel.close(promise: nil)
            return
        }
        handler.owner = self
        upstream = channel
        reusedUpstream = reused
        flushPending()
    }

    /// Sends what waits for the process once the request is known to be well-formed: the head goes with the first
    /// body part or the end, so a request whose body turns out malformed (and is refused with 400) never reaches it.
    private func flushPending() {
        guard let upstream, !pending.isEmpty, pending.count > 1 || upstreamRequestDone || sawBody else { return }
        for part in pending { upstream.write(part, promise: nil) }
        pending = []
        upstream.flush()
    }

    private func send(_ part: HTTPClientRequestPart) {
        if case .body = part { sawBody = true }
        pending.append(part)
        flushPending()
    }

    // MARK: The process's side

    func upstreamRead(_ part: HTTPClientResponsePart, from channel: any Channel) {
        guard let context, state == .answering, !responseDone, channel === upstream else { return }
        switch part {
        case .head(let head):
            guard head.status.code >= 200 else { return }  // 1xx: the final head follows
            responseStarted = true
            upstreamKeepAlive = head.isKeepAlive
            var response = (try? HTTPResponse(head)) ?? HTTPResponse(status: .badGateway)
            response.headerFields = GatewayRouting.responseHeaders(response.headerFields, requestID: requestID)
            stamp(&response)
            context.write(wrapOutboundOut(.head(response)), promise: nil)
        case .body(let buffer):
            context.write(wrapOutboundOut(.body(buffer)), promise: nil)
        case .end:
            timeout?.cancel()
            release(channel, reusable: upstreamKeepAlive && upstreamRequestDone)
            endResponse { context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil) }
        }
    }

    func upstreamReadComplete() { context?.flush() }

    func upstreamWritable() {
        if readHeld, let context {
            readHeld = false
            context.read()
        }
    }

    func upstreamFailed(_ error: any Error, channel: (any Channel)?) {
        guard state == .answering, !responseDone, channel == nil || channel === upstream, let target else { return }
        upstream = nil
        channel?.close(promise: nil)
        if !responseStarted {
            // A pooled connection the process had closed meanwhile: a call without a body is sent again, once.
            if reusedUpstream && replayable && !retried, let head = upstreamHead, let context {
                retried = true
                pending = [.head(head)] + (upstreamRequestDone ? [.end(nil)] : [])
                connect(context: context)
                return
            }
            timeout?.cancel()
            answer(.closed(kind: target.kind.rawValue, detail: "\(error)"))
        } else {
            // The head is out: the caller can only see the connection end.
            responseDone = true
            context?.close(promise: nil)
        }
    }

    private func timedOut() {
        guard state == .answering, !responseDone, let target else { return }
        // Forget the connection before closing it: closing reports its end re-entrantly, which must not answer too.
        if let channel = upstream {
            upstream = nil
            if let handler = try? channel.pipeline.syncOperations.handler(type: UpstreamHandler.self) { handler.owner = nil }
            channel.close(promise: nil)
        }
        if responseStarted {
            responseDone = true
            context?.close(promise: nil)
        } else {
            answer(.timedOut(kind: target.kind.rawValue, seconds: target.timeoutSeconds))
        }
    }

    // MARK: The caller's side

    func read(context: ChannelHandlerContext) {
        // Backpressure for request bodies: no more reading while the process's socket is full.
        if state == .answering, let upstream, !upstream.isWritable {
            readHeld = true
            return
        }
        context.read()
    }

    private func answer(_ refusal: ErrorRenderer.EdgeRefusal) {
        guard let context else { return }
        let (status, body) = ErrorRenderer.render(refusal)
        let buffer = ByteBuffer(bytes: body)
        var response = HTTPResponse(status: status, headerFields: [.contentType: "application/json", .contentLength: String(buffer.readableBytes)])
        stamp(&response)
        context.write(wrapOutboundOut(.head(response)), promise: nil)
        context.write(wrapOutboundOut(.body(buffer)), promise: nil)
        endResponse { context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil) }
    }

    /// Ends the response with `writeEnd`. The bookkeeping comes first: writing the end lets the pipelining handler
    /// deliver the next request at once, re-entrantly, and it must find the connection idle.
    private func endResponse(_ writeEnd: () -> Void) {
        responseDone = true
        let close = closeAfterResponse
        let finished = requestDone
        if finished { becomeIdle() }
        writeEnd()
        if finished && close { context?.close(promise: nil) }
    }

    /// The headers Hummingbird adds to every response.
    private func stamp(_ response: inout HTTPResponse) {
        if let serverName { response.headerFields[.server] = serverName }
        let now = time(nil)
        if date.second != now {
            var t = now, parts = tm()
            gmtime_r(&t, &parts)
            var buffer = [CChar](repeating: 0, count: 64)
            let count = strftime(&buffer, buffer.count, "%a, %d %b %Y %H:%M:%S GMT", &parts)
            date = (now, String(decoding: buffer.prefix(count).map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        response.headerFields[.date] = date.text
    }

    /// After the request's end, when the response has ended already.
    private func finishIfDone() {
        guard state == .answering, requestDone, responseDone else { return }
        let close = closeAfterResponse
        becomeIdle()
        if close { context?.close(promise: nil) }
    }

    private func becomeIdle() {
        state = .idle
        target = nil
        if readHeld, let context {
            readHeld = false
            context.read()
        }
    }

    private func release(_ channel: any Channel, reusable: Bool) {
        upstream = nil
        if let handler = try? channel.pipeline.syncOperations.handler(type: UpstreamHandler.self) { handler.owner = nil }
        if reusable && channel.isActive {
            pool.give(channel, port: port)
        } else {
            channel.close(promise: nil)
        }
    }

    /// The caller went away (or the handler is removed): the process's connection cannot be reused mid-call.
    private func abandon() {
        timeout?.cancel()
        timeout = nil
        if let channel = upstream {
            upstream = nil
            if let handler = try? channel.pipeline.syncOperations.handler(type: UpstreamHandler.self) { handler.owner = nil }
            channel.close(promise: nil)
        }
        pending = []
        if state == .answering { state = .idle }
    }
}

/// The end of a connection to a process: hands response parts to the call that owns it; idle in the pool otherwise.
final class UpstreamHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart
    let pool: UpstreamPool
    let port: Int
    /// The call using this connection; nil while it waits in the pool.
    var owner: GatewayFastPath?

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
        owner?.upstreamFailed(ChannelError.eof, channel: context.channel)
        owner = nil
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        owner?.upstreamFailed(error, channel: context.channel)
        owner = nil
        context.close(promise: nil)
    }
}

/// Idle keep-alive connections to processes, per event loop and port (a connection is only used on its own loop).
final class UpstreamPool: Sendable {
    private struct Key: Hashable {
        var loop: ObjectIdentifier
        var port: Int
    }
    private let idle = Mutex<[Key: [any Channel]]>([:])
    /// Idle connections kept per event loop and process.
    let limit = 64

    func take(port: Int, on loop: any EventLoop) -> (any Channel)? {
        let key = Key(loop: ObjectIdentifier(loop), port: port)
        return idle.withLock { idle in
            while let channel = idle[key]?.popLast() {
                if channel.isActive { return channel }
            }
            return nil
        }
    }

    func give(_ channel: any Channel, port: Int) {
        let key = Key(loop: ObjectIdentifier(channel.eventLoop), port: port)
        let kept = idle.withLock { idle in
            guard (idle[key]?.count ?? 0) < limit else { return false }
            idle[key, default: []].append(channel)
            return true
        }
        if !kept { channel.close(promise: nil) }
    }

    func forget(_ channel: any Channel, port: Int) {
        let key = Key(loop: ObjectIdentifier(channel.eventLoop), port: port)
        idle.withLock { idle in idle[key]?.removeAll { $0 === channel } }
    }
}

/// Hummingbird's HTTP/1 channel with the gateway's fast path added after the connection-state handler (so that idle
/// timeouts and graceful shutdown see the calls it answers).
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
                // fast path needs (Hummingbird alone reads requests one by one from its async channel instead).
                withPipeliningAssistance: true, withErrorHandling: false, withOutboundHeaderValidation: false,
                withEncoderConfiguration: .init(), withDecoderLimitConfiguration: limits)
            let routing = self.routing
            try channel.pipeline.syncOperations.addHandler(ConnectionGuard(
                timeout: configuration.idleTimeout ?? .seconds(60), maxBodyBytes: WireJSON.maxBodyBytes, budget: budget,
                isGatewayCall: { path, authority in
                    switch routing.route(path: path, authority: authority, fields: HTTPFields()) {
                    case .application, .unknown: return true
                    case .api, .refused: return false
                    }
                }))
            try channel.pipeline.syncOperations.addHandler(HTTP1ToHTTPServerCodec(secure: false))
            try channel.pipeline.syncOperations.addHandler(
                HTTPConnectionStateHandler(idleTimeout: configuration.idleTimeout.map { .init($0) }, logger: logger))
            try channel.pipeline.syncOperations.addHandler(GatewayFastPath(routing: routing, pool: pool, serverName: serverName))
            return try NIOAsyncChannel(wrappingChannelSynchronously: channel, configuration: .init(isOutboundHalfClosureEnabled: true))
        }
    }

    public func handle(value asyncChannel: NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>, logger: Logger) async {
        await handleHTTP(asyncChannel: asyncChannel, logger: logger)
    }
}
