import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOHTTP1
import ScwDomain
import Synchronization

/// Outermost middleware: every response gets a request id, JSON content type and the security headers
/// Scaleway's gateway sends; any error becomes a JSON body through `ErrorRenderer`.
public struct GatewayMiddleware: RouterMiddleware {
    public typealias Context = ScwRequestContext
    let log: RequestLog
    let faults: FaultInjector
    let clock: any WallClock

    /// Creates the middleware.
    public init(log: RequestLog, faults: FaultInjector, clock: any WallClock) {
        self.log = log
        self.faults = faults
        self.clock = clock
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let started = ContinuousClock.now
        let path = request.uri.path
        let isAPI = !path.hasPrefix("/_mock")
        var response: Response
        do {
            if isAPI, let fault = faults.decide(method: request.method.rawValue, path: path) {
                if fault.latencyMilliseconds > 0 { try await Task.sleep(for: .milliseconds(fault.latencyMilliseconds)) }
                if let status = fault.status {
                    return finish(ErrorRenderer.response(ErrorRenderer.render(injectedStatus: status, method: request.method, path: path)),
                                       request, context, started: started, isAPI: isAPI)
                }
            }
            response = try await next(request, context)
        } catch let error as ScwError {
            response = ErrorRenderer.response(ErrorRenderer.render(error, dialect: ErrorDialect(path: request.uri.path), method: request.method))
        } catch let error as HTTPError {
            response = ErrorRenderer.response(ErrorRenderer.render(httpStatus: error.status, method: request.method.rawValue, path: request.uri.path))
        } catch let error as HTTPParserError {
            // A malformed request (e.g. a bad chunk size in the body): the HTTP layer answers 400 and closes the connection.
            throw error
        } catch {
            // Last resort: a stray error is a bug; log the detail, answer a generic 500.
            context.logger.error("unhandled error", metadata: ["error": "\(String(reflecting: error))", "path": "\(request.uri.path)"])
            response = ErrorRenderer.response(ErrorRenderer.render(httpStatus: .internalServerError, method: request.method.rawValue, path: request.uri.path))
        }
        return finish(response, request, context, started: started, isAPI: isAPI)
    }

    /// Stamps what every answer carries and records the call.
    private func finish(_ response: Response, _ request: Request, _ context: Context, started: ContinuousClock.Instant, isAPI: Bool) -> Response {
        var response = response
        // JSON bodies say exactly `application/json`, as Scaleway's gateway does; other bodies (PEM) keep theirs.
        let type = response.headers[.contentType]
        if type.map({ $0 != "application/json" && $0.hasPrefix("application/json") }) ?? true {
            response.headers[.contentType] = "application/json"
        }
        let requestID = EdgeHeaders.requestID()
        EdgeHeaders.stamp(&response.headers, requestID: requestID)
        let accessKey = context.accessKey.value
        context.logger.debug("request", metadata: [
            "method": "\(request.method.rawValue)", "path": "\(request.uri.path)", "status": "\(response.status.code)", "access_key": "\(accessKey)",
        ])
        if isAPI {
            let elapsed = ContinuousClock.now - started
            log.record(.init(at: clock.now(), method: request.method.rawValue,
                             path: RequestLog.redacted(path: request.uri.path, query: request.uri.query), status: Int(response.status.code),
                             access_key: accessKey, request_id: requestID,
                             duration_ms: Double(elapsed.components.attoseconds / 1_000_000_000_000) / 1000 + Double(elapsed.components.seconds) * 1000))
        }
        return response
    }
}

/// The headers Scaleway's gateway puts on every answer: the one list used by `GatewayMiddleware`
/// for the router's answers and by `ConnectionGuard` for the answers it gives before a request reaches the router.
enum EdgeHeaders {
    /// Security headers, in the order the real gateway sends them.
    static let security: [(HTTPField.Name, String)] = [
        (.contentSecurityPolicy, "default-src 'none'; frame-ancestors 'none'"),
        (.strictTransportSecurity, "max-age=63072000"),
        (HTTPField.Name("X-Content-Type-Options")!, "nosniff"),
        (HTTPField.Name("X-Frame-Options")!, "DENY"),
    ]
    static let requestIDName = HTTPField.Name("X-Request-Id")!

    /// The security headers as fields, built (and their values checked) once.
    private static let securityFields = security.map { HTTPField(name: $0.0, value: $0.1) }

    /// Puts the security headers and the request id on an answer, replacing any of the same name in place.
    static func stamp(_ headers: inout HTTPFields, requestID: String) {
        if headers.contains(where: { field in field.name == requestIDName || securityFields.contains { $0.name == field.name } }) {
            for (name, value) in security { headers[name] = value }
            headers[values: requestIDName] = [requestID]
        } else {
            // Most answers have none of them: the prepared fields are appended without checking their values again.
            headers.append(contentsOf: securityFields)
            headers.append(HTTPField(name: requestIDName, value: requestID))
        }
    }

    /// A random (version 4) UUID for `X-Request-Id`: the gateway's generator, seeded once from the system's and shared
    /// (a `getrandom` call and the formatting arrays per answer were 3% of a cheap read).
    static func requestID() -> String { requestIDs.withLock { $0.next() } }

    private static let requestIDs = Mutex(RequestIDs())
}

/// Requires a valid `X-Auth-Token` on every API route and puts the caller's principal in the context.
/// The token is never logged.
public struct AuthMiddleware: RouterMiddleware {
    public typealias Context = ScwRequestContext
    let authenticator: Authenticating

    /// Creates the middleware.
    public init(authenticator: Authenticating) {
        self.authenticator = authenticator
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let values = request.headers[values: Self.authToken]
        // Two X-Auth-Token headers are refused: the gateway and a backend could read different ones.
        let token = values.count == 1 ? values[0] : nil
        let principal = try authenticator.authenticate(secretKey: token)
        var context = context
        context.principal = principal
        // The access key reaches the request log and its debug line through the context's box; no logger metadata copy
        // per request.
        context.accessKey.value = principal.accessKey
        return try await next(request, context)
    }

    private static let authToken = HTTPField.Name("X-Auth-Token")!
}

/// What `AuthMiddleware` needs from the engine.
public protocol Authenticating: Sendable {
    /// The principal of a secret key, or `ScwError.deniedAuthentication`.
    func authenticate(secretKey: String?) throws(ScwError) -> Principal
}
