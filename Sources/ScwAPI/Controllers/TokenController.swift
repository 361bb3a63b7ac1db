import Foundation
import HTTPTypes
import Hummingbird
import ScwDomain
import ScwEngine

/// Tokens of containers v1beta1 and functions v1beta1, and the legacy `GET …/issue-jwt`.
struct TokenController {
    let api: TokenAPI
    let service: TokenService
    let clock: any WallClock

    /// The wire name of the application id (`container_id` or `function_id`).
    var applicationArgument: String { api.namespaceKind.applicationArgument }

    /// Mounts the routes on a `/…/v1beta1/regions/{region}` group.
    func mount(on routes: RouteTable<APIRequestContext>) {
        routes.post("tokens", create)
        routes.get("tokens", list)
        routes.get("tokens/:token_id", get)
        routes.delete("tokens/:token_id", delete)
        routes.get("issue-jwt", issueJWT)
    }

    @Sendable func create(_ request: Request, context: APIRequestContext) async throws -> EditedResponse<V1Beta1.Token> {
        let body = try await WireJSON.decodeBody(V1Beta1.CreateTokenRequest.self, from: request, context: context)
        let appID = body.applicationID(api)
        let issued = try await service.create(
            api: api, region: try context.region(),
            request: .init(namespaceID: try bodyID(body.namespace_id, argument: "namespace_id"),
                           applicationID: try appID.map { try validatedApplicationID($0) }, description: body.description,
                           expiresAt: body.expires_at),
            by: context.principal)
        return Self.dated(.init(issued.token, disclosure: .issued(jwt: issued.jwt, publicKey: issued.publicKeyPEM), status: "creating"),
                          at: issued.token.createdAt)
    }

    @Sendable func issueJWT(_ request: Request, context: APIRequestContext) async throws -> EditedResponse<V1Beta1.Token> {
        // The 2021 docs' query form; the serverless framework plugin sent `expiration_date`. Either API takes
        // `namespace_id`, `container_id` or `function_id` of both products: Scaleway's "Restricting
        // access to a container" page issues a containers namespace's token through the functions API.
        var application: (id: String, api: TokenAPI)?
        for product in [api] + [TokenAPI.containers, .functions].filter({ $0 != api }) {
            let argument = product.namespaceKind.applicationArgument
            guard let raw = request.query(argument) else { continue }
            let id = try validatedApplicationID(raw, argument: argument)
            if application != nil {
                throw ScwError.invalid(argument, .constraint, "exactly one of namespace_id, container_id and function_id must be set")
            }
            application = (id, product)
        }
        let issued = try await service.issueLegacy(
            api: api, region: try context.region(),
            request: .init(namespaceID: try request.queryID("namespace_id"), applicationID: application?.id,
                           description: nil, expiresAt: request.query("expires_at") ?? request.query("expiration_date"),
                           applicationAPI: application?.api),
            by: context.principal)
        return Self.dated(.init(issued.token, disclosure: .issued(jwt: issued.jwt, publicKey: issued.publicKeyPEM), status: "ready"),
                          at: issued.token.createdAt)
    }

    /// A token's `iat` is its response's `Date`, as on Scaleway: the response names its `Date`, the issue instant (in
    /// `X-Scw-Mock-Date`, which `ExplicitDateHandler` moves into `Date` over Hummingbird's cached one).
    static func dated(_ token: V1Beta1.Token, at issued: Timestamp) -> EditedResponse<V1Beta1.Token> {
        EditedResponse(headers: [.scwMockDate: httpDate(unixSeconds: issued.unixSeconds)], response: token)
    }

    /// An HTTP-date (RFC 9110 IMF-fixdate), e.g. `Tue, 05 May 2026 14:42:11 GMT`.
    static func httpDate(unixSeconds: Int64) -> String {
        var t = time_t(unixSeconds), parts = tm()
        gmtime_r(&t, &parts)
        var buffer = [CChar](repeating: 0, count: 64)
        let count = strftime(&buffer, buffer.count, "%a, %d %b %Y %H:%M:%S GMT", &parts)
        return String(decoding: buffer.prefix(count).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    @Sendable func get(_ request: Request, context: APIRequestContext) async throws -> V1Beta1.Token {
        let token = try service.get(try context.id("token_id"), api: api, region: try context.region(), by: context.principal)
        return .init(token, disclosure: .hidden, status: token.status(at: clock.now()))
    }

    @Sendable func list(_ request: Request, context: APIRequestContext) async throws -> V1Beta1.ListTokensResponse {
        let page = try service.list(
            api: api, region: try context.region(), namespaceID: try request.queryID("namespace_id"),
            applicationID: try request.query(applicationArgument).map { try validatedApplicationID($0) },
            page: try request.pageRequest(orders: creationOrders), by: context.principal)
        let now = clock.now()
        return .init(tokens: page.items.map { .init($0, disclosure: .hidden, status: $0.status(at: now)) }, total_count: page.totalCount)
    }

    @Sendable func delete(_ request: Request, context: APIRequestContext) async throws -> V1Beta1.Token {
        let token = try service.delete(try context.id("token_id"), api: api, region: try context.region(), by: context.principal)
        return .init(token, disclosure: .deleted, status: "deleting")
    }

    private func validatedApplicationID(_ raw: String, argument: String? = nil) throws -> String {
        let argument = argument ?? applicationArgument
        guard let id = Identifier<Never>(raw) else { throw ScwError.invalid(argument, .format, "\(argument) must be a UUID") }
        return id.rawValue
    }
}

extension HTTPField.Name {
    /// Internal: the `Date` a response must carry instead of Hummingbird's cached one (see `TokenController.dated`).
    static let scwMockDate = Self("X-Scw-Mock-Date")!
}
