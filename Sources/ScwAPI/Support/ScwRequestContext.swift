import Foundation
import Hummingbird
import NIOCore
import ScwDomain

/// The request context of every route: the shared JSON coders and, once `AuthMiddleware` ran, the caller.
public struct ScwRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The authenticated API key's principal; set by `AuthMiddleware` on API routes.
    public var principal: Principal?
    /// The client's IP address (for `X-Forwarded-For` at the gateway).
    public let remoteIP: String?

    /// Builds a context for a new request.
    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.principal = nil
        self.remoteIP = source.channel.remoteAddress?.ipAddress
    }

    /// Bodies are collected up to this size; more is a 413 (100 secrets of 64 KiB must still fit).
    public var maxUploadSize: Int { WireJSON.maxBodyBytes }
    public var requestDecoder: JSONDecoder { WireJSON.decoder }
    public var responseEncoder: JSONEncoder { WireJSON.encoder }

    /// The caller; only absent on routes that are not behind `AuthMiddleware` (a wiring bug, hence a 500).
    func requirePrincipal() throws -> Principal {
        guard let principal else { throw HTTPError(.internalServerError) }
        return principal
    }
}
