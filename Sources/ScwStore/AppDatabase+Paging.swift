import GRDB
import ScwDomain

extension AppDatabase {
    /// One page of `request` in `page.order` (ties broken by id, so no item is missed or repeated across pages) and
    /// the count of every match. `nameColumn` is what `name_*` orders sort by (`hostname` for domains).
    static func page<R: FetchableRecord & TableRecord>(_ request: QueryInterfaceRequest<R>, _ page: PageRequest, nameColumn: String = "name",
                                                       in db: Database) throws -> (rows: [R], total: Int) {
        (try paged(request, page, nameColumn: nameColumn).fetchAll(db), try request.fetchCount(db))
    }

    /// The ids of one page of `request` (read from an index where one covers the filters and the order) and the count
    /// of every match: for tables whose rows are served from a `RowCache`.
    static func pageIDs<R: FetchableRecord & TableRecord>(_ request: QueryInterfaceRequest<R>, _ page: PageRequest, nameColumn: String = "name",
                                                          in db: Database) throws -> (ids: [String], total: Int) {
        (try paged(request, page, nameColumn: nameColumn).select(Column("id"), as: String.self).fetchAll(db), try request.fetchCount(db))
    }

    /// `request` in `page.order`, ties broken by id, cut to the page.
    private static func paged<R>(_ request: QueryInterfaceRequest<R>, _ page: PageRequest, nameColumn: String) -> QueryInterfaceRequest<R> {
        let ordered: QueryInterfaceRequest<R>
        switch page.order {
        case .createdAtAsc: ordered = request.order(Column("created_at").asc, Column("id").asc)
        case .createdAtDesc: ordered = request.order(Column("created_at").desc, Column("id").desc)
        case .nameAsc: ordered = request.order(Column(nameColumn).asc, Column("id").asc)
        case .nameDesc: ordered = request.order(Column(nameColumn).desc, Column("id").desc)
        }
        return ordered.limit(page.pageSize, offset: page.offset)
    }

    /// The filters shared by container and function lists.
    static func filtered<R>(_ request: QueryInterfaceRequest<R>, _ q: ApplicationQuery) -> QueryInterfaceRequest<R> {
        var r = request.filter(Column("region") == q.region.rawValue && Column("organization_id") == q.organizationID.rawValue)
        if let ns = q.namespaceID { r = r.filter(Column("namespace_id") == ns.rawValue) }
        if let projects = q.projectIDs { r = r.filter(projects.map(\.rawValue).contains(Column("project_id"))) }
        if let name = q.nameContains, !name.isEmpty { r = r.filter(Column("name").like("%\(escapeLike(name))%", escape: "\\")) }
        return r
    }
}
