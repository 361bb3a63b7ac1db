import Foundation
import ScwDomain
import ScwEngine

/// Fixtures describe containers, functions and triggers with the API's own field names (containers and triggers as
/// v1 writes them, functions as functions v1beta1 writes them), so that a fixture is read by the very decoders and
/// validation the API uses, and `GET /_mock/state` writes what `--seed` reads.
public enum FixtureWire {
    /// A container's settings from a fixture entry (v1 field names; secrets as a map).
    public static func containerPatch(_ entry: JSONDocument) throws -> ContainerPatch {
        try decode(V1.ContainerRequest.self, entry).patch(patching: false)
    }

    /// A function's settings from a fixture entry (functions v1beta1 field names; secrets as a map).
    public static func functionPatch(_ entry: JSONDocument) throws -> FunctionPatch {
        var patch = try decode(V1Beta1.FunctionRequest.self, stripping: ["secret_environment_variables"], entry).patch()
        if case .object(let o) = entry, case .object(let secrets)? = o["secret_environment_variables"] {
            patch.secrets = .merge(secrets.sorted { $0.key < $1.key }.compactMap { k, v in
                if case .string(let s) = v { return (k, s) } else { return nil }
            })
        }
        return patch
    }

    /// A trigger from a fixture entry (v1 field names: `cron_config`, `sqs_config`, `nats_config`, `destination_config`).
    public static func trigger(_ entry: JSONDocument, application: ApplicationRef) throws -> TriggerService.Draft {
        let r = try decode(V1.TriggerRequest.self, entry)
        guard let name = r.name else { throw ScwError.invalid("name", .required, "required key not provided") }
        let source: TriggerSource
        switch (r.cron_config, r.sqs_config, r.nats_config) {
        case (let c?, nil, nil):
            guard let schedule = c.schedule else { throw ScwError.invalid("cron_config.schedule", .required, "required key not provided") }
            source = .cron(schedule: schedule, timezone: c.timezone ?? "UTC", body: c.body ?? "", headers: c.headers ?? [:])
        case (nil, let c?, nil):
            source = .sqs(region: c.region ?? "", endpoint: c.endpoint ?? "", queueURL: c.queue_url ?? "", accessKeyID: c.access_key_id ?? "",
                          secretAccessKey: c.secret_access_key ?? "")
        case (nil, nil, let c?):
            source = .nats(serverURLs: c.server_urls ?? [], subject: c.subject ?? "", credentials: c.credentials_file_content ?? "")
        default:
            throw ScwError.invalid("cron_config", .constraint, "exactly one of cron_config, sqs_config and nats_config must be set")
        }
        return TriggerService.Draft(application: application, name: name, description: r.description ?? "", tags: r.tags ?? [],
                                    source: source, httpPath: r.destination_config?.http_path ?? "/",
                                    httpMethod: r.destination_config?.http_method ?? "post")
    }

    /// The API fields a fixture's container entry may carry (the containers v1 request's).
    public static let containerFields = fieldNames(V1.ContainerRequest.self)
    /// The API fields a fixture's function entry may carry (the functions v1beta1 request's).
    public static let functionFields = fieldNames(V1Beta1.FunctionRequest.self)
    /// The API fields a fixture's trigger entry may carry (the v1 trigger request's).
    public static let triggerFields = fieldNames(V1.TriggerRequest.self)

    /// The JSON field names of a request type whose fields are all optional (wire types use Scaleway's names as
    /// property names, so reflection over an empty request lists them).
    private static func fieldNames<T: Decodable>(_ type: T.Type) -> Set<String> {
        guard let empty = try? WireJSON.decoder.decode(T.self, from: Data("{}".utf8)) else { return [] }
        return Set(Mirror(reflecting: empty).children.compactMap(\.label))
    }

    /// A container as a fixture entry (v1's fields, plain secrets), for `GET /_mock/state`.
    public static func entry(_ c: Container) -> JSONDocument {
        var o = object(V1.Container(c))
        for key in ["status", "error_message", "created_at", "updated_at", "public_endpoint", "region", "namespace_id"] { o[key] = nil }
        o["secret_environment_variables"] = .object(c.secretValues.mapValues { .string($0) })
        return .object(o)
    }

    /// A function as a fixture entry.
    public static func entry(_ f: Function) -> JSONDocument {
        var o = object(V1Beta1.Function(f, written: false))
        for key in ["status", "error_message", "build_message", "runtime_message", "created_at", "updated_at", "ready_at", "domain_name",
                    "region", "namespace_id", "cpu_limit"] { o[key] = nil }
        o["cpu_limit"] = nil
        o["secret_environment_variables"] = .object(f.secretValues.mapValues { .string($0) })
        return .object(o)
    }

    /// A trigger as a fixture entry, secrets included (the state is an explicit export).
    public static func entry(_ t: Trigger) -> JSONDocument {
        var o = object(V1.Trigger(t))
        for key in ["status", "error_message", "created_at", "updated_at", "container_id", "source_type"] { o[key] = nil }
        switch t.source {
        case .sqs(let region, let endpoint, let queueURL, let accessKeyID, let secret):
            o["sqs_config"] = object(V1.SQSConfig(region: region, endpoint: endpoint, queue_url: queueURL, access_key_id: accessKeyID,
                                                  secret_access_key: secret)).asDocument
        case .nats(let servers, let subject, let credentials):
            o["nats_config"] = object(V1.NATSConfig(server_urls: servers, subject: subject, credentials_file_content: credentials)).asDocument
        default:
            break
        }
        return .object(o)
    }

    private static func object(_ value: some Encodable) -> [String: JSONDocument] {
        guard let data = try? WireJSON.encoder.encode(value), case .object(let o)? = try? WireJSON.decoder.decode(JSONDocument.self, from: data) else {
            return [:]
        }
        return o
    }

    private static func decode<T: Decodable>(_ type: T.Type, stripping keys: [String] = [], _ entry: JSONDocument) throws -> T {
        var document = entry
        if case .object(var o) = entry {
            for key in keys { o[key] = nil }
            document = .object(o)
        }
        let data = try WireJSON.encoder.encode(document)
        do {
            return try WireJSON.decoder.decode(T.self, from: data)
        } catch let error as DecodingError {
            throw ScwError.invalidArguments([WireJSON.problem(for: error)])
        }
    }
}

extension Dictionary where Key == String, Value == JSONDocument {
    fileprivate var asDocument: JSONDocument { .object(self) }
}
