import Hummingbird
import ScwDomain
import ScwEngine

/// Namespaces of containers v1beta1 and functions v1beta1 (same routes and shape, different kinds).
struct V1Beta1NamespaceController {
    let kind: NamespaceKind
    let service: NamespaceService

    /// Mounts the routes on a `/…/v1beta1/regions/{region}` group.
    func mount(on routes: RouteTable<APIRequestContext>) {
        routes.get("namespaces", list)
        routes.post("namespaces", create)
        routes.get("namespaces/:namespace_id", get)
        routes.patch("namespaces/:namespace_id", update)
        routes.delete("namespaces/:namespace_id", delete)
    }

    @Sendable func list(_ request: Request, context: APIRequestContext) async throws -> V1Beta1.ListNamespacesResponse {
        let page = try service.list(
            kind: kind, region: try context.region(), name: request.query("name"),
            projectID: try request.queryID("project_id"), organizationID: try request.queryID("organization_id"),
            page: try request.pageRequest(), by: context.principal)
        return .init(namespaces: page.items.map { .init($0, written: false) }, total_count: page.totalCount)
    }

    @Sendable func create(_ request: Request, context: APIRequestContext) async throws -> V1Beta1.Namespace {
        let body = try await WireJSON.decodeBody(V1Beta1.CreateNamespaceRequest.self, from: request, context: context)
        var secrets: [(key: String, value: String)] = []
        for secret in body.secret_environment_variables ?? [] {
            guard let value = secret.value else {
                throw ScwError.invalid("secret_environment_variables.\(secret.key).value", .required, "a secret needs a value")
            }
            secrets.append((secret.key, value))
        }
        let draft = NamespaceDraft(
            name: body.name, projectID: try bodyID(body.project_id, argument: "project_id"),
            description: body.description, environmentVariables: body.environment_variables ?? [:], secrets: secrets,
            tags: body.tags ?? [], activateVPCIntegration: body.activate_vpc_integration ?? false, hashProfile: .legacy)
        let ns = try await service.create(kind: kind, region: try context.region(), draft: draft, by: context.principal)
        return .init(ns, written: true)
    }

    @Sendable func get(_ request: Request, context: APIRequestContext) async throws -> V1Beta1.Namespace {
        let ns = try service.get(try context.id("namespace_id"), kind: kind, region: try context.region(), by: context.principal)
        return .init(ns, written: false)
    }

    @Sendable func update(_ request: Request, context: APIRequestContext) async throws -> V1Beta1.Namespace {
        let id: NamespaceID = try context.id("namespace_id")
        let region = try context.region()
        let body = try await WireJSON.decodeBody(V1Beta1.UpdateNamespaceRequest.self, from: request, context: context)
        // v1beta1 merges secrets: listed keys are set, a null value deletes.
        let secrets: SecretChange = body.secret_environment_variables.map { .merge($0.map { ($0.key, $0.value) }) } ?? .unchanged
        let change = NamespaceChange(description: body.description, environmentVariables: body.environment_variables,
                                     secrets: secrets, tags: body.tags, hashProfile: .legacy)
        let ns = try await service.update(id, kind: kind, region: region, change: change, by: context.principal)
        return .init(ns, written: true)
    }

    @Sendable func delete(_ request: Request, context: APIRequestContext) async throws -> V1Beta1.Namespace {
        let ns = try await service.delete(try context.id("namespace_id"), kind: kind, region: try context.region(), by: context.principal)
        return .init(ns, written: true)
    }
}
