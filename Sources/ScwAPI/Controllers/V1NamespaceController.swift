import Hummingbird
import ScwDomain
import ScwEngine

/// Namespaces of containers v1: the same container namespaces as v1beta1, in v1's shape.
struct V1NamespaceController {
    let service: NamespaceService

    /// Mounts the routes on the `/containers/v1/regions/{region}` group.
    func mount(on routes: RouteTable<APIRequestContext>) {
        routes.get("namespaces", list)
        routes.post("namespaces", create)
        routes.get("namespaces/:namespace_id", get)
        routes.patch("namespaces/:namespace_id", update)
        routes.delete("namespaces/:namespace_id", delete)
    }

    @Sendable func list(_ request: Request, context: APIRequestContext) async throws -> V1.ListNamespacesResponse {
        // Recorded v1 behaviour: the `name` filter is ignored (a GET namespaces?name=… returned all 7 namespaces).
        let page = try service.list(
            kind: .container, region: try context.region(), name: nil,
            projectID: try request.queryID("project_id"), organizationID: try request.queryID("organization_id"),
            page: try request.pageRequest(), by: context.principal)
        return .init(namespaces: page.items.map(V1.Namespace.init), total_count: page.totalCount)
    }

    @Sendable func create(_ request: Request, context: APIRequestContext) async throws -> V1.Namespace {
        let body = try await WireJSON.decodeBody(V1.CreateNamespaceRequest.self, from: request, context: context)
        guard let name = body.name else { throw ScwError.invalid("name", .required, "required key not provided") }
        let draft = NamespaceDraft(
            name: name, projectID: try bodyID(body.project_id, argument: "project_id"), description: body.description,
            environmentVariables: body.environment_variables ?? [:],
            secrets: (body.secret_environment_variables ?? [:]).sorted { $0.key < $1.key }.map { ($0.key, $0.value) },
            tags: body.tags ?? [], activateVPCIntegration: false, hashProfile: .containersV1)
        return .init(try await service.create(kind: .container, region: try context.region(), draft: draft, by: context.principal))
    }

    @Sendable func get(_ request: Request, context: APIRequestContext) async throws -> V1.Namespace {
        .init(try service.get(try context.id("namespace_id"), kind: .container, region: try context.region(), by: context.principal))
    }

    @Sendable func update(_ request: Request, context: APIRequestContext) async throws -> V1.Namespace {
        let id: NamespaceID = try context.id("namespace_id")
        let region = try context.region()
        let body = try await WireJSON.decodeBody(V1.UpdateNamespaceRequest.self, from: request, context: context)
        // v1 replaces the whole map; "" keeps the current secret.
        let secrets: SecretChange = body.secret_environment_variables.map { .replace($0) } ?? .unchanged
        let change = NamespaceChange(description: body.description, environmentVariables: body.environment_variables,
                                     secrets: secrets, tags: body.tags, hashProfile: .containersV1)
        return .init(try await service.update(id, kind: .container, region: region, change: change, by: context.principal))
    }

    @Sendable func delete(_ request: Request, context: APIRequestContext) async throws -> V1.Namespace {
        .init(try await service.delete(try context.id("namespace_id"), kind: .container, region: try context.region(), by: context.principal))
    }
}
