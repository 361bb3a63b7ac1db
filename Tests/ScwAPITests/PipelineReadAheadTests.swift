import NIOCore
import NIOEmbedded
import NIOHTTP1
import Testing

@testable import ScwAPI

/// `PipelineReadAhead` in front of NIO's HTTP/1 server pipeline (pipelining assistance on, as the server has it): the
/// read requests that reach the socket while a response is pending, and the order requests are delivered in.
@Suite struct PipelineReadAheadTests {
    /// Counts the read requests that reach the socket (first in the pipeline).
    final class ReadProbe: ChannelOutboundHandler, @unchecked Sendable {
        typealias OutboundIn = Any
        var reads = 0
        func read(context: ChannelHandlerContext) {
            reads += 1
            context.read()
        }
    }

    /// What the server received, by path.
    final class Received: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = HTTPServerRequestPart
        var paths: [String] = []
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            if case .head(let head) = unwrapInboundIn(data) { paths.append(head.uri) }
        }
    }

    struct Harness {
        let channel = EmbeddedChannel()
        let probe = ReadProbe()
        let received = Received()

        init(limit: Int) throws {
            try channel.pipeline.syncOperations.configureHTTPServerPipeline(withPipeliningAssistance: true, withErrorHandling: false)
            try channel.pipeline.syncOperations.addHandler(PipelineReadAhead(limit: limit), position: .first)
            try channel.pipeline.syncOperations.addHandler(probe, position: .first)
            try channel.pipeline.syncOperations.addHandler(received)
            try channel.connect(to: SocketAddress(ipAddress: "10.0.0.1", port: 40000)).wait()
        }

        func send(_ paths: String...) throws {
            try channel.writeInbound(ByteBuffer(string: paths.map { "GET \($0) HTTP/1.1\r\nHost: mock\r\n\r\n" }.joined()))
        }

        /// The server answers the oldest request it was given.
        func answer() throws {
            try channel.writeOutbound(HTTPServerResponsePart.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: ["Content-Length": "0"])))
            try channel.writeOutbound(HTTPServerResponsePart.end(nil))
            while try channel.readOutbound(as: ByteBuffer.self) != nil {}
        }
    }

    @Test func aRequestWaitingForItsResponseLeavesTheSocketReading() throws {
        let h = try Harness(limit: PipelineReadAhead.defaultLimit)
        let before = h.probe.reads
        try h.send("/a")
        #expect(h.received.paths == ["/a"])
        // The pipelining handler holds the read until the answer: the read-ahead asks for it instead.
        #expect(h.probe.reads == before + 1)
        try h.answer()
        try h.send("/b")
        #expect(h.received.paths == ["/a", "/b"])
    }

    @Test func withoutReadAheadThePipeliningHandlerHoldsTheRead() throws {
        let h = try Harness(limit: 0)
        let before = h.probe.reads
        try h.send("/a")
        #expect(h.probe.reads == before)
        try h.answer()
        // Released with the response's end.
        #expect(h.probe.reads == before + 1)
    }

    @Test func pipelinedRequestsWaitTheirTurnAndTheReadAheadStopsAtItsLimit() throws {
        let h = try Harness(limit: 48)
        let before = h.probe.reads
        try h.send("/a")
        #expect(h.probe.reads == before + 1)
        // Read ahead: 2 requests, 62 bytes, over the limit. They wait for /a's answer, and nothing more is read.
        try h.send("/b", "/c")
        #expect(h.received.paths == ["/a"])
        #expect(h.probe.reads == before + 1)
        try h.answer()
        #expect(h.received.paths == ["/a", "/b"])
        try h.answer()
        #expect(h.received.paths == ["/a", "/b", "/c"])
        #expect(h.probe.reads == before + 1)
        // All answered: the pipelining handler asks again, and the count of bytes read ahead starts over.
        try h.answer()
        #expect(h.probe.reads == before + 2)
        try h.send("/d")
        #expect(h.received.paths == ["/a", "/b", "/c", "/d"])
        #expect(h.probe.reads == before + 3)
    }
}
