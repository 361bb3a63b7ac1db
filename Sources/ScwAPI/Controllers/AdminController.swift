import Foundation
import Hummingbird
import ScwDomain
import ScwEngine
import ScwKeys

/// What the mock's administration routes need from the application (implemented by the composition root).
public protocol MockAdministration: Sendable {
    /// Puts the store back to exactly the seeded state (`toEmpty`: the well-known identity only).
    func reset(toEmpty: Bool) async throws
    /// The whole store as a fixture document (JSON).
    func exportState() throws -> Data
    /// Every project of the store, with its organization (the console's overview).
    func projects() throws -> [Project]
    /// Applies a fixture document (JSON) at run time, through the same checks as `--seed`.
    func applySeed(_ body: Data) async throws
    /// The store's size and growth limit; with `limit`, changes it first (`.some(nil)` lifts it).
    func storage(limit: Int??) throws -> StorageState
}

/// Test-control routes under `/_mock` (no API key): reset, clock, request log, faults, forged tokens, OpenAPI.
struct AdminController {
    let admin: any MockAdministration
    let clock: MockClock
    let log: RequestLog
    let faults: FaultInjector
    let tokens: TokenService
    /// The OpenAPI document, encoded once (it only depends on the route tables).
    let document: @Sendable () -> ByteBuffer

    struct ClockState: ResponseEncodable, Sendable {
        var now: String
        var offset_seconds: Double
        var frozen: Bool
    }

    /// `POST /_mock/clock`: at most one of `advance_seconds` (forward) and `to` (any instant, past included), and/or
    /// `frozen`. Freezing comes first, so `{"frozen": true, "to": …}` pins the clock at exactly that instant.
    struct ClockChange: Decodable, Sendable {
        var advance_seconds: Double?
        var to: String?
        var frozen: Bool?
    }

    struct Faults: Codable, ResponseEncodable, Sendable {
        var faults: [FaultInjector.Rule]
    }

    struct Requests: ResponseEncodable, Sendable {
        var requests: [RequestLog.Entry]
    }

    struct ForgeRequest: Decodable, Sendable {
        var kind: String?
        var namespace_id: String?
        var container_id: String?
        var function_id: String?
    }

    struct Forged: ResponseEncodable, Sendable {
        var kind: String
        var token: String
    }

    /// `GET|PUT /_mock/storage`: `{"full": true}` stops the store from growing (writes answer 507, as on a full disk),
    /// `{"full": false}` lifts the limit, `{"max_page_count": N}` sets it.
    struct Storage: ResponseEncodable, Sendable {
        var page_size: Int
        var page_count: Int
        var max_page_count: Int
        var full: Bool
        init(_ state: StorageState) {
            page_size = state.pageSize
            page_count = state.pageCount
            max_page_count = state.maxPageCount
            full = state.maxPageCount <= state.pageCount
        }
    }

    struct StorageChange: Decodable, Sendable {
        var full: Bool?
        var max_page_count: Int?
    }

    struct Done: ResponseEncodable, Sendable {
        var status: String
        var duration_ms: Double
    }

    func mount(on routes: RouteTable<ScwRequestContext>) {
        routes.post("reset") { request, _ -> Done in
            let started = ContinuousClock.now
            let target = request.query("to")
            guard target == nil || target == "seed" || target == "empty" else { throw ScwError.invalid("to", .format, "to must be seed or empty") }
            try await admin.reset(toEmpty: target == "empty")
            log.clear()
            faults.clear()
            let elapsed = ContinuousClock.now - started
            return Done(status: "reset", duration_ms: Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15)
        }
        routes.get("clock") { _, _ in clockState() }
        routes.post("clock") { request, context -> ClockState in
            let body = try await WireJSON.decodeBody(ClockChange.self, from: request, context: context)
            switch (body.advance_seconds, body.to) {
            case (let seconds?, nil):
                guard seconds >= 0, seconds <= 100 * 365 * 86400 else {
                    throw ScwError.invalid("advance_seconds", .constraint, "advance_seconds must be 0 to 100 years; to go back, use to")
                }
                clock.setFrozen(body.frozen ?? clock.isFrozen)
                clock.advance(nanoseconds: Int64(seconds * 1e9))
            case (nil, let to?):
                guard let target = Timestamp.parseRFC3339(to) else { throw ScwError.invalid("to", .format, "to must be RFC 3339") }
                clock.setFrozen(body.frozen ?? clock.isFrozen)
                clock.set(to: target)
            case (nil, nil):
                guard let frozen = body.frozen else {
                    throw ScwError.invalid("advance_seconds", .required, "give advance_seconds or to, and/or frozen")
                }
                clock.setFrozen(frozen)
            default:
                throw ScwError.invalid("advance_seconds", .constraint, "give at most one of advance_seconds and to")
            }
            return clockState()
        }
        routes.get("requests") { request, _ -> Requests in
            let limit = request.query("limit").map { Int($0) ?? 0 } ?? 100
            guard (1...1000).contains(limit) else { throw ScwError.invalid("limit", .constraint, "limit must be 1-1000") }
            var status: Int?
            if let raw = request.query("status") {
                guard let value = Int(raw), (100...599).contains(value) else { throw ScwError.invalid("status", .format, "status must be an HTTP status code (100-599)") }
                status = value
            }
            return Requests(requests: log.query(method: request.query("method"), pathPrefix: request.query("path"),
                                                status: status, accessKey: request.query("access_key"),
                                                limit: limit))
        }
        routes.get("faults") { _, _ in Faults(faults: faults.current()) }
        routes.put("faults") { request, context -> Faults in
            let body = try await WireJSON.decodeBody(Faults.self, from: request, context: context)
            try faults.set(body.faults)
            return Faults(faults: faults.current())
        }
        routes.delete("faults") { _, _ -> Faults in
            faults.clear()
            return Faults(faults: [])
        }
        routes.post("tokens/forge") { request, context -> Forged in
            let body = try await WireJSON.decodeBody(ForgeRequest.self, from: request, context: context)
            guard let raw = body.kind, let kind = TokenForger.Kind(rawValue: raw) else {
                throw ScwError.invalid("kind", .format, "kind must be one of \(TokenForger.Kind.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            let app = body.container_id ?? body.function_id
            guard (body.namespace_id == nil) != (app == nil) else {
                throw ScwError.invalid("namespace_id", .constraint, "exactly one of namespace_id, container_id and function_id must be set")
            }
            let token = try await tokens.forge(kind, api: body.function_id != nil ? .functions : .containers,
                                               request: .init(namespaceID: try bodyID(body.namespace_id, argument: "namespace_id"),
                                                              applicationID: app, description: nil, expiresAt: nil))
            return Forged(kind: kind.rawValue, token: token)
        }
        routes.get("storage") { _, _ in Storage(try admin.storage(limit: nil)) }
        routes.put("storage") { request, context -> Storage in
            let body = try await WireJSON.decodeBody(StorageChange.self, from: request, context: context)
            switch (body.full, body.max_page_count) {
            case (true?, nil): return Storage(try admin.storage(limit: .some(0)))
            case (false?, nil): return Storage(try admin.storage(limit: .some(nil)))
            case (nil, let pages?) where pages >= 1: return Storage(try admin.storage(limit: .some(pages)))
            case (nil, _?): throw ScwError.invalid("max_page_count", .constraint, "max_page_count must be at least 1")
            default: throw ScwError.invalid("full", .required, "give exactly one of full and max_page_count")
            }
        }
        routes.get("openapi.json") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: document()))
        }
        routes.get("state") { _, _ -> Response in
            Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: try admin.exportState())))
        }
        routes.post("seed") { request, _ -> Done in
            let started = ContinuousClock.now
            let body = try await request.body.collect(upTo: WireJSON.maxBodyBytes)
            try await admin.applySeed(Data(body.readableBytesView))
            let elapsed = ContinuousClock.now - started
            return Done(status: "seeded", duration_ms: Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15)
        }
    }

    private func clockState() -> ClockState {
        ClockState(now: clock.now().rfc3339(fractionDigits: 6), offset_seconds: Double(clock.offsetNanoseconds) / 1e9, frozen: clock.isFrozen)
    }
}
