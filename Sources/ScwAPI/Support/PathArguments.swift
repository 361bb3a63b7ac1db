import Hummingbird
import ScwDomain

/// Reading and validating path and query arguments, with Scaleway-shaped errors naming the argument.
extension RequestContext {
    /// The `{region}` path segment.
    func region() throws -> Region {
        let raw = parameters.get("region") ?? ""
        guard let region = Region(rawValue: raw) else {
            throw ScwError.invalid("region", .constraint,
                                   "region must be one of \(Region.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return region
    }

    /// A UUID path segment such as `{namespace_id}`.
    func id<Tag>(_ name: String, as: Tag.Type = Tag.self) throws -> Identifier<Tag> {
        let raw = parameters.get(name) ?? ""
        guard let id = Identifier<Tag>(raw) else {
            throw ScwError.invalid(name, .format, "\(name) must be a UUID")
        }
        return id
    }
}

extension Request {
    /// A query argument; empty values count as absent (the SDKs drop `None`).
    func query(_ name: String) -> String? {
        guard let value = uri.queryParameters[Substring(name)], !value.isEmpty else { return nil }
        return String(value)
    }

    /// A UUID query argument.
    func queryID<Tag>(_ name: String, as: Tag.Type = Tag.self) throws -> Identifier<Tag>? {
        guard let raw = query(name) else { return nil }
        guard let id = Identifier<Tag>(raw) else { throw ScwError.invalid(name, .format, "\(name) must be a UUID") }
        return id
    }

    /// `page`, `page_size` and `order_by` (by default the four namespace/container orders).
    func pageRequest(orders: [String: ListOrder]? = nil) throws -> PageRequest {
        if let orders { return try PageRequest.parse(page: query("page"), pageSize: query("page_size"), orderBy: query("order_by"), orders: orders) }
        return try PageRequest.parse(page: query("page"), pageSize: query("page_size"), orderBy: query("order_by"))
    }
}

/// Parses an optional UUID field of a request body.
func bodyID<Tag>(_ raw: String?, argument: String, as: Tag.Type = Tag.self) throws -> Identifier<Tag>? {
    guard let raw else { return nil }
    guard let id = Identifier<Tag>(raw) else { throw ScwError.invalid(argument, .format, "\(argument) must be a UUID") }
    return id
}

/// Parses a required UUID field of a request body: absent is Scaleway's `required key not provided`.
func requiredBodyID<Tag>(_ raw: String?, argument: String, as: Tag.Type = Tag.self) throws -> Identifier<Tag> {
    guard let raw else { throw ScwError.invalid(argument, .required, "required key not provided") }
    guard let id = Identifier<Tag>(raw) else { throw ScwError.invalid(argument, .format, "\(argument) must be a UUID") }
    return id
}

/// `order_by` values of lists that only sort by creation (crons, tokens, v1beta1 triggers, v1beta1 domains).
let creationOrders: [String: ListOrder] = ["created_at_asc": .createdAtAsc, "created_at_desc": .createdAtDesc]
/// `order_by` values of v1 domains.
let hostnameOrders: [String: ListOrder] = creationOrders.merging(["hostname_asc": .nameAsc, "hostname_desc": .nameDesc]) { a, _ in a }
