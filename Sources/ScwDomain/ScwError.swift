/// The one error type of the mock. Cases follow Scaleway's error `type` values (scaleway-sdk-go `scw/errors.go`);
/// the API layer's `ErrorRenderer` is the only place that turns them into statuses and JSON bodies.
public enum ScwError: Error, Sendable, Equatable {
    /// 400 `invalid_arguments`: one entry per offending argument.
    case invalidArguments([ArgumentProblem])
    /// 404: the resource does not exist (rendered per API: untyped message in v1beta1, typed in v1).
    case notFound(ResourceKind, id: String)
    /// 403 `permissions_denied`: the API key may not act on that project.
    case permissionsDenied([PermissionDetail])
    /// 401 `denied_authentication` with Scaleway's `reason`.
    case deniedAuthentication(AuthenticationFailure)
    /// 409 `transient_state`: the resource is busy with an earlier change.
    case transientState(ResourceKind, id: String, currentState: String)
    /// 409: a resource of that kind and name already exists where names must be unique.
    case alreadyExists(ResourceKind, name: String)
    /// 403 `quotas_exceeded`.
    case quotasExceeded(resource: String, quota: Int, current: Int)
    /// 412 `precondition_failed`.
    case preconditionFailed(precondition: String, help: String)
    /// 400 with only a message: the untyped refusals Scaleway's serverless APIs answer for some rules
    /// (e.g. the private-network rule recorded in 2025).
    case badRequest(String)
    /// 503: the store could not be reached in time (busy, locked); the request may be retried.
    case unavailable(String)
    /// 507: the store cannot grow (disk full, or the `/_mock/storage` limit); nothing was written, reads still work.
    case insufficientStorage(String)

    /// Convenience for a single invalid argument.
    public static func invalid(_ argument: String, _ reason: ArgumentProblem.Reason, _ help: String) -> ScwError {
        .invalidArguments([ArgumentProblem(argumentName: argument, reason: reason, helpMessage: help)])
    }
}

/// One entry of an `invalid_arguments` error's `details`.
public struct ArgumentProblem: Sendable, Equatable {
    /// Scaleway's `reason` values.
    public enum Reason: String, Sendable {
        case required, format, constraint, unknown
    }
    /// The wire name of the argument (`name`, `environment_variables.FOO`, `page_size`).
    public var argumentName: String
    /// Why it was refused.
    public var reason: Reason
    /// A human sentence.
    public var helpMessage: String

    /// Creates an entry.
    public init(argumentName: String, reason: Reason, helpMessage: String) {
        self.argumentName = argumentName
        self.reason = reason
        self.helpMessage = helpMessage
    }
}

/// One entry of a `permissions_denied` error's `details`.
public struct PermissionDetail: Sendable, Equatable {
    /// `read` or `write`.
    public var action: String
    /// The resource kind, e.g. `namespace`.
    public var resource: String

    /// Creates an entry.
    public init(action: String, resource: String) {
        self.action = action
        self.resource = resource
    }
}

/// Scaleway's `reason` for a `denied_authentication` error.
public enum AuthenticationFailure: String, Sendable {
    /// Missing or malformed `X-Auth-Token`.
    case invalidArgument = "invalid_argument"
    /// Well-formed but unknown secret key.
    case notFound = "not_found"
    /// The key has expired.
    case expired
}

/// The kinds of resources the mock serves, with the wire names used in error bodies.
public enum ResourceKind: String, Sendable {
    case namespace, container, function, token, cron, domain, trigger
    /// Registry v1's images and tags, and IAM's API keys.
    case image, tag
    case apiKey = "api_key"

    /// The capitalised word v1beta1 uses in `"<Kind> was not found"`.
    public var title: String { rawValue.prefix(1).uppercased() + rawValue.dropFirst() }
}
