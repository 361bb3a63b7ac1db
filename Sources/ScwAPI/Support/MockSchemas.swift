import Hummingbird

// The answers of the `/_mock` test controls and of token creation, described for `GET /_mock/openapi.json` as
// the API's own answers are (`DocumentedResponse`), so a client generated from the document, and schemathesis,
// read them with their real fields.

extension JSONSchema {
    /// A JSON number (integer or not).
    static var number: JSONSchema { JSONSchema(types: ["number"]) }
}

/// An edited answer (a token's, whose `Date` is its `iat`) has the schema of what it wraps.
extension EditedResponse: DocumentedResponse where Generator: DocumentedResponse {
    static var schema: JSONSchema { Generator.schema }
}

extension AdminController.ClockState: DocumentedResponse {
    static let schema = JSONSchema.object(
        ["now": JSONSchema.timestamp, "offset_seconds": .number, "frozen": .boolean], required: ["now", "offset_seconds", "frozen"])
}

extension AdminController.Faults: DocumentedResponse {
    static let schema = JSONSchema.object(
        [
            "faults": .array(
                .object(
                    [
                        "method": JSONSchema.string().orNull, "path": .string(), "status": JSONSchema.integer().orNull,
                        "latency_ms": JSONSchema.integer().orNull, "count": JSONSchema.integer().orNull, "until": JSONSchema.string().orNull,
                    ], required: ["path"]))
        ], required: ["faults"])
}

extension AdminController.Requests: DocumentedResponse {
    static let schema = JSONSchema.object(
        [
            "requests": .array(
                .object(
                    [
                        "time": JSONSchema.timestamp, "method": .string(), "path": .string(), "status": .integer(), "access_key": .string(),
                        "request_id": .string(), "duration_ms": .number,
                    ], required: ["time", "method", "path", "status", "access_key", "request_id", "duration_ms"]))
        ], required: ["requests"])
}

extension AdminController.Forged: DocumentedResponse {
    static let schema = JSONSchema.object(["kind": .string(), "token": .string()], required: ["kind", "token"])
}

extension AdminController.Storage: DocumentedResponse {
    static let schema = JSONSchema.object(
        ["page_size": .integer(), "page_count": .integer(), "max_page_count": .integer(), "full": .boolean],
        required: ["page_size", "page_count", "max_page_count", "full"])
}

extension AdminController.Done: DocumentedResponse {
    static let schema = JSONSchema.object(["status": .string(), "duration_ms": .number], required: ["status", "duration_ms"])
}

extension MockController.JWKS: DocumentedResponse {
    static let schema = JSONSchema.object(
        [
            "keys": .array(
                .object(
                    ["kty": .string(), "kid": .string(), "use": .string(), "alg": .string(), "n": .string(), "e": .string()],
                    required: ["kty", "kid", "use", "alg", "n", "e"]))
        ], required: ["keys"])
}

extension MockController.Health: DocumentedResponse {
    static let schema = JSONSchema.object(
        [
            "status": .string(), "version": .string(), "database": .string(), "auth": .string(), "regions": .array(.string()),
            "routes": .array(.string()),
            "key_pool": .object(["bits": .integer(), "ready": .integer(), "target": .integer()], required: ["bits", "ready", "target"]),
        ], required: ["status", "version", "database", "auth", "regions", "routes", "key_pool"])
}

extension FaultAck: DocumentedResponse {
    static let schema = JSONSchema.object(["status": .string()], required: ["status"])
}

extension LogsResponse: DocumentedResponse {
    static let schema = JSONSchema.object(
        [
            "lines": .array(.object(["time": JSONSchema.timestamp, "stream": .string(), "line": .string()], required: ["time", "stream", "line"])),
            "dropped": .integer(),
        ], required: ["lines", "dropped"])
}
