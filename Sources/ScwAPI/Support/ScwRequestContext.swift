import Foundation
import Hummingbird
import NIOCore
import ScwDomain

/// The request context of every route: the shared JSON coders and, once `AuthMiddleware` ran, the caller.
public struct ScwRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The authenticated API key's principal; set by `AuthMiddleware` on API routes.
    public var principal: Principal?
    /// The caller's access key once `AuthMiddleware` knows it, for the request log written on the way out.
    let accessKey = AccessKeyBox()

    /// Builds a context for a new request.
    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.principal = nil
    }

    /// Bodies are collected up to this size; more is a 413 (100 secrets of 64 KiB must still fit).
    public var maxUploadSize: Int { WireJSON.maxBodyBytes }
    public var requestDecoder: JSONDecoder { WireJSON.decoder }
    public var responseEncoder: WireJSONEncoder { WireJSON.encoder }

}

/// The context of every API route: the same, with the caller known. The API groups convert to it after
/// `AuthMiddleware`, so a handler cannot run without a principal: an API route that is not behind the middleware has no
/// principal to convert, and answers as a request without a key does.
public struct APIRequestContext: ChildRequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The authenticated API key's principal.
    public let principal: Principal
    public init(context: ScwRequestContext) throws {
        guard let principal = context.principal else { throw ScwError.deniedAuthentication(.invalidArgument) }
        // The parent's storage as it is: the router has already put the path's parameters there.
        self.coreContext = context.coreContext
        self.principal = principal
    }

    public var maxUploadSize: Int { WireJSON.maxBodyBytes }
    public var requestDecoder: JSONDecoder { WireJSON.decoder }
    public var responseEncoder: WireJSONEncoder { WireJSON.encoder }
}
