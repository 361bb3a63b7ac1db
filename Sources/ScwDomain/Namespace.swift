/// Which product a namespace belongs to. Containers v1beta1 and v1 share container namespaces; functions have their own.
public enum NamespaceKind: String, Sendable, Codable {
    case container
    case function

    /// The resource word used in error bodies.
    public var resource: ResourceKind { .namespace }

    /// The product's plural word, as in quota names (`serverless_containers_namespaces`) and API paths.
    public var product: String { "\(rawValue)s" }

    /// Everything that differs between the two products below the wire, in one place.
    private var facts: (applicationKind: ResourceKind, api: TokenAPI, namePrefix: String, suffixFromID: Bool,
                        ref: @Sendable (String) -> ApplicationRef) {
        switch self {
        case .container: (.container, .containers, "cns", true, { .container(ContainerID(trusted: $0)) })
        case .function: (.function, .functions, "ns", false, { .function(FunctionID(trusted: $0)) })
        }
    }

    /// The word for the applications these namespaces hold (`Container was not found`).
    public var applicationKind: ResourceKind { facts.applicationKind }

    /// The v1beta1 API whose tokens and legacy `issue-jwt` serve this product.
    public var api: TokenAPI { facts.api }

    /// A reference to one of these applications by its (validated) id.
    public func ref(_ id: String) -> ApplicationRef { facts.ref(id) }

    /// The prefix of a generated namespace name (`cns-…` for containers, `ns-…` for functions, as the console makes them).
    public var generatedNamePrefix: String { facts.namePrefix }

    /// Whether the endpoint suffix is the id's first 8 hex characters (container namespaces since 2026-04) rather than
    /// a generated one (function namespaces).
    public var endpointSuffixFromID: Bool { facts.suffixFromID }

    /// The request argument that names one of these applications (`container_id`, `function_id`).
    public var applicationArgument: String { "\(rawValue)_id" }
}

/// The lifecycle phase of namespaces, crons, domains and triggers. Each API renders it in its own vocabulary
/// (v1beta1 and functions say `pending` for both `creating` and `updating`).
public enum ResourcePhase: String, Sendable, Codable, CaseIterable {
    case creating, updating, ready, error, deleting

    /// Whether the phase is one a waiter keeps polling through.
    public var isTransient: Bool { self == .creating || self == .updating || self == .deleting }
}

/// A secret environment variable as stored: its key and an Argon2id PHC string, never the plain value.
public struct HashedSecret: Sendable, Equatable, Codable {
    /// Variable name.
    public var key: String
    /// `$argon2id$v=19$...` PHC string.
    public var hashedValue: String

    /// Creates an entry.
    public init(key: String, hashedValue: String) {
        self.key = key
        self.hashedValue = hashedValue
    }
}

/// A container or function namespace.
public struct Namespace: Sendable, Equatable {
    public var id: NamespaceID
    public var kind: NamespaceKind
    public var name: String
    public var projectID: ProjectID
    public var organizationID: OrganizationID
    public var region: Region
    public var description: String
    /// Stored phase; see `observed(at:)` for the phase a reader sees.
    public var phase: ResourcePhase
    /// When a transient phase settles (creation or configuration change plus the transition delay).
    public var settlesAt: Timestamp
    public var environmentVariables: [String: String]
    /// In the order the client gave them (v1beta1 echoes request order).
    public var secrets: [HashedSecret]
    public var tags: [String]
    /// Id of the registry namespace v1beta1 shows once ready.
    public var registryNamespaceID: RegistryNamespaceID
    /// The 8 characters after the name in generated endpoints.
    public var endpointSuffix: String
    public var vpcIntegrationActivated: Bool
    public var errorMessage: String?
    public var createdAt: Timestamp
    public var updatedAt: Timestamp
    /// Whether the namespace's RSA key exists, or is made on first use (fixtures' namespaces); creation only
    /// settles once it is true.
    public var keyReady: Bool
    /// Plain secret values, kept only to hand them to launched processes (never rendered by any API).
    public var secretValues: [String: String] = [:]

    /// Creates a namespace value.
    public init(id: NamespaceID, kind: NamespaceKind, name: String, projectID: ProjectID, organizationID: OrganizationID,
                region: Region, description: String, phase: ResourcePhase, settlesAt: Timestamp,
                environmentVariables: [String: String], secrets: [HashedSecret], tags: [String],
                registryNamespaceID: RegistryNamespaceID, endpointSuffix: String, vpcIntegrationActivated: Bool,
                errorMessage: String?, createdAt: Timestamp, updatedAt: Timestamp, keyReady: Bool) {
        self.id = id
        self.kind = kind
        self.name = name
        self.projectID = projectID
        self.organizationID = organizationID
        self.region = region
        self.description = description
        self.phase = phase
        self.settlesAt = settlesAt
        self.environmentVariables = environmentVariables
        self.secrets = secrets
        self.tags = tags
        self.registryNamespaceID = registryNamespaceID
        self.endpointSuffix = endpointSuffix
        self.vpcIntegrationActivated = vpcIntegrationActivated
        self.errorMessage = errorMessage
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.keyReady = keyReady
    }

    /// The namespace as a reader sees it at `now`: a transient phase whose time has come (and whose key exists)
    /// is settled, and `updated_at` moves to the settlement instant (the platform finishing its work).
    public func observed(at now: Timestamp) -> Namespace {
        guard phase == .creating || phase == .updating, settlesAt <= now, keyReady else { return self }
        var copy = self
        copy.phase = ResourceLifecycle.apply(.settled, to: phase).phase
        copy.updatedAt = max(updatedAt, settlesAt)
        return copy
    }

    /// The generated-endpoint prefix: name lower-cased, non `[a-z0-9]` removed, cut to 20, then the suffix.
    public var endpointPrefix: String { Self.endpointPrefix(name: name, suffix: endpointSuffix) }

    /// The endpoint prefix of a namespace named `name` with this suffix (also the registry namespace's name, after `funcscw`).
    public static func endpointPrefix(name: String, suffix: String) -> String {
        // Names are ASCII (the name rules): bytes, on every read of a namespace. Anything else goes the long way,
        // where lower-casing can turn a non-ASCII letter into an ASCII one (the Kelvin sign becomes `k`).
        guard name.utf8.allSatisfy({ $0 < 0x80 }) else {
            let cleaned = name.lowercased().unicodeScalars.filter { ("a"..."z").contains($0) || ("0"..."9").contains($0) }
            return String(String.UnicodeScalarView(cleaned.prefix(20))) + suffix
        }
        var kept: [UInt8] = []
        kept.reserveCapacity(20 + suffix.utf8.count)
        for byte in name.utf8 where kept.count < 20 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"): kept.append(byte)
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): kept.append(byte + 32)
            default: break
            }
        }
        kept.append(contentsOf: suffix.utf8)
        return String(decoding: kept, as: UTF8.self)
    }

    /// v1beta1 `registry_endpoint` once ready: `rg.<region>.scw.cloud/funcscw<prefix>`, the endpoint of the registry
    /// namespace `registry_namespace_id` names (Registry v1 serves it).
    public var registryEndpoint: String {
        RegistryNamespace.endpoint(region: region, name: RegistryNamespace.serverlessName(namespaceName: name, endpointSuffix: endpointSuffix))
    }
}

/// What a client asks for when creating a namespace, already translated from its API version's wire shape.
public struct NamespaceDraft: Sendable {
    public var name: String?
    public var projectID: ProjectID?
    public var description: String?
    public var environmentVariables: [String: String]
    /// Plain values in request order; hashed by the service before anything is stored.
    public var secrets: [(key: String, value: String)]
    public var tags: [String]
    public var activateVPCIntegration: Bool
    /// Which Argon2id parameters this API version answers with.
    public var hashProfile: SecretHashProfile

    /// Creates a draft.
    public init(name: String?, projectID: ProjectID?, description: String?, environmentVariables: [String: String],
                secrets: [(key: String, value: String)], tags: [String], activateVPCIntegration: Bool,
                hashProfile: SecretHashProfile) {
        self.name = name
        self.projectID = projectID
        self.description = description
        self.environmentVariables = environmentVariables
        self.secrets = secrets
        self.tags = tags
        self.activateVPCIntegration = activateVPCIntegration
        self.hashProfile = hashProfile
    }
}

/// How a PATCH changes the secrets; the two API versions differ.
public enum SecretChange: Sendable {
    /// Field absent or null: untouched.
    case unchanged
    /// v1beta1: listed keys are set, a `null` value deletes its key, unlisted keys are kept.
    case merge([(key: String, value: String?)])
    /// v1: the map replaces every secret; a key whose value is `""` keeps its current hash.
    case replace([String: String])
}

/// What a client asks to change on a namespace; `nil` fields are left as they are.
public struct NamespaceChange: Sendable {
    public var description: String?
    public var environmentVariables: [String: String]?
    public var secrets: SecretChange
    public var tags: [String]?
    public var hashProfile: SecretHashProfile

    /// Creates a change.
    public init(description: String?, environmentVariables: [String: String]?, secrets: SecretChange, tags: [String]?,
                hashProfile: SecretHashProfile) {
        self.description = description
        self.environmentVariables = environmentVariables
        self.secrets = secrets
        self.tags = tags
        self.hashProfile = hashProfile
    }
}
