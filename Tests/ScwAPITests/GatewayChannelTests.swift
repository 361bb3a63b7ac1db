import Foundation
import HTTPTypes
import NIOCore
import NIOEmbedded
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1
import Testing

@testable import ScwAPI

/// The gateway's channel handler on EmbeddedChannel: a client connection with the server's HTTP/1 pipeline (pipelining
/// assistance and its read-ahead included), and connections to the process that the test answers part by part.
@Suite struct GatewayChannelTests {
    /// The connections the gateway opened to "processes", in order.
    final class Upstreams: @unchecked Sendable {
        var opened: [EmbeddedChannel] = []
    }

    /// The end of the caller's input, as what is behind the gateway (Hummingbird) sees it.
    final class InputClosedEvents: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = HTTPRequestPart
        var count = 0
        func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
            if case .inputClosed? = event as? ChannelEvent { count += 1 }
            context.fireUserInboundEventTriggered(event)
        }
    }

    /// A client connection whose requests all go to the process on port 8080 (or as `decide` says).
    struct Harness {
        let client: EmbeddedChannel
        let upstreams: Upstreams
        let pool: UpstreamPool
        let inputClosed = InputClosedEvents()

        init(timeout: Int = 30, decide: (@Sendable (HTTPRequestHead) -> GatewayDecision)? = nil) throws {
            let loop = EmbeddedEventLoop()
            let upstreams = Upstreams()
            let pool = UpstreamPool()
            let connector = UpstreamConnector { port, eventLoop, pool in
                let channel = EmbeddedChannel(handler: UpstreamHandler(pool: pool, port: port), loop: eventLoop as! EmbeddedEventLoop)
                upstreams.opened.append(channel)
                return channel.connect(to: try! SocketAddress(ipAddress: "127.0.0.1", port: port)).map { channel }
            }
            let decider = FixedDecider(decide: decide ?? { request in
                let head = HTTPRequestHead(version: .http1_1, method: request.method, uri: request.uri)
                let call = GatewayCall(head: head, requestID: "req", kind: "container", timeoutSeconds: timeout,
                                       replayable: !request.headers.contains(name: "content-length") && !request.headers.contains(name: "transfer-encoding"))
                return .proxy(call, port: 8080)
            })
            client = EmbeddedChannel(loop: loop)
            try client.pipeline.syncOperations.configureHTTPServerPipeline(withPipeliningAssistance: true, withErrorHandling: false)
            try client.pipeline.syncOperations.addHandler(PipelineReadAhead(), position: .first)
            try client.pipeline.syncOperations.addHandler(GatewayHandler(decider: decider, pool: pool, connector: connector, serverName: "gw"))
            try client.pipeline.syncOperations.addHandler(HTTP1ToHTTPServerCodec(secure: false))
            try client.pipeline.syncOperations.addHandler(inputClosed)
            try client.connect(to: SocketAddress(ipAddress: "10.0.0.1", port: 40000)).wait()
            self.upstreams = upstreams
            self.pool = pool
        }

        func send(_ raw: String) throws { try client.writeInbound(ByteBuffer(string: raw)) }

        /// Everything the client received so far, as text.
        func received() throws -> String {
            var text = ""
            while let buffer = try client.readOutbound(as: ByteBuffer.self) { text += String(buffer: buffer) }
            return text
        }

        /// What a process connection received so far, as "GET /path", "body N", "end".
        func upstreamReceived(_ index: Int = 0) throws -> [String] {
            var parts: [String] = []
            while let part = try upstreams.opened[index].readOutbound(as: HTTPClientRequestPart.self) {
                switch part {
                case .head(let head): parts.append("\(head.method) \(head.uri)")
                case .body(.byteBuffer(let buffer)): parts.append("body \(buffer.readableBytes)")
                case .body: parts.append("body ?")
                case .end: parts.append("end")
                }
            }
            return parts
        }

        /// The process on connection `index` answers `body` with status 200.
        func answer(_ index: Int = 0, _ body: String, close: Bool = false) throws {
            let upstream = upstreams.opened[index]
            var headers: HTTPHeaders = ["Content-Length": String(body.utf8.count)]
            if close { headers.add(name: "Connection", value: "close") }
            try upstream.writeInbound(HTTPClientResponsePart.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers)))
            try upstream.writeInbound(HTTPClientResponsePart.body(ByteBuffer(string: body)))
            try upstream.writeInbound(HTTPClientResponsePart.end(nil))
        }
    }

    struct FixedDecider: GatewayDecider {
        let decide: @Sendable (HTTPRequestHead) -> GatewayDecision
        func decide(_ request: HTTPRequestHead, remoteIP: String?, ids: inout RequestIDs) -> GatewayDecision { decide(request) }
    }

    @Test func pipelinedCallsAreAnsweredInOrderOverOnePooledConnection() throws {
        let h = try Harness()
        try h.send("GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n")
        // The second request is held until the first response has ended.
        #expect(try h.upstreamReceived() == ["GET /a", "end"])
        try h.answer(0, "first")
        h.client.embeddedEventLoop.run()
        #expect(h.upstreams.opened.count == 1)
        #expect(try h.upstreamReceived() == ["GET /b", "end"])
        try h.answer(0, "second")
        let text = try h.received()
        let first = try #require(text.range(of: "first")), second = try #require(text.range(of: "second"))
        #expect(first.upperBound <= second.lowerBound)
        #expect(text.components(separatedBy: "HTTP/1.1 200 OK").count == 3)
        #expect(text.contains("X-Request-Id: req") && text.contains("Server: gw"))
        #expect(h.client.isActive)
    }

    @Test func aCallerThatClosesItsSideAfterACallGetsTheAnswerBeforeTheAPISeesTheEnd() throws {
        let h = try Harness()
        try h.send("GET /a HTTP/1.1\r\nHost: x\r\n\r\n")
        h.client.pipeline.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
        // Passed on now, it would end Hummingbird's side, which closes the output under the call.
        #expect(h.inputClosed.count == 0)
        try h.answer(0, "answered")
        #expect(try h.received().contains("answered"))
        #expect(h.inputClosed.count == 1)
    }

    @Test func theEndOfAnIdleCallersInputIsPassedOnAtOnce() throws {
        let h = try Harness()
        try h.send("GET /a HTTP/1.1\r\nHost: x\r\n\r\n")
        try h.answer(0, "answered")
        h.client.pipeline.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
        #expect(h.inputClosed.count == 1)
    }

    @Test func connectionCloseEndsTheConnectionAfterTheResponse() throws {
        let h = try Harness()
        try h.send("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        try h.answer(0, "bye")
        h.client.embeddedEventLoop.run()
        #expect(try h.received().contains("bye"))
        #expect(!h.client.isActive)
        // The process's connection was sent whole and answered keep-alive: it is kept for the next caller.
        #expect(h.pool.take(port: 8080, on: h.client.eventLoop)?.channel === h.upstreams.opened[0])
    }

    @Test func aProcessThatDoesNotAnswerInTimeIs504AndItsConnectionIsClosed() throws {
        let h = try Harness(timeout: 2)
        try h.send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(try h.upstreamReceived() == ["GET /slow", "end"])
        h.client.embeddedEventLoop.advanceTime(by: .seconds(1))
        #expect(try h.received().isEmpty)
        h.client.embeddedEventLoop.advanceTime(by: .seconds(2))
        let text = try h.received()
        #expect(text.hasPrefix("HTTP/1.1 504 Gateway Timeout"))
        #expect(text.contains("did not answer within its timeout (2s)"))
        #expect(!h.upstreams.opened[0].isActive)
        #expect(h.client.isActive)  // the caller's connection goes on
        // A late answer on the closed connection changes nothing.
        #expect(h.pool.take(port: 8080, on: h.client.eventLoop) == nil)
    }

    @Test func eachCallOnAConnectionHasItsOwnDeadline() throws {
        let h = try Harness(timeout: 2)
        try h.send("GET /quick HTTP/1.1\r\nHost: x\r\n\r\n")
        try h.answer(0, "quick")
        #expect(try h.received().contains("quick"))
        h.client.embeddedEventLoop.advanceTime(by: .seconds(1))
        try h.send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
        // The first call's deadline passes: the second call has a second left.
        h.client.embeddedEventLoop.advanceTime(by: .milliseconds(1500))
        #expect(try h.received().isEmpty)
        h.client.embeddedEventLoop.advanceTime(by: .milliseconds(600))
        #expect(try h.received().hasPrefix("HTTP/1.1 504 Gateway Timeout"))
    }

    @Test func aResetBeforeTheHeadIs502AndAfterItClosesTheCallersConnection() throws {
        let h = try Harness()
        try h.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        h.upstreams.opened[0].pipeline.fireErrorCaught(IOError(errnoCode: ECONNRESET, reason: "read"))
        let text = try h.received()
        #expect(text.hasPrefix("HTTP/1.1 502 Bad Gateway"))
        #expect(text.contains("closed the connection"))
        #expect(h.client.isActive)

        try h.send("GET /again HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(h.upstreams.opened.count == 2)
        let upstream = h.upstreams.opened[1]
        try upstream.writeInbound(HTTPClientResponsePart.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: ["Content-Length": "10"])))
        try upstream.writeInbound(HTTPClientResponsePart.body(ByteBuffer(string: "half")))
        upstream.pipeline.fireErrorCaught(IOError(errnoCode: ECONNRESET, reason: "read"))
        h.client.embeddedEventLoop.run()
        #expect(try h.received().contains("half"))
        #expect(!h.client.isActive)  // the head was out: the caller can only see the connection end
    }

    @Test func aCallerLeavingMidCallClosesTheProcesssConnection() throws {
        let h = try Harness()
        try h.send("POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n" + String(repeating: "x", count: 40))
        #expect(try h.upstreamReceived() == ["POST /upload", "body 40"])
        try h.client.close().wait()
        h.client.embeddedEventLoop.run()
        #expect(!h.upstreams.opened[0].isActive)
        #expect(h.pool.take(port: 8080, on: h.client.eventLoop) == nil)
    }

    @Test func aPooledConnectionFoundClosedIsReplacedForACallWithoutBody() throws {
        let h = try Harness()
        try h.send("GET /1 HTTP/1.1\r\nHost: x\r\n\r\n")
        try h.answer(0, "one")
        _ = try h.received()
        try h.send("GET /2 HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(try h.upstreamReceived(0) == ["GET /1", "end", "GET /2", "end"])
        try h.upstreams.opened[0].close().wait()  // the process had closed it meanwhile
        h.client.embeddedEventLoop.run()
        #expect(h.upstreams.opened.count == 2)
        #expect(try h.upstreamReceived(1) == ["GET /2", "end"])
        try h.answer(1, "two")
        #expect(try h.received().contains("two"))
    }

    @Test func callsAnsweredAtOnceAndCallsThatWaitUseTheSamePath() async throws {
        let h = try Harness(decide: { request in
            let head = HTTPRequestHead(version: .http1_1, method: .GET, uri: request.uri)
            let call = GatewayCall(head: head, requestID: "req", kind: "function", timeoutSeconds: 5, replayable: true)
            return request.uri == "/denied" ? .refuse(.denied(reason: "missing X-Auth-Token")) : .proxy(call, port: 8080)
        })
        try h.send("GET /denied HTTP/1.1\r\nHost: x\r\n\r\nGET /ok HTTP/1.1\r\nHost: x\r\n\r\n")
        h.client.embeddedEventLoop.run()
        #expect(try h.upstreamReceived() == ["GET /ok", "end"])
        try h.answer(0, "fine")
        let text = try h.received()
        #expect(text.hasPrefix("HTTP/1.1 403 Forbidden"))
        #expect(text.contains("missing X-Auth-Token") && text.contains("fine"))
    }
}
