import Hummingbird
import ScwDomain
import ScwEngine

/// Container Registry v1's control plane under `/registry/v1/regions/{region}`: namespaces (created ones and the
/// `funcscw…` ones of container and function namespaces), images and tags. Untrusted side of the trust line: every
/// route needs an API key and shows only its projects (403 for another project's resource, as the serverless routes).
struct RegistryController {
    let service: RegistryService

    /// `order_by` values of namespace lists (Scaleway also sorts them by description).
    static let namespaceOrders: [String: ListOrder] = Dictionary(uniqueKeysWithValues: ListOrder.allCases.map { ($0.rawValue, $0) })

    /// Mounts the routes on the `/registry/v1/regions/{region}` group.
    func mount(on routes: RouteTable<APIRequestContext>) {
        routes.get("namespaces", listNamespaces)
        routes.post("namespaces", createNamespace)
        routes.get("namespaces/:namespace_id", getNamespace)
        routes.patch("namespaces/:namespace_id", updateNamespace)
        routes.delete("namespaces/:namespace_id", deleteNamespace)
        routes.get("images", listImages)
        routes.get("images/:image_id", getImage)
        routes.patch("images/:image_id", updateImage)
        routes.delete("images/:image_id", deleteImage)
        routes.get("images/:image_id/tags", listTags)
        routes.get("tags/:tag_id", getTag)
        routes.delete("tags/:tag_id", deleteTag)
    }

    @Sendable func listNamespaces(_ request: Request, context: APIRequestContext) async throws -> RegistryV1.ListNamespacesResponse {
        let page = try service.listNamespaces(
            region: try context.region(), name: request.query("name"), projectID: try request.queryID("project_id"),
            organizationID: try request.queryID("organization_id"), page: try request.pageRequest(), by: context.principal)
        return .init(namespaces: page.items.map { .init($0) }, total_count: page.totalCount)
    }

    @Sendable func createNamespace(_ request: Request, context: APIRequestContext) async throws -> RegistryV1.Namespace {
        let body = try await WireJSON.decodeBody(RegistryV1.CreateNamespaceRequest.self, from: request, context: context)
        if body.project_id != nil && body.organization_id != nil {
            throw ScwError.invalid("project_id", .constraint, "at most one of project_id and organization_id may be set")
        }
        let ns = try service.createNamespace(
            region: try context.region(), name: body.name, description: body.description ?? "", isPublic: body.is_public ?? false,
            projectID: try bodyID(body.project_id, argument: "project_id"),
            organizationID: try bodyID(body.organization_id, argument: "organization_id"), by: context.principal)
        return .init(ns)
    }

    @Sendable func getNamespace(_ request: Request, context: APIRequestContext) async throws -> RegistryV1.Namespace {
        .init(try service.namespace(try context.id("namespace_id"), region: try context.region(), by: context.principal))
    }

    @Sendable func updateNamespace(_ request: Request, context: APIRequestContext) async throws -> RegistryV1.Namespace {
        let id: RegistryNamespaceID = try context.id("namespace_id")
        let region = try context.region()
        let body = try await WireJSON.decodeBody(RegistryV1.UpdateNamespaceRequest.self, from: request, context: context)
        return .init(try service.updateNamespace(id, region: region, description: body.description, isPublic: body.is_public,
                                                 by: context.principal))
    }

    @Sendable func deleteNamespace(_ request: Request, context: APIRequestContext) async throws -> RegistryV1.Namespace {
        .init(try service.deleteNamespace(try context.id("namespace_id"), region: try context.region(), by: context.principal))
    }

    @Sendable func listImages(_ request: Request, context: APIRequestContext) async throws -> RegistryV1.ListImagesResponse {
        let page = try service.listImages(
            region: try context.region(), namespaceID: try request.queryID("namespace_id"), name: request.query("name"),
            projectID: try request.queryID("project_id"), organizationID: try request.queryID("organization_id"),
            page: try request.pageRequest(), by: context.principal)
        return .init(images: page.items.map { .init($0) }, total_count: page.totalCount)
    }

    @Sendable func getImage(_ request: Request, context: APIRequestContext) async throws -> RegistryV1.Image {
        .init(try service.image(try context.id("image_id"), region: try context.region(), by: context.principal))
    }

    @Sendable func updateImage(_ request: Request, context: APIRequestContext) async throws -> RegistryV1.Image {
        let id: RegistryImageID = try context.id("image_id")
        let region = try context.region()
        let body = try await WireJSON.decodeBody(RegistryV1.UpdateImageRequest.self, from: request, context: context)
        return .init(try service.updateImage(id, region: region, visibility: try body.parsed(), by: context.principal))
    }

    @Sendable func deleteImage(_ request: Request, context: APIRequestContext) async throws -> RegistryV1.Image {
        .init(try service.deleteImage(try context.id("image_id"), region: try context.region(), by: context.principal))
    }

    @Sendable func listTags(_ request: Request, context: APIRequestContext) async throws -> RegistryV1.ListTagsResponse {
        let page = try service.listTags(of: try context.id("image_id"), region: try context.region(), name: request.query("name"),
                                        page: try request.pageRequest(), by: context.principal)
        return .init(tags: page.items.map { .init($0) }, total_count: page.totalCount)
    }

    @Sendable func getTag(_ request: Request, context: APIRequestContext) async throws -> RegistryV1.Tag {
        .init(try service.tag(try context.id("tag_id"), region: try context.region(), by: context.principal))
    }

    @Sendable func deleteTag(_ request: Request, context: APIRequestContext) async throws -> RegistryV1.Tag {
        // `force` (deprecated) is accepted and changes nothing: tags sharing a digest are deleted one by one.
        if let force = request.query("force")?.lowercased(), force != "true", force != "false" {
            throw ScwError.invalid("force", .format, "force must be true or false")
        }
        return .init(try service.deleteTag(try context.id("tag_id"), region: try context.region(), by: context.principal))
    }
}

extension RegistryController {
    private static let prefix = "/registry/v1/regions/:region"

    private static func body<T: Decodable & SendableMetatype>(_ type: T.Type, _ schema: JSONSchema) -> RequestBodySchema {
        RequestBodySchema(schema: schema, required: true, decode: { try WireJSON.decoder.decode(T.self, from: $0) })
    }

    /// The request bodies of the registry routes, for `GET /_mock/openapi.json`.
    static var requestBodies: [String: RequestBodySchema] {
        ["POST \(prefix)/namespaces": body(RegistryV1.CreateNamespaceRequest.self, RegistryV1.CreateNamespaceRequest.schema),
         "PATCH \(prefix)/namespaces/:namespace_id": body(RegistryV1.UpdateNamespaceRequest.self, RegistryV1.UpdateNamespaceRequest.schema),
         "PATCH \(prefix)/images/:image_id": body(RegistryV1.UpdateImageRequest.self, RegistryV1.UpdateImageRequest.schema)]
    }

    /// The query arguments of the registry's list routes, for `GET /_mock/openapi.json`.
    static var queryArguments: [String: [QueryArgument]] {
        func argument(_ name: String, _ schema: JSONSchema) -> QueryArgument { QueryArgument(name: name, schema: schema, required: false) }
        let paging = [argument("page", .integer(minimum: 1, maximum: 1_000_000_000)),
                      argument("page_size", .integer(minimum: 0, maximum: PageRequest.maxPageSize, description: "0 = the default of 20")),
                      argument("order_by", .oneOf(namespaceOrders.keys.sorted()))]
        let tenancy = [argument("project_id", .uuid), argument("organization_id", .uuid)]
        let name = argument("name", .string(description: "exact name"))
        return ["GET \(prefix)/namespaces": paging + [name] + tenancy,
                "GET \(prefix)/images": paging + [argument("namespace_id", .uuid), name] + tenancy,
                "GET \(prefix)/images/:image_id/tags": paging + [name],
                "DELETE \(prefix)/tags/:tag_id": [argument("force", .boolean)]]
    }
}
