import Foundation
import HTTPTypes
import NIOCore
import NIOHTTP1
import ScwEngine
import Synchronization

/// How many client connections may be open at once: the descriptor limit minus a reserve for everything else (the
/// database, processes' pipes, connections to processes, and the runtime's own needs: libdispatch aborts the whole
/// process when it cannot open a file). Connections over the budget are closed as soon as they are accepted.
final class ConnectionBudget: Sendable {
    let limit: Int
    let open = Atomic<Int>(0)

    init(reserve: Int = 128) {
        var limits = rlimit()
        getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limits)
        let descriptors = limits.rlim_cur >= rlim_t(1 << 20) ? 1 << 20 : Int(limits.rlim_cur)
        limit = max(16, descriptors - reserve)
    }
}

/// Connection-level defences (reliability catalog A21-A24), in each connection's pipeline right after HTTP/1 parsing,
/// before anything else sees a request:
/// - framing the parser lets through but RFC 9112 refuses: two `Host` headers (section 3.2) and HTTP/1.0 with
///   `Transfer-Encoding` (section 6.1) → 400 and the connection closes;
/// - an API request whose `Content-Length` is over the body limit → 413 at once, without waiting for the body
///   (gateway calls may carry larger bodies: their limit is the process's; a PUT to a pre-signed upload URL may carry
///   the largest archive Scaleway accepts, 100 MiB);
/// - a response that says `Connection: close` (the 413 of a body found too large while reading it) closes the
///   connection once written, so an endless body is not read and thrown away forever; so does the response to an
///   HTTP/1.0 request that did not ask for keep-alive;
/// - a request must arrive in full within the idle timeout, and a response the client stops reading must drain
///   within it: slow-body and slow-read clients are cut (slow headers are cut by Hummingbird's idle timer).
/// The answers' statuses and bodies come from `ErrorRenderer` (`EdgeRefusal`).
final class ConnectionGuard: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    let timeout: TimeAmount
    let maxBodyBytes: Int
    /// Whether a request (path, authority) is a gateway call (not bound by the API's body limit).
    let isGatewayCall: @Sendable (String, String?) -> Bool

    let budget: ConnectionBudget
    private var counted = false

    init(timeout: TimeAmount, maxBodyBytes: Int, budget: ConnectionBudget, isGatewayCall: @escaping @Sendable (String, String?) -> Bool) {
        self.timeout = timeout
        self.maxBodyBytes = maxBodyBytes
        self.budget = budget
        self.isGatewayCall = isGatewayCall
    }

    func handlerAdded(context: ChannelHandlerContext) {
        counted = true
        if budget.open.wrappingAdd(1, ordering: .relaxed).newValue > budget.limit {
            refused = true
            context.close(promise: nil)
            return
        }
        armDeadline(context, at: lastActive + timeout)
    }

    /// When the connection last finished an exchange (or opened): a keep-alive connection with no request in progress
    /// for `timeout` after that is closed. Here rather than in Hummingbird's connection-state handler, which does not
    /// see the gateway's calls.
    private var lastActive = NIODeadline.now()

    /// The connection's one timer, pending for as long as the connection is open. It checks, when it fires, the request
    /// in progress (it must arrive whole within `timeout` of its head) or, between requests, the idle time; then waits for
    /// the next deadline. Requests do not arm timers of their own: most end within the read that brought their head, and
    /// a timer per request was a measurable part of a cheap read.
    private func armDeadline(_ context: ChannelHandlerContext, at: NIODeadline) {
        deadline = context.eventLoop.assumeIsolated().scheduleTask(deadline: at) { [self] in
            deadline = nil
            let now = NIODeadline.now()
            if let due = requestDue {
                if now >= due { requestTookTooLong(context) } else { armDeadline(context, at: due) }
            } else if inFlight {
                // Answering (a client that stops reading is `stallDeadline`'s).
                armDeadline(context, at: now + timeout)
            } else if now >= lastActive + timeout {
                context.close(promise: nil)
            } else {
                armDeadline(context, at: lastActive + timeout)
            }
        }
    }

    /// Refused: everything else the client sends is dropped until the connection is closed.
    private var refused = false
    private var deadline: Scheduled<Void>?
    /// When the request in progress must have fully arrived; nil between requests.
    private var requestDue: NIODeadline?
    private var stallDeadline: Scheduled<Void>?
    private var responseStarted = false
    private var closeAfterResponse = false
    /// A request head was read and its response has not ended yet.
    private var inFlight = false

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !refused else { return }
        switch unwrapInboundIn(data) {
        case .head(let head):
            // One pass over the headers: the Host fields and the first Content-Length.
            var hostFields = 0, hostValue = "", declaredLength: String?
            for (name, value) in head.headers {
                if HeaderName.equals(name, "host") {
                    hostFields += 1
                    hostValue = value
                } else if declaredLength == nil, HeaderName.equals(name, "content-length") {
                    declaredLength = value
                }
            }
            // Two Host fields, or one listing two hosts (`Host: a, b`), are refused.
            if hostFields > 1 || (hostValue.utf8.contains(UInt8(ascii: ",")) && head.headers[canonicalForm: "host"].count > 1) {
                return refuse(context, .badFraming("a request must have exactly one Host header"))
            }
            if head.version == .http1_0 && head.headers.contains(name: "transfer-encoding") {
                return refuse(context, .badFraming("HTTP/1.0 requests cannot use Transfer-Encoding"))
            }
            if let length = declaredLength.flatMap(Int.init), length > maxBodyBytes {
                let path = GatewayRouting.splitQuery(head.uri).path
                // A PUT to a pre-signed upload URL may carry what the URL grants (up to 100 MiB, streamed to disk).
                let limit = Self.isUpload(head.method, path) ? FunctionService.maxArchiveBytes : maxBodyBytes
                if length > limit, !isGatewayCall(path, head.headers.first(name: "host")) {
                    return refuse(context, .tooLarge(limit: limit))
                }
            }
            responseStarted = false
            inFlight = true
            // HTTP/1.0 closes after the response unless the client asked to keep the connection (RFC 9112 §9.3).
            if head.version == .http1_0 && !head.headers["connection"].contains(where: { $0.lowercased().contains("keep-alive") }) {
                closeAfterResponse = true
            }
            // The whole request must arrive within `timeout` of its head (checked by `deadline`).
            requestDue = NIODeadline.now() + timeout
        case .body:
            break
        case .end:
            requestDue = nil
        }
        context.fireChannelRead(data)
    }

    /// Pre-signed upload URLs (`PUT /_mock/uploads/functions/{id}`), whose bodies are code archives.
    static func isUpload(_ method: HTTPMethod, _ path: String) -> Bool {
        method == .PUT && path.hasPrefix("/_mock/uploads/functions/")
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(let head):
            responseStarted = true
            if head.headers["connection"].contains(where: { $0.lowercased() == "close" }) { closeAfterResponse = true }
            context.write(data, promise: promise)
        case .body:
            context.write(data, promise: promise)
        case .end:
            inFlight = false
            lastActive = NIODeadline.now()
            if closeAfterResponse {
                deadline?.cancel()
                deadline = nil
                context.writeAndFlush(data).assumeIsolated().whenComplete { _ in context.close(promise: nil) }
                promise?.succeed()
            } else {
                context.write(data, promise: promise)
            }
        }
    }

    /// Bytes that are not HTTP/1.1 (a bad request line, headers over the limit, a bad chunk size): the parser gives up
    /// and the connection cannot be read further. Between requests the client gets a Scaleway-shaped 400 (431 for
    /// headers over the limit) before the connection closes; in the middle of one, the connection just closes.
    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let parserError = error as? HTTPParserError, !refused, !inFlight || !responseStarted {
            if parserError == .headerOverflow {
                return refuse(context, .headersTooLarge)
            }
            return refuse(context, .badFraming("the request is not valid HTTP: \(parserError)"))
        }
        context.fireErrorCaught(error)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            stallDeadline?.cancel()
            stallDeadline = nil
        } else if stallDeadline == nil {
            // The client stopped reading what it asked for.
            stallDeadline = context.eventLoop.assumeIsolated().scheduleTask(in: timeout) { context.close(promise: nil) }
        }
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        deadline?.cancel()
        stallDeadline?.cancel()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        deadline?.cancel()
        stallDeadline?.cancel()
        if counted {
            counted = false
            budget.open.wrappingSubtract(1, ordering: .relaxed)
        }
    }

    private func requestTookTooLong(_ context: ChannelHandlerContext) {
        deadline = nil
        requestDue = nil
        guard !refused else { return }
        if responseStarted {
            context.close(promise: nil)
        } else {
            refuse(context, .requestTimeout(seconds: Int(timeout.nanoseconds / 1_000_000_000)))
        }
    }

    private func refuse(_ context: ChannelHandlerContext, _ refusal: ErrorRenderer.EdgeRefusal) {
        refused = true
        deadline?.cancel()
        deadline = nil
        let (status, bytes) = ErrorRenderer.render(refusal)
        let body = ByteBuffer(bytes: bytes)
        var headers: HTTPHeaders = ["Content-Type": "application/json", "Content-Length": String(body.readableBytes), "Connection": "close"]
        for (name, value) in EdgeHeaders.security { headers.add(name: name.canonicalName, value: value) }
        headers.add(name: EdgeHeaders.requestIDName.canonicalName, value: EdgeHeaders.requestID())
        let head = HTTPResponseHead(version: .http1_1, status: .init(statusCode: status.code), headers: headers)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in context.close(promise: nil) }
    }
}
