import Foundation

/// A typed UUID identifier; `Tag` keeps a namespace id from being passed where a project id is expected.
public struct Identifier<Tag>: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The canonical lower-case UUID string, as Scaleway prints ids.
    public let rawValue: String

    /// Accepts any UUID spelling (upper or lower case) and keeps the canonical lower-case form.
    public init?(_ string: String) {
        guard let canonical = UUIDText.canonical(string) else { return nil }
        self.rawValue = canonical
    }

    /// Wraps a UUID value.
    public init(uuid: UUID) {
        self.rawValue = uuid.uuidString.lowercased()
    }

    /// Wraps a stored value that is already canonical (read back from the store).
    public init(trusted rawValue: String) {
        self.rawValue = rawValue
    }

    public var description: String { rawValue }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// Tag types for `Identifier`.
public enum NamespaceTag {}
/// Tag for project ids.
public enum ProjectTag {}
/// Tag for organization ids.
public enum OrganizationTag {}
/// Tag for container registry namespace ids (generated alongside v1beta1 namespaces).
public enum RegistryNamespaceTag {}

/// Id of a container or function namespace.
public typealias NamespaceID = Identifier<NamespaceTag>
/// Id of a Scaleway project.
public typealias ProjectID = Identifier<ProjectTag>
/// Id of a Scaleway organization.
public typealias OrganizationID = Identifier<OrganizationTag>
/// Id of the registry namespace that v1beta1 shows beside a namespace.
public typealias RegistryNamespaceID = Identifier<RegistryNamespaceTag>

/// Source of fresh ids and other values Scaleway makes at random; injected so that ids can be predictable
/// (`DeterministicIDSource`, `--deterministic-ids`).
public protocol IDSource: Sendable {
    /// A new random (version 4) UUID.
    func next() -> UUID
    /// Eight random characters of `[a-z0-9]` (the endpoint suffix of function namespaces).
    func nextSuffix() -> String
    /// A generated name with `prefix` (a namespace created without a name), e.g. `cns-vigilant-borg`.
    func nextName(prefix: String) -> String
    /// Which of a fixed list of namespace keys the next namespace gets; nil: keys are generated (the key pool).
    func nextKeyIndex() -> Int?
    /// `count` random bytes (pre-signed URL tokens).
    func nextBytes(count: Int) -> [UInt8]
    /// The Argon2id salt of a secret value; nil: a fresh random one.
    func salt(for value: String) -> [UInt8]?
}

/// Random version 4 UUIDs, as Scaleway issues them.
public struct RandomIDSource: IDSource {
    /// Creates the source.
    public init() {}
    public func next() -> UUID { UUID() }
    public func nextSuffix() -> String {
        var rng = SystemRandomNumberGenerator()
        return NameGenerator.endpointSuffix(using: &rng)
    }
}

extension IDSource {
    /// A random name (the defaults are those of `RandomIDSource`).
    public func nextName(prefix: String) -> String { NameGenerator.make(prefix: prefix) }
    /// Generated keys.
    public func nextKeyIndex() -> Int? { nil }
    /// Bytes from the system generator.
    public func nextBytes(count: Int) -> [UInt8] {
        var rng = SystemRandomNumberGenerator()
        return (0..<count).map { _ in UInt8.random(in: 0...255, using: &rng) }
    }
    /// A fresh random salt.
    public func salt(for value: String) -> [UInt8]? { nil }

    /// A fresh typed id.
    public func make<Tag>(_: Tag.Type = Tag.self) -> Identifier<Tag> { Identifier(uuid: next()) }
}

extension Identifier: Codable {
    public init(from decoder: any Decoder) throws {
        let raw = try decoder.singleValueContainer().decode(String.self)
        guard let id = Identifier(raw) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "expected a UUID"))
        }
        self = id
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}
