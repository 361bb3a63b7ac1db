import Hummingbird
import ScwDomain
import ScwEngine

extension ApplicationService {
    /// `GET …/containers` and `GET …/functions`, both versions: the same query filters (`namespace_id`, `name`,
    /// `project_id`, `organization_id`) and paging (`page`, `page_size`, `order_by`).
    func list(_ request: Request, context: APIRequestContext) throws -> Page<A> {
        try list(region: try context.region(), namespaceID: try request.queryID("namespace_id"), name: request.query("name"),
                 projectID: try request.queryID("project_id"), organizationID: try request.queryID("organization_id"),
                 page: try request.pageRequest(), by: context.principal)
    }
}
