import Foundation

/// Tag for trigger ids (crons are triggers with a cron source: v1 reads v1beta1 cron ids).
public enum TriggerTag {}
/// Id of a trigger or cron.
public typealias TriggerID = Identifier<TriggerTag>
/// Tag for custom domain ids.
public enum DomainTag {}
/// Id of a custom domain.
public typealias DomainID = Identifier<DomainTag>

/// The container or function a cron, domain or trigger belongs to.
public enum ApplicationRef: Sendable, Equatable, Codable {
    case container(ContainerID)
    case function(FunctionID)

    private var parts: (kind: NamespaceKind, id: String) {
        switch self {
        case .container(let id): (.container, id.rawValue)
        case .function(let id): (.function, id.rawValue)
        }
    }

    /// The raw id.
    public var rawValue: String { parts.id }

    /// The id when the reference is to an application of `kind`, else nil: stored and shown as `container_id` and
    /// `function_id`, one of which is always null.
    public func id(of kind: NamespaceKind) -> String? { namespaceKind == kind ? rawValue : nil }

    /// The reference a stored or shown `container_id` / `function_id` pair makes (the container's when both are set).
    public init(containerID: String?, functionID: String?) {
        self = containerID.map { NamespaceKind.container.ref($0) } ?? NamespaceKind.function.ref(functionID ?? "")
    }

    /// The namespaces that hold the application referred to.
    public var namespaceKind: NamespaceKind { parts.kind }
}

/// Where a trigger's events come from.
public enum TriggerSource: Sendable, Equatable, Codable {
    /// A schedule (v1beta1 cron, v1 `cron_config`); `body` is the request body (a v1beta1 cron's `args` as JSON).
    case cron(schedule: String, timezone: String, body: String, headers: [String: String])
    /// An SQS queue with the user's credentials (the secret is stored, never echoed).
    case sqs(region: String, endpoint: String, queueURL: String, accessKeyID: String, secretAccessKey: String)
    /// A NATS subject (the credentials file is stored, never echoed).
    case nats(serverURLs: [String], subject: String, credentials: String)
    /// v1beta1 Scaleway SQS with platform-made credentials.
    case scwSQS(queue: String, mnqProjectID: String, mnqRegion: String)
    /// v1beta1 Scaleway NATS with platform-made credentials.
    case scwNATS(subject: String, mnqNATSAccountID: String, mnqProjectID: String, mnqRegion: String)

    /// v1's `source_type` / v1beta1's `input_type`.
    public var typeName: String {
        switch self {
        case .cron: "cron"
        case .sqs: "sqs"
        case .nats: "nats"
        case .scwSQS: "scw_sqs"
        case .scwNATS: "scw_nats"
        }
    }
}

/// A trigger (or cron) of a container or function.
public struct Trigger: Sendable, Equatable {
    public var id: TriggerID
    public var region: Region
    public var namespaceID: NamespaceID
    public var application: ApplicationRef
    public var projectID: ProjectID
    public var organizationID: OrganizationID
    public var name: String
    public var description: String
    public var tags: [String]
    public var source: TriggerSource
    /// `destination_config`: path and lower-case method the event is sent to (default `/`, `post`).
    public var httpPath: String
    public var httpMethod: String
    public var phase: ResourcePhase
    public var settlesAt: Timestamp
    /// The platform-made MNQ credential of `scw_*` sources, shown once ready.
    public var credentialID: String?
    public var createdAt: Timestamp
    public var updatedAt: Timestamp

    /// Creates a trigger value.
    public init(id: TriggerID, region: Region, namespaceID: NamespaceID, application: ApplicationRef, projectID: ProjectID,
                organizationID: OrganizationID, name: String, description: String, tags: [String], source: TriggerSource,
                httpPath: String, httpMethod: String, phase: ResourcePhase, settlesAt: Timestamp, credentialID: String?,
                createdAt: Timestamp, updatedAt: Timestamp) {
        self.id = id
        self.region = region
        self.namespaceID = namespaceID
        self.application = application
        self.projectID = projectID
        self.organizationID = organizationID
        self.name = name
        self.description = description
        self.tags = tags
        self.source = source
        self.httpPath = httpPath
        self.httpMethod = httpMethod
        self.phase = phase
        self.settlesAt = settlesAt
        self.credentialID = credentialID
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    /// As a reader sees it at `now` (creating/updating settle after the transition delay).
    public func observed(at now: Timestamp) -> Trigger {
        guard phase == .creating || phase == .updating, settlesAt <= now else { return self }
        var copy = self
        copy.phase = ResourceLifecycle.apply(.settled, to: phase).phase
        copy.updatedAt = max(updatedAt, settlesAt)
        return copy
    }
}

/// A custom domain of a container or function.
public struct CustomDomain: Sendable, Equatable {
    public var id: DomainID
    public var hostname: String
    public var region: Region
    public var namespaceID: NamespaceID
    public var application: ApplicationRef
    public var projectID: ProjectID
    public var organizationID: OrganizationID
    public var tags: [String]
    public var phase: ResourcePhase
    public var settlesAt: Timestamp
    public var createdAt: Timestamp
    public var updatedAt: Timestamp

    /// Creates a domain value.
    public init(id: DomainID, hostname: String, region: Region, namespaceID: NamespaceID, application: ApplicationRef, projectID: ProjectID,
                organizationID: OrganizationID, tags: [String], phase: ResourcePhase, settlesAt: Timestamp, createdAt: Timestamp, updatedAt: Timestamp) {
        self.id = id
        self.hostname = hostname
        self.region = region
        self.namespaceID = namespaceID
        self.application = application
        self.projectID = projectID
        self.organizationID = organizationID
        self.tags = tags
        self.phase = phase
        self.settlesAt = settlesAt
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    /// As a reader sees it at `now`.
    public func observed(at now: Timestamp) -> CustomDomain {
        guard phase == .creating || phase == .updating, settlesAt <= now else { return self }
        var copy = self
        copy.phase = .ready
        copy.updatedAt = max(updatedAt, settlesAt)
        return copy
    }
}

/// Validation of schedules, hostnames and trigger settings.
public enum TriggerRules {
    /// Whether `schedule` is a 5-field cron expression (numbers, `*`, ranges, steps, lists; month and day names).
    public static func isValidSchedule(_ schedule: String) -> Bool {
        let fields = schedule.split(separator: " ", omittingEmptySubsequences: true)
        guard fields.count == 5, schedule.count <= 256 else { return false }
        let ranges = [0...59, 0...23, 1...31, 1...12, 0...7]
        let names: [[String]] = [[], [], [], ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"],
                                 ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]]
        for (i, field) in fields.enumerated() {
            for part in field.split(separator: ",", omittingEmptySubsequences: false) {
                let pieces = part.split(separator: "/", omittingEmptySubsequences: false)
                guard pieces.count <= 2 else { return false }
                if pieces.count == 2 { guard let step = Int(pieces[1]), step >= 1, step <= ranges[i].upperBound + 1 else { return false } }
                let base = pieces[0]
                if base == "*" { continue }
                func value(_ s: Substring) -> Int? {
                    if let n = Int(s), ranges[i].contains(n) { return n }
                    if let n = names[i].firstIndex(of: s.uppercased()) { return i == 3 ? n + 1 : n }
                    return nil
                }
                let bounds = base.split(separator: "-", omittingEmptySubsequences: false)
                guard bounds.count <= 2, let low = value(bounds[0]) else { return false }
                if bounds.count == 2 { guard let high = value(bounds[1]), high >= low else { return false } }
            }
        }
        return true
    }

    /// Whether `timezone` is an IANA time zone name (`Europe/Paris`, `UTC`).
    public static func isValidTimezone(_ timezone: String) -> Bool {
        // Foundation also accepts offset ids such as "GMT+2"; only IANA names are time zones here (ICU's list lacks
        // the IANA Etc/GMT±N zones, so they are recognised by shape).
        if timezone == "UTC" || TimeZone.knownTimeZoneIdentifiers.contains(timezone) { return true }
        if timezone == "Etc/UTC" || timezone == "Etc/GMT" { return true }
        guard timezone.hasPrefix("Etc/GMT"), let offset = Int(timezone.dropFirst(7)), timezone.dropFirst(7).first.map({ "+-".contains($0) }) == true
        else { return false }
        return (-14...12).contains(offset)
    }

    /// Whether `hostname` is a fully qualified DNS name (at least two labels, letters, digits and hyphens).
    public static func isValidHostname(_ hostname: String) -> Bool {
        let labels = hostname.split(separator: ".", omittingEmptySubsequences: false)
        guard hostname.count <= 253, labels.count >= 2 else { return false }
        return labels.allSatisfy { label in
            guard let first = label.first, let last = label.last, label.count <= 63 else { return false }
            func alnum(_ c: Character) -> Bool { c.isASCII && (c.isLetter || c.isNumber) }
            return alnum(first) && alnum(last) && label.allSatisfy { alnum($0) || $0 == "-" }
        } && !(labels.last!.allSatisfy(\.isNumber))
    }

    /// HTTP methods a destination may use (lower case on the wire).
    public static let methods: Set<String> = ["get", "post", "put", "patch", "delete"]
}
