/// Sort orders accepted by `order_by` on namespace, container and function lists.
public enum ListOrder: String, Sendable, CaseIterable {
    case createdAtAsc = "created_at_asc"
    case createdAtDesc = "created_at_desc"
    case nameAsc = "name_asc"
    case nameDesc = "name_desc"
}

/// A validated page request. Bounds are the mock's choice (the real API declares none): page ≥ 1,
/// 1 ≤ page_size ≤ 100, page_size 0 or absent = the default of 20 (the SDKs treat 0 as unset).
public struct PageRequest: Sendable, Equatable {
    public static let defaultPageSize = 20
    public static let maxPageSize = 100

    public var page: Int
    public var pageSize: Int
    public var order: ListOrder

    /// Creates a page request; call `validated` on client input.
    public init(page: Int = 1, pageSize: Int = PageRequest.defaultPageSize, order: ListOrder = .createdAtAsc) {
        self.page = page
        self.pageSize = pageSize
        self.order = order
    }

    /// Rows to skip.
    public var offset: Int { (page - 1) * pageSize }

    /// Parses the raw query values, naming the first bad argument. `orders` lists the accepted `order_by` values
    /// (domains say `hostname_*` where namespaces say `name_*`; crons and tokens only sort by creation).
    public static func parse(page: String?, pageSize: String?, orderBy: String?,
                             orders: [String: ListOrder] = Dictionary(uniqueKeysWithValues: ListOrder.allCases.map { ($0.rawValue, $0) })) throws(ScwError) -> PageRequest {
        var problems: [ArgumentProblem] = []
        var result = PageRequest()
        if let page {
            if let n = Int(page), n >= 1, n <= 1_000_000_000 {
                result.page = n
            } else {
                problems.append(.init(argumentName: "page", reason: .constraint, helpMessage: "page must be a whole number, at least 1"))
            }
        }
        if let pageSize {
            if let n = Int(pageSize), n >= 0, n <= maxPageSize {
                result.pageSize = n == 0 ? defaultPageSize : n
            } else {
                problems.append(.init(argumentName: "page_size", reason: .constraint,
                                      helpMessage: "page_size must be a whole number between 1 and \(maxPageSize)"))
            }
        }
        if let orderBy {
            if let order = orders[orderBy] {
                result.order = order
            } else {
                problems.append(.init(argumentName: "order_by", reason: .format,
                                      helpMessage: "order_by must be one of \(orders.keys.sorted().joined(separator: ", "))"))
            }
        }
        if !problems.isEmpty { throw .invalidArguments(problems) }
        return result
    }
}

/// One page of results and the count of every match.
public struct Page<Item: Sendable>: Sendable {
    public var items: [Item]
    public var totalCount: Int

    /// Creates a page.
    public init(items: [Item], totalCount: Int) {
        self.items = items
        self.totalCount = totalCount
    }
}

/// Filters of a namespace list, after the principal's scope has been applied.
public struct NamespaceQuery: Sendable {
    public var kind: NamespaceKind
    public var region: Region
    /// Substring of the name (case-insensitive); nil = any.
    public var nameContains: String?
    /// Only these projects; nil = any (already narrowed to the key's scope by the service).
    public var projectIDs: Set<ProjectID>?
    public var organizationID: OrganizationID?
    public var page: PageRequest

    /// Creates a query.
    public init(kind: NamespaceKind, region: Region, nameContains: String?, projectIDs: Set<ProjectID>?,
                organizationID: OrganizationID?, page: PageRequest) {
        self.kind = kind
        self.region = region
        self.nameContains = nameContains
        self.projectIDs = projectIDs
        self.organizationID = organizationID
        self.page = page
    }
}
