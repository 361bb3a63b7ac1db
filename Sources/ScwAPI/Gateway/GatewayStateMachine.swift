import HTTPTypes
import NIOCore
import NIOHTTP1

/// A call the gateway proxies: the request as the process receives it, and what the answers about it need.
struct GatewayCall: Sendable {
    /// The request line and headers for the process (`Host` is added once the port is known).
    var head: HTTPRequestHead
    var requestID: String
    /// `container` or `function`, for the error messages.
    var kind: String
    var timeoutSeconds: Int
    /// No body: the call can be sent again on a fresh connection when a pooled one turns out closed.
    var replayable: Bool
    /// The container or function called (its log gets the gateway's line about the call).
    var applicationID: String = ""
}

/// What `GatewayRouting.decide` resolves a call to, once it is complete.
enum GatewayResolution: Sendable {
    case port(Int)
    case refused(ErrorRenderer.EdgeRefusal)
}

/// What the gateway does with a request head.
enum GatewayDecision: Sendable {
    /// Not a gateway call: Hummingbird (the API) has it.
    case pass
    /// Answered at once with an error (unknown application, access denied).
    case refuse(ErrorRenderer.EdgeRefusal)
    /// Proxied at once to the process listening on `port`.
    case proxy(GatewayCall, port: Int)
    /// Proxied once `resolve` has waited for what is missing (a process starting or scaled to zero, a namespace key
    /// not loaded yet); the request is held meanwhile.
    case wait(GatewayCall, resolve: @Sendable () async -> GatewayResolution)
}

/// Decides about requests (`GatewayRouting`; tests substitute their own).
protocol GatewayDecider: Sendable {
    /// `ids` gives the `X-Request-Id` of a call.
    func decide(_ request: HTTPRequestHead, remoteIP: String?, ids: inout RequestIDs) -> GatewayDecision
    /// A call was answered with `status` after `milliseconds`: the application's log says so.
    func noteAnswer(_ call: AnsweredCall, status: Int, milliseconds: Double)
}

extension GatewayDecider {
    func noteAnswer(_ call: AnsweredCall, status: Int, milliseconds: Double) {}
}

/// What the application's log line about a call names (kept instead of the whole call: no header copies).
struct AnsweredCall: Sendable {
    var applicationID: String
    var method: String
    var uri: String
    var requestID: String

    init(_ call: GatewayCall) {
        (applicationID, method, uri, requestID) = (call.applicationID, call.head.method.rawValue, call.head.uri, call.requestID)
    }
}

/// One client connection of the gateway, as a value: events in (request parts, the process's response parts, its
/// connection's fate, the timer, the caller leaving), actions out, which `GatewayHandler` performs. No I/O here, so
/// every transition is tested without a socket (GatewayStateMachineTests).
///
/// A call moves idle → (resolving →) connecting → proxying → idle. When the response ends before the request has
/// (the process answered without reading the whole body, or the gateway refused), the call drains: the rest of the
/// request is read and dropped, then the connection is idle again. Requests that are not gateway calls pass through
/// (`passing`) until their end. The pipelining handler in front delivers a pipelined request only once the previous
/// response has ended, so a head never arrives mid-call.
struct GatewayStateMachine {
    enum Phase: Equatable {
        case idle
        /// Hummingbird has the current request.
        case passing
        /// Waiting for `GatewayDecision.wait`'s resolution.
        case resolving
        /// Waiting for a connection to the process (pooled or new).
        case connecting
        /// Connected: the request goes up, the response comes down.
        case proxying
        /// The response has ended; the rest of the request is dropped.
        case draining
        /// The caller has gone, or the connection is being closed.
        case closed
    }

    /// What happens to the connection to the process when a call lets go of it.
    enum UpstreamFate: Equatable {
        /// None is attached (or it is kept).
        case none
        /// Back into the pool, for the next call.
        case pool
        case close
    }

    enum Action {
        case none
        /// Hand the part on to Hummingbird.
        case pass
        /// Start the resolution of call number `exchange` (then feed `resolved`).
        case resolve(exchange: Int)
        /// Take a pooled connection to `port` or open one, and arm the call's timer.
        case open(port: Int, exchange: Int, timeoutSeconds: Int)
        /// Drop the current connection and open a new one (a pooled connection was found closed).
        case reconnect(port: Int, exchange: Int)
        /// Write these parts to the process's connection, then flush.
        case send([HTTPClientRequestPart])
        /// Write the process's response head, with `requestID`.
        case writeHead(HTTPResponseHead, requestID: String)
        case writeBody(ByteBuffer)
        /// Clear the call's deadline, let go of the process's connection, end the response; close the connection if
        /// `close`.
        case endResponse(upstream: UpstreamFate, close: Bool)
        /// Clear the call's deadline, let go of the process's connection, answer this error; close the connection if
        /// `close`.
        case refuse(ErrorRenderer.EdgeRefusal, upstream: UpstreamFate, close: Bool)
        /// Clear the call's deadline, close the process's connection and the caller's.
        case close
        /// Clear the call's deadline and close the process's connection (the caller has gone).
        case dropUpstream
    }

    private(set) var phase = Phase.idle
    /// Numbers the calls on this connection: a late connection or resolution for an earlier call is not this one's.
    private(set) var exchange = 0
    private var call: GatewayCall?
    private var port = 0
    /// Request parts not yet sent: the head waits for the first body part or the end, so a request whose body turns
    /// out malformed (refused with 400 by the decoder) never reaches the process.
    private var pending: [HTTPClientRequestPart] = []
    private var requestDone = false
    /// The request's end is queued for the process (it has the whole request once `pending` is sent).
    private var endQueued = false
    private var sawBody = false
    private var responseStarted = false
    private var upstreamKeepAlive = false
    private var reused = false
    private var retried = false
    private var closeAfterResponse = false

    /// Whether the caller's reads should wait: a call whose resolution is pending holds its body back.
    var holdsReads: Bool { phase == .resolving }

    /// A call's answer is still to come (or still coming).
    var answerPending: Bool {
        switch phase {
        case .resolving, .connecting, .proxying: true
        case .idle, .passing, .draining, .closed: false
        }
    }

    // MARK: The caller's side

    mutating func requestHead(_ decision: GatewayDecision, closeAfterResponse: Bool) -> Action {
        switch phase {
        case .idle: break
        case .closed: return .none
        case .passing, .resolving, .connecting, .proxying, .draining:
            // The pipelining handler holds a next request until the response ends, so this cannot happen.
            phase = .closed
            return .close
        }
        switch decision {
        case .pass:
            phase = .passing
            return .pass
        case .refuse(let refusal):
            begin(nil, closeAfterResponse: closeAfterResponse)
            return answer(refusal, upstream: .none)
        case .proxy(let call, let port):
            begin(call, closeAfterResponse: closeAfterResponse)
            return open(port)
        case .wait(let call, _):
            begin(call, closeAfterResponse: closeAfterResponse)
            phase = .resolving
            return .resolve(exchange: exchange)
        }
    }

    mutating func requestBody(_ buffer: ByteBuffer) -> Action {
        switch phase {
        case .idle, .passing: return .pass
        case .resolving, .connecting:
            sawBody = true
            pending.append(.body(.byteBuffer(buffer)))
            return .none
        case .proxying:
            sawBody = true
            pending.append(.body(.byteBuffer(buffer)))
            return flush()
        case .draining, .closed: return .none
        }
    }

    mutating func requestEnd() -> Action {
        switch phase {
        case .passing:
            phase = .idle
            return .pass
        case .idle: return .pass
        case .resolving, .connecting:
            requestDone = true
            endQueued = true
            pending.append(.end(nil))
            return .none
        case .proxying:
            requestDone = true
            endQueued = true
            pending.append(.end(nil))
            return flush()
        case .draining:
            requestDone = true
            phase = closeAfterResponse ? .closed : .idle
            return closeAfterResponse ? .close : .none
        case .closed: return .none
        }
    }

    /// The caller's connection is gone (or the handler removed).
    mutating func clientClosed() -> Action {
        phase = .closed
        pending = []
        call = nil
        return .dropUpstream
    }

    // MARK: Resolution, connection and timer

    mutating func resolved(_ resolution: GatewayResolution, exchange: Int) -> Action {
        guard phase == .resolving, exchange == self.exchange else { return .none }
        switch resolution {
        case .port(let port): return open(port)
        case .refused(let refusal): return answer(refusal, upstream: .none)
        }
    }

    /// A connection to the process is at hand for call `exchange`; nil when it is not wanted (close it).
    mutating func upstreamConnected(exchange: Int, reused: Bool) -> Action? {
        guard phase == .connecting, exchange == self.exchange else { return nil }
        phase = .proxying
        self.reused = reused
        return flush()
    }

    /// The call's timer fired.
    mutating func timedOut(exchange: Int) -> Action {
        guard phase == .connecting || phase == .proxying, exchange == self.exchange, let call else { return .none }
        if responseStarted {
            // The head is out: the caller can only see the connection end.
            phase = .closed
            return .close
        }
        return answer(.timedOut(kind: call.kind, seconds: call.timeoutSeconds), upstream: .close)
    }

    // MARK: The process's side

    mutating func upstreamHead(_ head: HTTPResponseHead) -> Action {
        guard phase == .proxying, let call else { return .none }
        guard head.status.code >= 200 else { return .none }  // 1xx: the final head follows
        responseStarted = true
        // (`isKeepAlive` parses the header; most answers have none.)
        upstreamKeepAlive = head.headers.contains(name: "connection") ? head.isKeepAlive : head.version != .http1_0 && head.version != .http0_9
        return .writeHead(head, requestID: call.requestID)
    }

    mutating func upstreamBody(_ buffer: ByteBuffer) -> Action {
        guard phase == .proxying, responseStarted else { return .none }
        return .writeBody(buffer)
    }

    mutating func upstreamEnd() -> Action {
        guard phase == .proxying, responseStarted else { return .none }
        return finish(upstream: upstreamKeepAlive && endQueued ? .pool : .close) { .endResponse(upstream: $0, close: $1) }
    }

    /// The process's connection failed or closed (also: could not be opened) during call `exchange`.
    mutating func upstreamFailed(_ detail: String, exchange: Int) -> Action {
        guard phase == .connecting || phase == .proxying, exchange == self.exchange, let call else { return .none }
        if responseStarted {
            phase = .closed
            return .close
        }
        // A pooled connection the process had closed meanwhile: a call without a body is sent again, once.
        if phase == .proxying && reused && call.replayable && !retried {
            retried = true
            reused = false
            phase = .connecting
            pending = [.head(call.head)] + (endQueued ? [.end(nil)] : [])
            return .reconnect(port: port, exchange: exchange)
        }
        return answer(.closed(kind: call.kind, detail: detail), upstream: .close)
    }

    // MARK: Helpers

    private mutating func begin(_ call: GatewayCall?, closeAfterResponse: Bool) {
        exchange += 1
        self.call = call
        self.closeAfterResponse = closeAfterResponse
        pending = []
        requestDone = false
        endQueued = false
        sawBody = false
        responseStarted = false
        upstreamKeepAlive = false
        reused = false
        retried = false
    }

    private mutating func open(_ port: Int) -> Action {
        guard var call else { return .close }
        self.port = port
        call.head.headers.add(name: "Host", value: "127.0.0.1:\(port)")
        self.call = call
        pending.insert(.head(call.head), at: 0)
        phase = .connecting
        return .open(port: port, exchange: exchange, timeoutSeconds: call.timeoutSeconds)
    }

    private mutating func flush() -> Action {
        guard phase == .proxying, !pending.isEmpty, pending.count > 1 || endQueued || sawBody else { return .none }
        let parts = pending
        pending = []
        return .send(parts)
    }

    private mutating func answer(_ refusal: ErrorRenderer.EdgeRefusal, upstream: UpstreamFate) -> Action {
        finish(upstream: upstream) { .refuse(refusal, upstream: $0, close: $1) }
    }

    /// Ends the response. The connection is idle (or draining) before the handler writes the end: writing it lets the
    /// pipelining handler deliver the next request at once, re-entrantly, and that request must find it so.
    private mutating func finish(upstream: UpstreamFate, _ action: (UpstreamFate, Bool) -> Action) -> Action {
        pending = []
        if requestDone {
            phase = closeAfterResponse ? .closed : .idle
            return action(upstream, closeAfterResponse)
        }
        phase = .draining
        return action(upstream, false)
    }
}
