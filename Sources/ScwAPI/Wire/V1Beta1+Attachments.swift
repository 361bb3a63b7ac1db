import Foundation
import Hummingbird
import ScwDomain

extension V1Beta1 {
    /// A cron: no timestamps; `args` is any JSON.
    struct Cron: ResponseEncodable, Sendable {
        var id: String
        var container_id: String?
        var function_id: String?
        var schedule: String
        var args: JSONDocument
        var status: String
        var name: String
    }

    /// Body of `POST …/crons` and `PATCH …/crons/{id}` (PATCH fields are all optional).
    struct CronRequest: Decodable, Sendable {
        var container_id: String?
        var function_id: String?
        var schedule: String?
        var args: JSONDocument?
        var name: String?
    }

    /// `{"crons":[…],"total_count":N}`.
    struct ListCronsResponse: ResponseEncodable, Sendable {
        var crons: [Cron]
        var total_count: Int
    }

    /// A custom domain: `url` is "" until ready.
    struct Domain: ResponseEncodable, Sendable {
        var id: String
        var hostname: String
        var container_id: String?
        var function_id: String?
        var url: String
        var status: String
        var error_message: Nullable<String>
    }

    /// Body of `POST …/domains`.
    struct DomainRequest: Decodable, Sendable {
        var hostname: String?
        var container_id: String?
        var function_id: String?
    }

    /// `{"domains":[…],"total_count":N}`.
    struct ListDomainsResponse: ResponseEncodable, Sendable {
        var domains: [Domain]
        var total_count: Int
    }

    /// `scw_sqs_config`.
    struct SCWSQSConfig: Codable, Sendable {
        var queue: String?
        var mnq_project_id: String?
        var mnq_region: String?
        var mnq_credential_id: Nullable<String>?

        enum CodingKeys: String, CodingKey { case queue, mnq_project_id, mnq_region, mnq_credential_id }
        init(queue: String?, mnq_project_id: String?, mnq_region: String?, mnq_credential_id: Nullable<String>?) {
            self.queue = queue; self.mnq_project_id = mnq_project_id; self.mnq_region = mnq_region; self.mnq_credential_id = mnq_credential_id
        }
        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            queue = try c.decodeIfPresent(String.self, forKey: .queue)
            mnq_project_id = try c.decodeIfPresent(String.self, forKey: .mnq_project_id)
            mnq_region = try c.decodeIfPresent(String.self, forKey: .mnq_region)
            mnq_credential_id = nil
        }
    }

    /// `scw_nats_config`.
    struct SCWNATSConfig: Codable, Sendable {
        var subject: String?
        var mnq_nats_account_id: String?
        var mnq_project_id: String?
        var mnq_region: String?
        var mnq_credential_id: Nullable<String>?

        enum CodingKeys: String, CodingKey { case subject, mnq_nats_account_id, mnq_project_id, mnq_region, mnq_credential_id }
        init(subject: String?, mnq_nats_account_id: String?, mnq_project_id: String?, mnq_region: String?, mnq_credential_id: Nullable<String>?) {
            self.subject = subject; self.mnq_nats_account_id = mnq_nats_account_id; self.mnq_project_id = mnq_project_id
            self.mnq_region = mnq_region; self.mnq_credential_id = mnq_credential_id
        }
        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            subject = try c.decodeIfPresent(String.self, forKey: .subject)
            mnq_nats_account_id = try c.decodeIfPresent(String.self, forKey: .mnq_nats_account_id)
            mnq_project_id = try c.decodeIfPresent(String.self, forKey: .mnq_project_id)
            mnq_region = try c.decodeIfPresent(String.self, forKey: .mnq_region)
            mnq_credential_id = nil
        }
    }

    /// v1beta1 `sqs_config` (user credentials; the secret key is never echoed).
    struct SQSConfig: Codable, Sendable {
        var endpoint: String?
        var queue_url: String?
        var access_key: String?
        var secret_key: String?
    }

    /// A v1beta1 trigger.
    struct Trigger: ResponseEncodable, Sendable {
        var id: String
        var name: String
        var description: String
        var input_type: String
        var status: String
        var error_message: Nullable<String>
        var container_id: String?
        var function_id: String?
        var scw_sqs_config: SCWSQSConfig?
        var scw_nats_config: SCWNATSConfig?
        var sqs_config: SQSConfig?
    }

    /// Body of `POST …/triggers` and `PATCH …/triggers/{id}`.
    struct TriggerRequest: Decodable, Sendable {
        var name: String?
        var description: String?
        var container_id: String?
        var function_id: String?
        var scw_sqs_config: SCWSQSConfig?
        var scw_nats_config: SCWNATSConfig?
        var sqs_config: SQSConfig?
    }

    /// `{"triggers":[…],"total_count":N}`.
    struct ListTriggersResponse: ResponseEncodable, Sendable {
        var triggers: [Trigger]
        var total_count: Int
    }
}

extension V1Beta1.Cron {
    init(_ t: ScwDomain.Trigger, status: String? = nil) {
        var schedule = "", body = "{}"
        if case .cron(let s, _, let b, _) = t.source { (schedule, body) = (s, b) }
        // `args` is a JSON object on the wire (Go: *scw.JSONObject); a v1 body that is not one reads as {}.
        var args = JSONDocument.object([:])
        if case .object? = try? WireJSON.decoder.decode(JSONDocument.self, from: Data(body.utf8)) {
            args = (try? WireJSON.decoder.decode(JSONDocument.self, from: Data(body.utf8))) ?? args
        }
        let (container, function) = (t.application.id(of: .container), t.application.id(of: .function))
        self.init(id: t.id.rawValue, container_id: container, function_id: function, schedule: schedule, args: args,
                  status: status ?? V1Beta1.status(t.phase), name: t.name)
    }

    /// The JSON text of a cron's `args`, kept as the body the cron sends.
    static func body(_ args: JSONDocument?) -> String {
        guard let args, let data = try? WireJSON.encoder.encode(args) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }
}

extension V1Beta1.Domain {
    init(_ d: CustomDomain, status: String? = nil) {
        let (container, function) = (d.application.id(of: .container), d.application.id(of: .function))
        self.init(id: d.id.rawValue, hostname: d.hostname, container_id: container, function_id: function,
                  url: d.phase == .creating ? "" : "https://\(d.hostname)", status: status ?? V1Beta1.status(d.phase), error_message: nil)
    }
}

extension V1Beta1.Trigger {
    /// Renders a trigger. Containers said `pending` while creating in 2026-04 recordings, functions `creating`.
    init(_ t: ScwDomain.Trigger, status: String? = nil) {
        let (container, function) = (t.application.id(of: .container), t.application.id(of: .function))
        let shown: String
        if let status { shown = status } else if t.phase == .creating || t.phase == .updating { shown = container != nil ? "pending" : "creating" } else {
            shown = V1Beta1.status(t.phase)
        }
        // Platform credentials show once the trigger is ready, and stay in the DELETE answer of a ready trigger.
        let credential: Nullable<String> = Nullable(t.phase == .ready || t.phase == .deleting ? t.credentialID : nil)
        var scwSQS: V1Beta1.SCWSQSConfig?, scwNATS: V1Beta1.SCWNATSConfig?, sqs: V1Beta1.SQSConfig?
        switch t.source {
        case .scwSQS(let queue, let project, let region):
            scwSQS = .init(queue: queue, mnq_project_id: project, mnq_region: region, mnq_credential_id: credential)
        case .scwNATS(let subject, let account, let project, let region):
            scwNATS = .init(subject: subject, mnq_nats_account_id: account, mnq_project_id: project, mnq_region: region, mnq_credential_id: credential)
        case .sqs(_, let endpoint, let queueURL, let accessKey, _):
            sqs = .init(endpoint: endpoint, queue_url: queueURL, access_key: accessKey, secret_key: nil)
        case .cron, .nats:
            break
        }
        self.init(id: t.id.rawValue, name: t.name, description: t.description, input_type: t.source.typeName, status: shown,
                  error_message: nil, container_id: container, function_id: function, scw_sqs_config: scwSQS, scw_nats_config: scwNATS,
                  sqs_config: sqs)
    }
}


extension JSONSchema {
    /// Trigger names (crons and triggers of every version): 1 to 100 characters.
    static let triggerName = JSONSchema.string(minLength: 1, maxLength: 100)
}

extension V1Beta1.CronRequest {
    /// The `POST …/crons` body's schema in `GET /_mock/openapi.json`; `application` is `container_id` or `function_id`.
    static func schema(application: String) -> JSONSchema {
        .object(properties(application: application), required: [application, "schedule"])
    }
    /// The `PATCH …/crons/{id}` body's schema.
    static func updateSchema(application: String) -> JSONSchema { .object(properties(application: application)) }

    private static func properties(application: String) -> [String: JSONSchema] {
        [application: .uuid, "schedule": .cronSchedule, "args": JSONSchema(types: ["object"], description: "any JSON object"),
         "name": .triggerName]
    }
}

extension V1Beta1.DomainRequest {
    /// The `POST …/domains` body's schema in `GET /_mock/openapi.json`.
    static func schema(application: String) -> JSONSchema {
        .object([application: .uuid, "hostname": .string(format: "hostname", maxLength: 253)], required: [application, "hostname"])
    }
}

extension V1Beta1.TriggerRequest {
    /// The `POST …/triggers` body's schema in `GET /_mock/openapi.json`.
    static func schema(application: String) -> JSONSchema {
        .object([
            application: .uuid, "name": .triggerName, "description": .description,
            "scw_sqs_config": .object(["queue": .string(), "mnq_project_id": .uuid, "mnq_region": .region]),
            "scw_nats_config": .object(["subject": .string(), "mnq_nats_account_id": .string(), "mnq_project_id": .uuid, "mnq_region": .region]),
            "sqs_config": .object(["endpoint": .string(format: "uri"), "queue_url": .string(format: "uri"), "access_key": .string(),
                                   "secret_key": .string()]),
        ], required: [application, "name"], exactlyOneOf: ["scw_sqs_config", "scw_nats_config", "sqs_config"])
    }
    /// The `PATCH …/triggers/{id}` body's schema.
    static let updateSchema = JSONSchema.object([
        "name": .triggerName, "description": .description, "sqs_config": .object(["access_key": .string(), "secret_key": .string()]),
    ])
}

extension V1Beta1.Cron: DocumentedResponse {
    /// The answer's schema in `GET /_mock/openapi.json`.
    static let schema = JSONSchema.object([
        "id": .uuid, "container_id": .uuid, "function_id": .uuid, "schedule": .string(), "args": JSONSchema(types: ["object"]),
        "status": .string(), "name": .string(),
    ])
}

extension V1Beta1.ListCronsResponse: DocumentedResponse {
    static let schema = JSONSchema.list("crons", of: V1Beta1.Cron.schema)
}

extension V1Beta1.Domain: DocumentedResponse {
    /// The answer's schema in `GET /_mock/openapi.json`.
    static let schema = JSONSchema.object([
        "id": .uuid, "hostname": .string(), "container_id": .uuid, "function_id": .uuid, "url": .string(), "status": .string(),
        "error_message": .nullableString,
    ])
}

extension V1Beta1.ListDomainsResponse: DocumentedResponse {
    static let schema = JSONSchema.list("domains", of: V1Beta1.Domain.schema)
}

extension V1Beta1.Trigger: DocumentedResponse {
    /// The answer's schema in `GET /_mock/openapi.json` (credentials are never echoed). `mnq_project_id` is echoed as the
    /// trigger was created with it, `""` when the request named none: a string, not always a UUID.
    static let schema = JSONSchema.object([
        "id": .uuid, "name": .string(), "description": .string(), "input_type": .string(), "status": .string(),
        "error_message": .nullableString, "container_id": .uuid, "function_id": .uuid,
        "scw_sqs_config": .object(["queue": .string(), "mnq_project_id": .string(), "mnq_region": .string(), "mnq_credential_id": .nullableString]),
        "scw_nats_config": .object(["subject": .string(), "mnq_nats_account_id": .string(), "mnq_project_id": .string(), "mnq_region": .string(),
                                    "mnq_credential_id": .nullableString]),
        "sqs_config": .object(["endpoint": .string(), "queue_url": .string(), "access_key": .string()]),
    ])
}

extension V1Beta1.ListTriggersResponse: DocumentedResponse {
    static let schema = JSONSchema.list("triggers", of: V1Beta1.Trigger.schema)
}
