import NIOCore
import NIOHTTP1
import Testing

@testable import ScwAPI

/// The gateway's connection state machine, event by event, without a socket.
@Suite struct GatewayStateMachineTests {
    typealias Machine = GatewayStateMachine

    static func call(_ uri: String = "/", timeout: Int = 30, replayable: Bool = true) -> GatewayCall {
        GatewayCall(head: HTTPRequestHead(version: .http1_1, method: .GET, uri: uri), requestID: "req-1", kind: "container",
                    timeoutSeconds: timeout, replayable: replayable)
    }

    static func response(keepAlive: Bool = true, status: HTTPResponseStatus = .ok) -> HTTPResponseHead {
        var head = HTTPResponseHead(version: .http1_1, status: status, headers: ["Content-Length": "2"])
        if !keepAlive { head.headers.add(name: "Connection", value: "close") }
        return head
    }

    /// The parts of a `.send` action, as "head /path Host", "body N", "end".
    static func sent(_ action: Machine.Action) -> [String] {
        guard case .send(let parts) = action else { return ["not a send: \(action)"] }
        return parts.map { part in
            switch part {
            case .head(let head): "head \(head.uri) \(head.headers["Host"].joined())"
            case .body(.byteBuffer(let buffer)): "body \(buffer.readableBytes)"
            case .body: "body ?"
            case .end: "end"
            }
        }
    }

    /// A machine proxying one call to port 8080, connected (on a fresh connection unless `reused`).
    static func connected(_ call: GatewayCall = call(), reused: Bool = false, close: Bool = false) -> Machine {
        var m = Machine()
        _ = m.requestHead(.proxy(call, port: 8080), closeAfterResponse: close)
        _ = m.upstreamConnected(exchange: m.exchange, reused: reused)
        return m
    }

    @Test func requestsThatAreNoGatewayCallPassThroughToTheirEnd() {
        var m = Machine()
        guard case .pass = m.requestHead(.pass, closeAfterResponse: false) else { Issue.record("head not passed"); return }
        #expect(m.phase == .passing)
        guard case .pass = m.requestBody(ByteBuffer(string: "{}")) else { Issue.record("body not passed"); return }
        guard case .pass = m.requestEnd() else { Issue.record("end not passed"); return }
        #expect(m.phase == .idle)
    }

    @Test func aCallGoesUpWithItsEndAndComesBackToAPooledConnection() {
        var m = Machine()
        guard case .open(let port, let exchange, let timeout) = m.requestHead(.proxy(Self.call("/x?a=1", timeout: 7), port: 8080), closeAfterResponse: false)
        else { Issue.record("no open"); return }
        #expect(port == 8080 && exchange == 1 && timeout == 7 && m.phase == .connecting)
        // The head alone waits for the end (or a body part): a malformed body never reaches the process.
        guard case .some(.none) = m.upstreamConnected(exchange: 1, reused: false) else { Issue.record("head sent alone"); return }
        #expect(Self.sent(m.requestEnd()) == ["head /x?a=1 127.0.0.1:8080", "end"])
        guard case .writeHead(let head, let id) = m.upstreamHead(Self.response()) else { Issue.record("no head"); return }
        #expect(head.status == .ok && id == "req-1")
        guard case .writeBody(let body) = m.upstreamBody(ByteBuffer(string: "ok")) else { Issue.record("no body"); return }
        #expect(body.readableBytes == 2)
        guard case .endResponse(.pool, close: false) = m.upstreamEnd() else { Issue.record("not pooled"); return }
        #expect(m.phase == .idle)
    }

    @Test func bodyPartsFollowTheHeadAsTheyCome() {
        var m = Machine()
        _ = m.requestHead(.proxy(Self.call(replayable: false), port: 1), closeAfterResponse: false)
        #expect(m.requestBody(ByteBuffer(repeating: 1, count: 3)).isNone)  // not connected yet: kept
        #expect(Self.sent(m.upstreamConnected(exchange: 1, reused: false)!) == ["head / 127.0.0.1:1", "body 3"])
        #expect(Self.sent(m.requestBody(ByteBuffer(repeating: 1, count: 4))) == ["body 4"])
        #expect(Self.sent(m.requestEnd()) == ["end"])
    }

    @Test func connectionCloseClosesAfterTheResponse() {
        var m = Self.connected(close: true)
        _ = m.requestEnd()
        _ = m.upstreamHead(Self.response())
        guard case .endResponse(.pool, close: true) = m.upstreamEnd() else { Issue.record("connection kept"); return }
        #expect(m.phase == .closed)
    }

    @Test func aProcessThatClosesItsConnectionDoesNotGoBackToThePool() {
        var m = Self.connected()
        _ = m.requestEnd()
        _ = m.upstreamHead(Self.response(keepAlive: false))
        guard case .endResponse(.close, close: false) = m.upstreamEnd() else { Issue.record("pooled"); return }
        // An HTTP/1.0 answer without `Connection: keep-alive` ends its connection too.
        var old = Self.connected()
        _ = old.requestEnd()
        _ = old.upstreamHead(HTTPResponseHead(version: .http1_0, status: .ok))
        guard case .endResponse(.close, close: false) = old.upstreamEnd() else { Issue.record("pooled an HTTP/1.0 connection"); return }
    }

    @Test func anEarlyResponseDrainsTheRestOfTheRequest() {
        var m = Self.connected(Self.call(replayable: false))
        _ = m.requestBody(ByteBuffer(repeating: 0, count: 10))
        _ = m.upstreamHead(Self.response())
        // The request is not sent in full: its connection cannot carry another call.
        guard case .endResponse(.close, close: false) = m.upstreamEnd() else { Issue.record("pooled mid-request"); return }
        #expect(m.phase == .draining)
        #expect(m.requestBody(ByteBuffer(repeating: 0, count: 10)).isNone)
        #expect(m.requestEnd().isNone)
        #expect(m.phase == .idle)
    }

    @Test func theTimerAnswers504BeforeTheHeadAndClosesAfterIt() {
        var m = Self.connected(Self.call(timeout: 3))
        _ = m.requestEnd()
        #expect(m.timedOut(exchange: 0).isNone)  // an earlier call's timer
        guard case .refuse(.timedOut(kind: "container", seconds: 3), upstream: .close, close: false) = m.timedOut(exchange: 1) else {
            Issue.record("no 504"); return
        }
        #expect(m.phase == .idle)

        var started = Self.connected()
        _ = started.requestEnd()
        _ = started.upstreamHead(Self.response())
        guard case .close = started.timedOut(exchange: 1) else { Issue.record("not closed"); return }
        #expect(started.phase == .closed)
        #expect(started.upstreamBody(ByteBuffer(string: "late")).isNone)
    }

    @Test func aResetBeforeTheHeadIs502AndAfterItClosesTheConnection() {
        var m = Self.connected()
        _ = m.requestEnd()
        guard case .refuse(.closed(kind: "container", detail: "reset"), upstream: .close, close: false) = m.upstreamFailed("reset", exchange: 1) else {
            Issue.record("no 502"); return
        }
        var started = Self.connected()
        _ = started.requestEnd()
        _ = started.upstreamHead(Self.response())
        guard case .close = started.upstreamFailed("reset", exchange: 1) else { Issue.record("not closed"); return }
        // A failure to connect at all is a 502 too.
        var refused = Machine()
        _ = refused.requestHead(.proxy(Self.call(), port: 1), closeAfterResponse: false)
        guard case .refuse(.closed, upstream: .close, close: false) = refused.upstreamFailed("refused", exchange: 1) else {
            Issue.record("no 502"); return
        }
    }

    @Test func aStalePooledConnectionIsReplacedOnceForACallWithoutBody() {
        var m = Self.connected(reused: true)
        _ = m.requestEnd()
        guard case .reconnect(port: 8080, exchange: 1) = m.upstreamFailed("eof", exchange: 1) else { Issue.record("no retry"); return }
        #expect(Self.sent(m.upstreamConnected(exchange: 1, reused: false)!) == ["head / 127.0.0.1:8080", "end"])
        guard case .refuse(.closed, _, _) = m.upstreamFailed("eof", exchange: 1) else { Issue.record("retried twice"); return }

        // A call with a body cannot be sent again.
        var body = Self.connected(Self.call(replayable: false), reused: true)
        _ = body.requestBody(ByteBuffer(string: "x"))
        guard case .refuse(.closed, _, _) = body.upstreamFailed("eof", exchange: 1) else { Issue.record("body replayed"); return }
    }

    @Test func aWaitingCallHoldsItsRequestUntilResolved() {
        var m = Machine()
        guard case .resolve(exchange: 1) = m.requestHead(.wait(Self.call(replayable: false)) { .port(9) }, closeAfterResponse: false) else {
            Issue.record("no resolve"); return
        }
        #expect(m.holdsReads)
        #expect(m.requestBody(ByteBuffer(repeating: 0, count: 5)).isNone)
        #expect(m.requestEnd().isNone)
        #expect(m.resolved(.port(9), exchange: 0).isNone)  // an earlier call's
        guard case .open(port: 9, exchange: 1, timeoutSeconds: 30) = m.resolved(.port(9), exchange: 1) else { Issue.record("no open"); return }
        #expect(!m.holdsReads)
        #expect(Self.sent(m.upstreamConnected(exchange: 1, reused: false)!) == ["head / 127.0.0.1:9", "body 5", "end"])

        var refused = Machine()
        _ = refused.requestHead(.wait(Self.call()) { .port(9) }, closeAfterResponse: false)
        guard case .refuse(.notRunning, upstream: .none, close: false) = refused.resolved(.refused(.notRunning(kind: "container", id: "x")), exchange: 1) else {
            Issue.record("no 503"); return
        }
        #expect(refused.phase == .draining)
        _ = refused.requestEnd()
        #expect(refused.phase == .idle)
    }

    @Test func anAnswerAtTheHeadWaitsForTheRequestsEnd() {
        var m = Machine()
        guard case .refuse(.denied(reason: "no"), upstream: .none, close: false) = m.requestHead(.refuse(.denied(reason: "no")), closeAfterResponse: true) else {
            Issue.record("no 403"); return
        }
        #expect(m.phase == .draining)
        guard case .close = m.requestEnd() else { Issue.record("Connection: close ignored"); return }
    }

    @Test func theCallerLeavingDropsTheProcesssConnectionAndLateEventsAreIgnored() {
        var m = Self.connected()
        guard case .dropUpstream = m.clientClosed() else { Issue.record("kept"); return }
        #expect(m.upstreamHead(Self.response()).isNone)
        #expect(m.upstreamEnd().isNone)
        #expect(m.upstreamConnected(exchange: 1, reused: false) == nil)
        #expect(m.timedOut(exchange: 1).isNone)
    }

    @Test func aLateConnectionForAnEarlierCallIsRefused() {
        var m = Self.connected()
        _ = m.requestEnd()
        _ = m.upstreamHead(Self.response())
        _ = m.upstreamEnd()
        _ = m.requestHead(.proxy(Self.call(), port: 8080), closeAfterResponse: false)
        #expect(m.upstreamConnected(exchange: 1, reused: false) == nil)
        #expect(m.upstreamConnected(exchange: 2, reused: false) != nil)
    }

    @Test func requestIDsAreDistinctVersion4UUIDs() {
        var ids = RequestIDs(), other = RequestIDs()
        var seen = Set<String>()
        for _ in 0..<1000 {
            let id: String = ids.next(), second: String = other.next()
            let bytes = Array(id.utf8)
            #expect(bytes.count == 36 && [8, 13, 18, 23].allSatisfy { bytes[$0] == UInt8(ascii: "-") })
            #expect(bytes[14] == UInt8(ascii: "4") && "89ab".utf8.contains(bytes[19]))
            #expect(id.allSatisfy { "0123456789abcdef-".contains($0) })
            seen.insert(id)
            seen.insert(second)
        }
        #expect(seen.count == 2000)  // and two connections do not share a sequence
    }

    @Test func aHeadMidCallClosesTheConnection() {
        var m = Self.connected()
        guard case .close = m.requestHead(.pass, closeAfterResponse: false) else { Issue.record("accepted"); return }
    }
}

extension GatewayStateMachine.Action {
    var isNone: Bool { if case .none = self { true } else { false } }
}
