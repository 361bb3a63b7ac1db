import Foundation
import Hummingbird
import ScwDomain

/// Which API's error wording applies; taken from the request path so every layer shares one rule.
public enum ErrorDialect: Sendable {
    /// Containers v1beta1: untyped `{"message":"Namespace was not found"}` 404s.
    case containersV1Beta1
    /// Functions v1beta1: the same untyped 404s.
    case functionsV1Beta1
    /// Containers v1: typed `not_found` 404s.
    case containersV1
    /// The mock's own `/_mock` routes and unknown paths: typed bodies.
    case mock

    /// The dialect of a request path.
    public init(path: String) {
        if path.hasPrefix("/containers/v1beta1/") { self = .containersV1Beta1 }
        else if path.hasPrefix("/containers/v1/") { self = .containersV1 }
        else if path.hasPrefix("/functions/v1beta1/") { self = .functionsV1Beta1 }
        else { self = .mock }
    }
}

/// The only place that knows status codes and error JSON. Shapes are the ones Scaleway answers with, as
/// scaleway-sdk-go's `scw/errors.go` parses them.
public enum ErrorRenderer {
    /// Status and body for a domain error in a dialect.
    public static func render(_ error: ScwError, dialect: ErrorDialect, method: HTTPRequest.Method = .get) -> (HTTPResponse.Status, any Encodable & Sendable) {
        switch error {
        case .invalidArguments(let problems):
            return (.badRequest, InvalidArgumentsBody(
                details: problems.map { .init(argument_name: $0.argumentName, reason: $0.reason.rawValue, help_message: $0.helpMessage) },
                message: "invalid argument(s)", type: "invalid_arguments"))
        case .notFound(let kind, let id):
            switch dialect {
            case .containersV1Beta1, .functionsV1Beta1:
                // v1beta1 triggers word it their own way.
                if kind == .trigger {
                    return (.notFound, MessageBody(message: method == .delete ? "trigger does not exist: could not find trigger with id \(id)" : "trigger does not exist"))
                }
                return (.notFound, MessageBody(message: "\(kind.title) was not found"))
            case .containersV1, .mock:
                return (.notFound, NotFoundBody(message: "resource is not found", resource: kind.rawValue, resource_id: id, type: "not_found"))
            }
        case .permissionsDenied(let details):
            return (.forbidden, PermissionsDeniedBody(
                details: details.map { .init(action: $0.action, resource: $0.resource) },
                message: "insufficient permissions", type: "permissions_denied"))
        case .deniedAuthentication(let reason):
            return (.unauthorized, DeniedAuthenticationBody(message: "authentication is denied", method: "api_key",
                                                            reason: reason.rawValue, type: "denied_authentication"))
        case .transientState(let kind, let id, let state):
            // v1beta1 says `pending` where v1 says `creating` or `updating`.
            let shown = dialect == .containersV1 || dialect == .mock || !["creating", "updating"].contains(state) ? state : "pending"
            return (.conflict, TransientStateBody(current_state: shown, message: "resource is in a transient state",
                                                  resource: kind.rawValue, resource_id: id, type: "transient_state"))
        case .alreadyExists(let kind, _):
            // Observed: functions POST namespace with a taken name → 409 {"message":"Namespace already exist"}.
            return (.conflict, MessageBody(message: "\(kind.title) already exist"))
        case .quotasExceeded(let resource, let quota, let current):
            return (.forbidden, QuotasExceededBody(details: [.init(current: current, quota: quota, resource: resource)],
                                                   message: "quota(s) exceeded for this resource", type: "quotas_exceeded"))
        case .preconditionFailed(let precondition, let help):
            return (.preconditionFailed, PreconditionFailedBody(help_message: help, message: "precondition is not respected",
                                                                precondition: precondition, type: "precondition_failed"))
        case .badRequest(let message):
            return (.badRequest, MessageBody(message: message))
        case .unavailable(let message):
            return (.serviceUnavailable, MessageBody(message: message))
        case .insufficientStorage(let message):
            return (.init(code: 507, reasonPhrase: "Insufficient Storage"), MessageBody(message: message))
        }
    }

    /// Status and body for HTTP-level failures (unknown route, wrong method, body too large, parse errors).
    public static func render(httpStatus status: HTTPResponse.Status, method: String, path: String) -> (HTTPResponse.Status, any Encodable & Sendable) {
        switch status {
        case .notFound:
            return (.notFound, NotFoundBody(message: "resource is not found", resource: "route", resource_id: "\(method) \(path)", type: "not_found"))
        case .methodNotAllowed:
            return (.methodNotAllowed, TypedMessageBody(message: "method \(method) is not allowed on \(path)", type: "method_not_allowed"))
        case .contentTooLarge:
            return (.contentTooLarge, TypedMessageBody(message: "request body is larger than \(WireJSON.maxBodyBytes) bytes", type: "request_too_large"))
        case .internalServerError:
            return (.internalServerError, TypedMessageBody(message: "internal error", type: "internal"))
        default:
            return (status, TypedMessageBody(message: status.reasonPhrase.lowercased(), type: "invalid_request"))
        }
    }

    /// Status and body for a fault injected with `PUT /_mock/faults`: Scaleway's body for that status on that path.
    public static func render(injectedStatus status: Int, method: HTTPRequest.Method, path: String) -> (HTTPResponse.Status, any Encodable & Sendable) {
        if let error = FaultInjector.error(status: status, path: path) {
            return render(error, dialect: ErrorDialect(path: path), method: method)
        }
        let code = HTTPResponse.Status(code: status)
        switch status {
        case 429: return (code, TypedMessageBody(message: "too many requests", type: "too_many_requests"))
        // Recorded on the real API.
        case 503: return (code, MessageBody(message: "error while authenticating, please retry later"))
        case 500...599: return (code, MessageBody(message: "internal error"))
        default: return (code, MessageBody(message: code.reasonPhrase.lowercased()))
        }
    }

    /// What the edge answers itself, before any route or process: the gateway's refusals and failures, and the
    /// connection guard's (ConnectionGuard) refusals of requests that never reached a route.
    public enum EdgeRefusal: Sendable {
        case unknownApplication(id: String)
        case denied(reason: String)
        case notRunning(kind: String, id: String)
        case timedOut(kind: String, seconds: Int)
        case closed(kind: String, detail: String)
        case badFraming(String)
        case tooLarge(limit: Int)
        case headersTooLarge
        case requestTimeout(seconds: Int)
        /// `Host` names neither this server nor one of its applications (DNS rebinding).
        case hostNotAllowed(String)
        /// A browser's cross-site request (`Origin` or `Sec-Fetch-Site`) to the API or `/_mock`.
        case crossSite(String)
        /// A `/_mock` call without the `--control-token` value in `X-Mock-Token`.
        case controlTokenRequired
    }

    /// Status and JSON body of an edge refusal.
    public static func render(_ refusal: EdgeRefusal) -> (HTTPResponse.Status, Data) {
        let (status, body): (HTTPResponse.Status, any Encodable & Sendable) = switch refusal {
        case .unknownApplication(let id): (.notFound, TypedMessageBody(message: "no container or function \(id)", type: "not_found"))
        case .denied(let reason): (.forbidden, TypedMessageBody(message: reason, type: "permissions_denied"))
        case .notRunning(let kind, let id):
            (.serviceUnavailable, MessageBody(message: "the \(kind) is not running (deploy it, or see /_mock/\(kind)s/\(id)/logs)"))
        case .timedOut(let kind, let seconds): (.gatewayTimeout, MessageBody(message: "the \(kind) did not answer within its timeout (\(seconds)s)"))
        case .closed(let kind, let detail): (.badGateway, MessageBody(message: "the \(kind) closed the connection: \(detail)"))
        case .badFraming(let message): (.badRequest, TypedMessageBody(message: message, type: "invalid_request"))
        case .tooLarge(let limit): (.contentTooLarge, TypedMessageBody(message: "request body is larger than \(limit) bytes", type: "request_too_large"))
        case .headersTooLarge:
            (.init(code: 431, reasonPhrase: "Request Header Fields Too Large"),
             TypedMessageBody(message: "the request's headers are larger than the server accepts", type: "request_too_large"))
        case .requestTimeout(let seconds):
            (.requestTimeout, TypedMessageBody(message: "the request was not received in full within \(seconds)s", type: "request_timeout"))
        case .hostNotAllowed(let host):
            (.forbidden, TypedMessageBody(
                message: "host \(host) is not allowed: this server answers for localhost, IP addresses, its --host and the names given with --allowed-host (env SCW_MOCK_ALLOWED_HOSTS)",
                type: "permissions_denied"))
        case .crossSite(let origin):
            (.forbidden, TypedMessageBody(
                message: "cross-site request refused (\(origin)): browsers may reach the API and /_mock only from a page on an allowed host (--allowed-host)",
                type: "permissions_denied"))
        case .controlTokenRequired:
            (.unauthorized, TypedMessageBody(message: "X-Mock-Token is missing or wrong: this server was started with --control-token (env SCW_MOCK_CONTROL_TOKEN)",
                                             type: "denied_authentication"))
        }
        return (status, (try? WireJSON.encoder.encode(body)) ?? Data(#"{"message":"internal error"}"#.utf8))
    }

    /// A JSON response for a rendered error.
    public static func response(_ rendered: (HTTPResponse.Status, any Encodable & Sendable)) -> Response {
        let data = (try? WireJSON.encoder.encode(rendered.1)) ?? Data(#"{"message":"internal error"}"#.utf8)
        var headers: HTTPFields = [.contentType: "application/json"]
        // The rest of a body too large to read is not read: the connection closes after the answer (ConnectionGuard).
        if rendered.0 == .contentTooLarge { headers[.connection] = "close" }
        return Response(status: rendered.0, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}

// Error bodies, field names exactly as Scaleway sends them.
struct MessageBody: Encodable, Sendable { var message: String }
struct TypedMessageBody: Encodable, Sendable { var message: String; var type: String }
struct NotFoundBody: Encodable, Sendable { var message, resource, resource_id, type: String }
struct InvalidArgumentsBody: Encodable, Sendable {
    struct Detail: Encodable, Sendable { var argument_name, reason, help_message: String }
    var details: [Detail]; var message, type: String
}
struct PermissionsDeniedBody: Encodable, Sendable {
    struct Detail: Encodable, Sendable { var action, resource: String }
    var details: [Detail]; var message, type: String
}
struct DeniedAuthenticationBody: Encodable, Sendable { var message, method, reason, type: String }
struct TransientStateBody: Encodable, Sendable { var current_state, message, resource, resource_id, type: String }
struct QuotasExceededBody: Encodable, Sendable {
    struct Detail: Encodable, Sendable { var current: Int; var quota: Int; var resource: String }
    var details: [Detail]; var message, type: String
}
struct PreconditionFailedBody: Encodable, Sendable { var help_message, message, precondition, type: String }
