import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// A failure of the container engine, or of the way to it, in words an error message can quote.
public struct EngineError: Error, CustomStringConvertible, Sendable {
    public var message: String
    /// The HTTP status the engine answered, when it answered.
    public var status: Int?

    public init(_ message: String, status: Int? = nil) {
        self.message = message
        self.status = status
    }

    public var description: String { message }
}

/// Where a Docker-compatible engine listens: a unix socket (Docker's, or Podman's from `podman system service`).
public struct EngineEndpoint: Sendable, Equatable {
    public var socketPath: String

    public init(socketPath: String) { self.socketPath = socketPath }

    /// The engine's socket: `DOCKER_HOST` when set (only `unix://` is supported: a TCP engine would carry the
    /// workload's secrets unencrypted), else `/var/run/docker.sock`, else Podman's rootful `/run/podman/podman.sock`.
    /// Read from the operator's environment: trusted.
    public static func locate(environment: [String: String]) throws(EngineError) -> EngineEndpoint {
        if let host = environment["DOCKER_HOST"], !host.isEmpty {
            guard host.hasPrefix("unix://"), host.count > "unix://".count else {
                throw EngineError("DOCKER_HOST=\(host) is not a unix:// socket; only unix sockets are supported")
            }
            return EngineEndpoint(socketPath: String(host.dropFirst("unix://".count)))
        }
        for path in ["/var/run/docker.sock", "/run/podman/podman.sock"] where FileManager.default.fileExists(atPath: path) {
            return EngineEndpoint(socketPath: path)
        }
        throw EngineError("no engine socket: DOCKER_HOST is not set and neither /var/run/docker.sock nor /run/podman/podman.sock exists")
    }
}

/// One exchange with the engine whose answer may go on for long (`logs?follow`, `wait`): `done` completes with the
/// status once the answer ended; `cancel()` closes the connection.
final class EngineCall: Sendable {
    let channel: any Channel
    let done: EventLoopFuture<Int>
    private let ended = Mutex(false)

    init(channel: any Channel, done: EventLoopFuture<Int>) {
        self.channel = channel
        self.done = done
        done.whenComplete { _ in self.ended.withLock { $0 = true } }
    }

    /// Whether the answer ended (or the connection failed).
    var hasEnded: Bool { ended.withLock { $0 } }

    func cancel() { channel.close(promise: nil) }
}

/// The Docker Engine API (as Docker and Podman's compatibility layer serve it), spoken as HTTP/1.1 over the engine's
/// unix socket on SwiftNIO's event loops: one connection per call, every short call with a deadline. Bodies are JSON
/// through Foundation's Codable. Image names and values sent come from API callers (untrusted): they only ever
/// travel as JSON values or percent-encoded query and path parts, never through a shell.
public struct EngineClient: Sendable {
    public let endpoint: EngineEndpoint
    /// The API version asked for: 1.41 is served by Docker 20.10 and later and by Podman 3 and later.
    static let apiPrefix = "/v1.41"

    public init(endpoint: EngineEndpoint) { self.endpoint = endpoint }

    static var group: any EventLoopGroup { MultiThreadedEventLoopGroup.singleton }

    struct Response: Sendable {
        var status: Int
        var body: [UInt8]

        var text: String { String(decoding: body, as: UTF8.self) }

        /// The engine's own error text: `{"message": …}` (Docker, Podman), else the body as text.
        var errorMessage: String {
            struct Message: Decodable { var message: String }
            if let decoded = try? JSONDecoder().decode(Message.self, from: Data(body)) { return decoded.message }
            return text.trimmingCharacters(in: .whitespacesAndNewlines)
        }
    }

    /// Sends one request and reads the whole answer (at most `limit` bytes are kept).
    func call(_ method: HTTPMethod, _ path: String, body: [UInt8]? = nil, timeout: TimeAmount = .seconds(30),
              limit: Int = 4 * 1024 * 1024) async throws(EngineError) -> Response {
        let collected = Collected(limit: limit)
        let call = try await open(method, path, body: body, timeout: timeout) { collected.add($0) }
        do {
            let status = try await call.done.get()
            return Response(status: status, body: collected.bytes)
        } catch let error as EngineError {
            throw error
        } catch {
            throw EngineError("the engine's answer was cut: \(error)")
        }
    }

    /// A call with a JSON body and a JSON answer; an answer of 400 or more throws with the engine's message.
    func json<Answer: Decodable>(_ method: HTTPMethod, _ path: String, body: (some Encodable)?, as type: Answer.Type,
                                 timeout: TimeAmount = .seconds(30)) async throws(EngineError) -> Answer {
        let bytes: [UInt8]?
        do { bytes = try body.map { Array(try JSONEncoder().encode($0)) } } catch { throw EngineError("cannot encode the request: \(error)") }
        let response = try await call(method, path, body: bytes, timeout: timeout)
        guard response.status < 400 else { throw EngineError(response.errorMessage, status: response.status) }
        do { return try JSONDecoder().decode(Answer.self, from: Data(response.body)) } catch {
            throw EngineError("unexpected answer to \(method) \(path): \(response.text.prefix(200))")
        }
    }

    /// Opens a connection, sends the request and hands each piece of the answer's body to `onBody` (on the
    /// connection's event loop) until the answer ends, `timeout` passes (nil: never) or the call is cancelled.
    func open(_ method: HTTPMethod, _ path: String, body: [UInt8]? = nil, timeout: TimeAmount?,
              onBody: @escaping @Sendable (ByteBuffer) -> Void) async throws(EngineError) -> EngineCall {
        let loop = Self.group.next()
        let promise = loop.makePromise(of: Int.self)
        let bootstrap = ClientBootstrap(group: loop)
            .connectTimeout(.seconds(5))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(AnswerHandler(promise: promise, timeout: timeout, onBody: onBody))
                }
            }
        let channel: any Channel
        do {
            channel = try await bootstrap.connect(unixDomainSocketPath: endpoint.socketPath).get()
        } catch {
            promise.fail(EngineError("cannot reach the engine at unix://\(endpoint.socketPath): \(error)"))
            throw EngineError("cannot reach the engine at unix://\(endpoint.socketPath): \(error)")
        }
        var head = HTTPRequestHead(version: .http1_1, method: method, uri: Self.apiPrefix + path)
        head.headers.add(name: "Host", value: "localhost")
        head.headers.add(name: "User-Agent", value: "scw-mock")
        head.headers.add(name: "Connection", value: "close")
        if let body {
            head.headers.add(name: "Content-Type", value: "application/json")
            head.headers.add(name: "Content-Length", value: String(body.count))
        } else if method == .POST {
            head.headers.add(name: "Content-Length", value: "0")
        }
        channel.write(HTTPClientRequestPart.head(head), promise: nil)
        if let body, !body.isEmpty { channel.write(HTTPClientRequestPart.body(.byteBuffer(ByteBuffer(bytes: body))), promise: nil) }
        channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
        return EngineCall(channel: channel, done: promise.futureResult)
    }

    /// An answer's body being read (at most `limit` bytes kept), filled on the connection's event loop.
    private final class Collected: Sendable {
        let limit: Int
        private let state = Mutex<[UInt8]>([])
        init(limit: Int) { self.limit = limit }
        func add(_ buffer: ByteBuffer) {
            state.withLock { bytes in
                if bytes.count < limit { bytes += buffer.readableBytesView.prefix(limit - bytes.count) }
            }
        }
        var bytes: [UInt8] { state.withLock { $0 } }
    }

    /// Percent-encodes a path segment or query value (image names carry `/`, `:` and `@`, which stay as they are in
    /// a path; in a query value everything but unreserved characters is encoded).
    static func encode(_ text: String, query: Bool = false) -> String {
        var allowed = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~")
        if !query { allowed.insert(charactersIn: "/:@") }
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? ""
    }

    /// Completes the promise with the answer's status once it ended; fails it when the connection ends first, an
    /// error occurs or the deadline passes (then it closes the connection).
    private final class AnswerHandler: ChannelInboundHandler, RemovableChannelHandler {
        typealias InboundIn = HTTPClientResponsePart

        let promise: EventLoopPromise<Int>
        let timeout: TimeAmount?
        let onBody: @Sendable (ByteBuffer) -> Void
        var status: Int?
        var timer: Scheduled<Void>?

        init(promise: EventLoopPromise<Int>, timeout: TimeAmount?, onBody: @escaping @Sendable (ByteBuffer) -> Void) {
            self.promise = promise
            self.timeout = timeout
            self.onBody = onBody
        }

        func handlerAdded(context: ChannelHandlerContext) {
            guard let timeout else { return }
            let promise = self.promise
            let channel = context.channel
            timer = context.eventLoop.scheduleTask(in: timeout) {
                promise.fail(EngineError("the engine did not answer within \(timeout.nanoseconds / 1_000_000_000)s"))
                channel.close(promise: nil)
            }
        }

        func handlerRemoved(context: ChannelHandlerContext) {
            timer?.cancel()
            promise.fail(EngineError("the engine closed the connection"))
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head):
                status = Int(head.status.code)
            case .body(let buffer):
                onBody(buffer)
            case .end:
                timer?.cancel()
                promise.succeed(status ?? 0)
                context.close(promise: nil)
            }
        }

        func channelInactive(context: ChannelHandlerContext) {
            timer?.cancel()
            promise.fail(EngineError("the engine closed the connection"))
            context.fireChannelInactive()
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            promise.fail(EngineError("engine connection failed: \(error)"))
            context.close(promise: nil)
        }
    }
}

/// Splits the engine's log stream into stdout and stderr: without a TTY, Docker and Podman send frames of an 8-byte
/// header (stream 1 or 2, three zero bytes, the payload's length as a big-endian UInt32) and the payload; a stream
/// that does not start with such a header is taken as raw stdout.
final class LogDemultiplexer: Sendable {
    private let state = Mutex(Frames())

    /// Adds bytes received; returns the complete payloads, in order, with their stream's name.
    func feed(_ bytes: some Sequence<UInt8>) -> [(stream: String, payload: [UInt8])] {
        let copy = Array(bytes)
        return state.withLock { $0.feed(copy) }
    }
}

/// The framing state of `LogDemultiplexer`.
struct Frames {
    private var pending: [UInt8] = []
    private var raw: Bool?

    /// Adds bytes received; returns the complete payloads, in order, with their stream's name.
    mutating func feed(_ bytes: some Sequence<UInt8>) -> [(stream: String, payload: [UInt8])] {
        pending += bytes
        if raw == nil, let first = pending.first {
            if first > 2 {
                raw = true
            } else if pending.count >= 4 {
                raw = !(pending[1] == 0 && pending[2] == 0 && pending[3] == 0)
            }
        }
        guard let raw else { return [] }
        if raw {
            defer { pending.removeAll(keepingCapacity: true) }
            return pending.isEmpty ? [] : [("stdout", pending)]
        }
        var out: [(stream: String, payload: [UInt8])] = []
        var offset = 0
        while pending.count - offset >= 8 {
            let size = pending[(offset + 4)..<(offset + 8)].reduce(0) { $0 << 8 | Int($1) }
            guard pending.count - offset - 8 >= size else { break }
            let stream = pending[offset] == 2 ? "stderr" : "stdout"
            out.append((stream, Array(pending[(offset + 8)..<(offset + 8 + size)])))
            offset += 8 + size
        }
        pending.removeFirst(offset)
        return out
    }
}
