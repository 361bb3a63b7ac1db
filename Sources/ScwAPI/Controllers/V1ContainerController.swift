import Hummingbird
import ScwDomain
import ScwEngine

/// Containers of containers v1: every create and update deploys.
struct V1ContainerController {
    let service: ContainerService

    /// Mounts the routes on the `/containers/v1/regions/{region}` group.
    func mount(on routes: RouteTable<APIRequestContext>) {
        routes.get("containers", list)
        routes.post("containers", create)
        routes.get("containers/:container_id", get)
        routes.patch("containers/:container_id", update)
        routes.delete("containers/:container_id", delete)
        routes.post("containers/:container_id/redeploy", redeploy)
    }

    @Sendable func list(_ request: Request, context: APIRequestContext) async throws -> V1.ListContainersResponse {
        let page = try service.list(request, context: context)
        return .init(containers: page.items.map(V1.Container.init), total_count: page.totalCount)
    }

    @Sendable func create(_ request: Request, context: APIRequestContext) async throws -> V1.Container {
        let body = try await WireJSON.decodeBody(V1.ContainerRequest.self, from: request, context: context)
        var missing: [ArgumentProblem] = []
        for (argument, value) in [("namespace_id", body.namespace_id), ("name", body.name), ("image", body.image)] where value == nil {
            missing.append(ArgumentProblem(argumentName: argument, reason: .required, helpMessage: "required key not provided"))
        }
        guard missing.isEmpty, let rawNamespace = body.namespace_id, let name = body.name else { throw ScwError.invalidArguments(missing) }
        let namespaceID: NamespaceID = try requiredBodyID(rawNamespace, argument: "namespace_id")
        let container = try await service.create(
            namespaceID: namespaceID, name: name, patch: try body.patch(patching: false), deploy: true,
            region: try context.region(), by: context.principal)
        return .init(container)
    }

    @Sendable func get(_ request: Request, context: APIRequestContext) async throws -> V1.Container {
        .init(try service.get(try context.id("container_id"), region: try context.region(), by: context.principal))
    }

    @Sendable func update(_ request: Request, context: APIRequestContext) async throws -> V1.Container {
        let id: ContainerID = try context.id("container_id")
        let region = try context.region()
        let body = try await WireJSON.decodeBody(V1.ContainerRequest.self, from: request, context: context)
        return .init(try await service.update(id, patch: try body.patch(patching: true), region: region,
                                              by: context.principal))
    }

    @Sendable func redeploy(_ request: Request, context: APIRequestContext) async throws -> V1.Container {
        .init(try await service.deploy(try context.id("container_id"), region: try context.region(), by: context.principal))
    }

    @Sendable func delete(_ request: Request, context: APIRequestContext) async throws -> V1.Container {
        .init(try await service.delete(try context.id("container_id"), region: try context.region(), by: context.principal))
    }
}
