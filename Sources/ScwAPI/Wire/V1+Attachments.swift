import Hummingbird
import ScwDomain

extension V1 {
    /// A v1 custom domain.
    struct Domain: ResponseEncodable, Sendable {
        var id: String
        var hostname: String
        var container_id: String
        var status: String
        var error_message: String?
        var created_at: String
        var updated_at: String
        var tags: [String]
    }

    /// Body of `POST …/domains` and `PATCH …/domains/{id}`.
    struct DomainRequest: Decodable, Sendable {
        var container_id: String?
        var hostname: String?
        var tags: [String]?
    }

    /// `{"domains":[…],"total_count":N}`.
    struct ListDomainsResponse: ResponseEncodable, Sendable {
        var domains: [Domain]
        var total_count: Int
    }

    /// `destination_config`.
    struct DestinationConfig: Codable, Sendable {
        var http_path: String?
        var http_method: String?

        /// `http_method` as asked: the SDKs' `unknown_http_method` default means "not set".
        var method: String? { http_method == "unknown_http_method" ? nil : http_method }
    }

    /// `cron_config`.
    struct CronConfig: Codable, Sendable {
        var schedule: String?
        var timezone: String?
        var body: String?
        var headers: [String: String]?
    }

    /// `sqs_config` (the secret is accepted, never echoed).
    struct SQSConfig: Codable, Sendable {
        var region: String?
        var endpoint: String?
        var queue_url: String?
        var access_key_id: String?
        var secret_access_key: String?
    }

    /// `nats_config` (the credentials file is accepted, never echoed).
    struct NATSConfig: Codable, Sendable {
        var server_urls: [String]?
        var subject: String?
        var credentials_file_content: String?
    }

    /// A v1 trigger.
    struct Trigger: ResponseEncodable, Sendable {
        var id: String
        var name: String
        var description: String
        var tags: [String]
        var status: String
        var error_message: String?
        var container_id: String
        var destination_config: DestinationConfig
        var source_type: String
        var created_at: String
        var updated_at: String
        var cron_config: CronConfig?
        var sqs_config: SQSConfig?
        var nats_config: NATSConfig?
    }

    /// Body of `POST …/triggers` and `PATCH …/triggers/{id}`.
    struct TriggerRequest: Decodable, Sendable {
        var container_id: String?
        var name: String?
        var description: String?
        var tags: [String]?
        var destination_config: DestinationConfig?
        var cron_config: CronConfig?
        var sqs_config: SQSConfig?
        var nats_config: NATSConfig?
    }

    /// `{"triggers":[…],"total_count":N}`.
    struct ListTriggersResponse: ResponseEncodable, Sendable {
        var triggers: [Trigger]
        var total_count: Int
    }
}

extension V1 {
    /// v1's status words for domains and triggers.
    static func status(_ phase: ResourcePhase) -> String { phase.rawValue }

    /// `error_message`: omitted while creating/updating/deleting, "" once settled.
    static func errorMessage(_ phase: ResourcePhase) -> String? { phase == .ready || phase == .error ? "" : nil }

    /// `updated_at`: whole seconds once the platform settled a transition (as recorded), unless cutting it would put
    /// it before `created_at`; never later than the real instant.
    static func updatedAt(_ updated: Timestamp, settled: Bool, createdAt: Timestamp) -> String {
        settled && updated.floorSecond >= createdAt ? updated.floorSecond.rfc3339(fractionDigits: 0) : updated.roundedToMicroseconds.rfc3339(fractionDigits: 6)
    }
}

extension V1.Domain {
    init(_ d: CustomDomain) {
        self.init(id: d.id.rawValue, hostname: d.hostname, container_id: d.application.rawValue, status: V1.status(d.phase),
                  error_message: V1.errorMessage(d.phase), created_at: d.createdAt.roundedToMicroseconds.rfc3339(fractionDigits: 6),
                  updated_at: V1.updatedAt(d.updatedAt, settled: d.phase == .ready && d.updatedAt == d.settlesAt, createdAt: d.createdAt), tags: d.tags)
    }
}

extension V1.Trigger {
    init(_ t: ScwDomain.Trigger) {
        var cron: V1.CronConfig?, sqs: V1.SQSConfig?, nats: V1.NATSConfig?
        switch t.source {
        case .cron(let schedule, let timezone, let body, let headers):
            cron = .init(schedule: schedule, timezone: timezone, body: body, headers: headers)
        case .sqs(let region, let endpoint, let queueURL, let accessKeyID, _):
            sqs = .init(region: region, endpoint: endpoint, queue_url: queueURL, access_key_id: accessKeyID, secret_access_key: nil)
        case .nats(let servers, let subject, _):
            nats = .init(server_urls: servers, subject: subject, credentials_file_content: nil)
        case .scwSQS(let queue, _, let region):
            sqs = .init(region: region, endpoint: "https://sqs.mnq.\(region).scaleway.com", queue_url: queue, access_key_id: t.credentialID ?? "",
                        secret_access_key: nil)
        case .scwNATS(let subject, _, _, let region):
            nats = .init(server_urls: ["nats://nats.mnq.\(region).scaleway.com:4222"], subject: subject, credentials_file_content: nil)
        }
        let sourceType = t.source.typeName.replacingOccurrences(of: "scw_", with: "")
        self.init(id: t.id.rawValue, name: t.name, description: t.description, tags: t.tags, status: V1.status(t.phase),
                  error_message: V1.errorMessage(t.phase), container_id: t.application.rawValue,
                  destination_config: .init(http_path: t.httpPath, http_method: t.httpMethod), source_type: sourceType,
                  created_at: t.createdAt.roundedToMicroseconds.rfc3339(fractionDigits: 6),
                  updated_at: V1.updatedAt(t.updatedAt, settled: t.phase == .ready && t.updatedAt == t.settlesAt, createdAt: t.createdAt),
                  cron_config: cron, sqs_config: sqs, nats_config: nats)
    }
}

extension V1.DomainRequest {
    /// The `POST …/domains` body's schema in `GET /_mock/openapi.json`.
    static let schema = JSONSchema.object(["container_id": .uuid, "hostname": .string(format: "hostname", maxLength: 253), "tags": .tags],
                                          required: ["container_id", "hostname"])
    /// The `PATCH …/domains/{id}` body's schema: only the tags change.
    static let updateSchema = JSONSchema.object(["tags": .tags])
}

extension V1.TriggerRequest {
    private static func properties(update: Bool) -> [String: JSONSchema] {
        [
            "name": .triggerName, "description": .description, "tags": .tags,
            "destination_config": .object(["http_path": .string(pattern: "^/"), "http_method": .oneOf(TriggerRules.methods.sorted())]),
            "cron_config": .object(["schedule": .cronSchedule, "timezone": .string(description: "IANA time zone, e.g. Europe/Paris"),
                                    "body": .string(), "headers": .map(.string())], required: update ? [] : ["schedule", "timezone"]),
            "sqs_config": .object(["region": .string(), "endpoint": .string(format: "uri"), "queue_url": .string(format: "uri"),
                                   "access_key_id": .string(), "secret_access_key": .string()]),
            "nats_config": .object(["server_urls": .array(.string(format: "uri")), "subject": .string(),
                                    "credentials_file_content": .string()]),
        ]
    }
    /// The `POST …/triggers` body's schema in `GET /_mock/openapi.json`.
    static let schema = JSONSchema.object(properties(update: false).merging(["container_id": .uuid]) { a, _ in a },
                                          required: ["container_id", "name"], exactlyOneOf: ["cron_config", "sqs_config", "nats_config"])
    /// The `PATCH …/triggers/{id}` body's schema.
    static let updateSchema = JSONSchema.object(properties(update: true),
                                                description: "nulls inside a config leave it unchanged; the source type cannot change")
}

extension V1.Domain: DocumentedResponse {
    /// The answer's schema in `GET /_mock/openapi.json`.
    static let schema = JSONSchema.object([
        "id": .uuid, "hostname": .string(), "container_id": .uuid, "status": .string(), "error_message": .nullableString,
        "created_at": .timestamp, "updated_at": .timestamp, "tags": .array(.string()),
    ])
}

extension V1.ListDomainsResponse: DocumentedResponse {
    static let schema = JSONSchema.list("domains", of: V1.Domain.schema)
}

extension V1.Trigger: DocumentedResponse {
    /// The answer's schema in `GET /_mock/openapi.json` (secrets are never echoed).
    static let schema = JSONSchema.object([
        "id": .uuid, "name": .string(), "description": .string(), "tags": .array(.string()), "status": .string(),
        "error_message": .nullableString, "container_id": .uuid, "source_type": .string(),
        "destination_config": .object(["http_path": .string(), "http_method": .string()]), "created_at": .timestamp, "updated_at": .timestamp,
        "cron_config": JSONSchema.object(["schedule": .string(), "timezone": .string(), "body": .string(), "headers": .map(.string())]).orNull,
        "sqs_config": JSONSchema.object(["region": .string(), "endpoint": .string(), "queue_url": .string(), "access_key_id": .string()]).orNull,
        "nats_config": JSONSchema.object(["server_urls": .array(.string()), "subject": .string()]).orNull,
    ])
}

extension V1.ListTriggersResponse: DocumentedResponse {
    static let schema = JSONSchema.list("triggers", of: V1.Trigger.schema)
}
