import Hummingbird
import ScwDomain
import ScwEngine

/// Containers of containers v1beta1.
struct V1Beta1ContainerController {
    let service: ContainerService

    /// Mounts the routes on the `/containers/v1beta1/regions/{region}` group.
    func mount(on routes: RouteTable<APIRequestContext>) {
        routes.get("containers", list)
        routes.post("containers", create)
        routes.get("containers/:container_id", get)
        routes.patch("containers/:container_id", update)
        routes.delete("containers/:container_id", delete)
        routes.post("containers/:container_id/deploy", deploy)
    }

    @Sendable func list(_ request: Request, context: APIRequestContext) async throws -> V1Beta1.ListContainersResponse {
        let page = try service.list(request, context: context)
        return .init(containers: page.items.map { .init($0, written: false) }, total_count: page.totalCount)
    }

    @Sendable func create(_ request: Request, context: APIRequestContext) async throws -> V1Beta1.Container {
        let body = try await WireJSON.decodeBody(V1Beta1.CreateContainerRequest.self, from: request, context: context)
        let namespaceID: NamespaceID = try requiredBodyID(body.namespace_id, argument: "namespace_id")
        guard let name = body.name else { throw ScwError.invalid("name", .required, "required key not provided") }
        if case .merge(let entries)? = Optional(try body.patch().secrets), let missing = entries.first(where: { $0.value == nil }) {
            throw ScwError.invalid("secret_environment_variables.\(missing.key).value", .required, "a secret needs a value")
        }
        let region = try context.region()
        let principal = context.principal
        let container = try await V1Beta1.renamingArguments {
            // Recorded 2026-04: a POST that names an image starts deploying at once (pending); without one it stays created.
            try await service.create(namespaceID: namespaceID, name: name, patch: try body.patch(), deploy: body.registry_image != nil, region: region, by: principal)
        }
        return .init(container, written: true)
    }

    @Sendable func get(_ request: Request, context: APIRequestContext) async throws -> V1Beta1.Container {
        .init(try service.get(try context.id("container_id"), region: try context.region(), by: context.principal), written: false)
    }

    @Sendable func update(_ request: Request, context: APIRequestContext) async throws -> V1Beta1.Container {
        let id: ContainerID = try context.id("container_id")
        let region = try context.region()
        let principal = context.principal
        let body = try await WireJSON.decodeBody(V1Beta1.CreateContainerRequest.self, from: request, context: context)
        let container = try await V1Beta1.renamingArguments {
            try await service.update(id, patch: try body.patch(), region: region, by: principal)
        }
        return .init(container, written: true)
    }

    @Sendable func deploy(_ request: Request, context: APIRequestContext) async throws -> V1Beta1.Container {
        let id: ContainerID = try context.id("container_id")
        let region = try context.region()
        let principal = context.principal
        return .init(try await V1Beta1.renamingArguments { try await service.deploy(id, region: region, by: principal) }, written: true)
    }

    @Sendable func delete(_ request: Request, context: APIRequestContext) async throws -> V1Beta1.Container {
        .init(try await service.delete(try context.id("container_id"), region: try context.region(), by: context.principal), written: true)
    }
}
