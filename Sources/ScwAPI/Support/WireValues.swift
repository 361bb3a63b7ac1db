import ScwDomain

/// Parsing of the wire's special values: Go durations, `unknown_*` enum sentinels, 64-bit sizes sent as numbers or strings.
enum WireValues {
    /// `"300s"` or `"300.000000000s"` (Go) → 300; anything else (`"5m"`, `"-1s"`, `"1.5s"`, a number) is a 400.
    static func seconds(_ raw: String?, argument: String) throws -> Int? {
        guard let raw else { return nil }
        let bad = ScwError.invalid(argument, .format, "\(argument) must be a duration in whole seconds such as \"300s\"")
        guard raw.hasSuffix("s") else { throw bad }
        let number = raw.dropLast()
        let parts = number.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count <= 2, let whole = Int(parts[0]), whole >= 0, !parts[0].hasPrefix("+") else { throw bad }
        if parts.count == 2 { guard !parts[1].isEmpty, parts[1].allSatisfy({ $0 == "0" }) else { throw bad } }
        return whole
    }

    /// A duration as Scaleway answers it: integer seconds, `"300s"`.
    static func duration(_ seconds: Int) -> String { "\(seconds)s" }

    /// An enum value; the `unknown_*` sentinel the Go SDK sends on every PATCH means "not set".
    static func enumValue<T: RawRepresentable & CaseIterable>(_ raw: String?, _: T.Type, sentinel: String, argument: String) throws -> T?
    where T.RawValue == String {
        guard let raw, raw != sentinel else { return nil }
        guard let value = T(rawValue: raw) else {
            throw ScwError.invalid(argument, .format, "\(argument) must be one of \(T.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return value
    }
}

/// A 64-bit integer that may arrive as a JSON number or a decimal string (proto3 JSON encodes 64-bit sizes as strings).
struct WireInt64: Decodable, Sendable {
    var value: Int64

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let number = try? container.decode(Int64.self) {
            value = number
        } else if let text = try? container.decode(String.self), let number = Int64(text) {
            value = number
        } else {
            throw DecodingError.typeMismatch(Int64.self, .init(codingPath: decoder.codingPath, debugDescription: "expected an integer"))
        }
    }
}

/// `{}`: the body of `"tcp":{}`.
struct WireEmpty: Codable, Sendable {}

/// `{"concurrent_requests_threshold":50}` and its siblings: exactly one key is set.
struct WireScalingOption: Codable, Sendable {
    var concurrent_requests_threshold: Int?
    var cpu_usage_threshold: Int?
    var memory_usage_threshold: Int?

    init(_ option: ScalingOption) {
        switch option {
        case .concurrentRequests(let n): concurrent_requests_threshold = n
        case .cpuUsage(let n): cpu_usage_threshold = n
        case .memoryUsage(let n): memory_usage_threshold = n
        }
    }

    func domain() throws -> ScalingOption {
        switch (concurrent_requests_threshold, cpu_usage_threshold, memory_usage_threshold) {
        case (let n?, nil, nil): return .concurrentRequests(n)
        case (nil, let n?, nil): return .cpuUsage(n)
        case (nil, nil, let n?): return .memoryUsage(n)
        default: throw ScwError.invalid("scaling_option", .constraint, "exactly one of concurrent_requests_threshold, cpu_usage_threshold, memory_usage_threshold must be set")
        }
    }
}

/// A health check or probe on the wire; v1beta1 has no `timeout`.
struct WireProbe: Codable, Sendable {
    struct HTTP: Codable, Sendable { var path: String }
    var failure_threshold: Int?
    var interval: String?
    var timeout: String?
    var http: HTTP?
    var tcp: WireEmpty?

    init(_ probe: Probe, withTimeout: Bool) {
        failure_threshold = probe.failureThreshold
        interval = WireValues.duration(probe.intervalSeconds)
        timeout = withTimeout ? WireValues.duration(probe.timeoutSeconds) : nil
        switch probe.check {
        case .http(let path): http = HTTP(path: path)
        case .tcp: tcp = WireEmpty()
        }
    }

    /// The probe change this request asks for; unset fields keep the container's current values.
    func domain(argument: String) throws -> ProbePatch {
        var probe = ProbePatch()
        probe.failureThreshold = failure_threshold
        probe.intervalSeconds = try WireValues.seconds(interval, argument: "\(argument).interval")
        probe.timeoutSeconds = try WireValues.seconds(timeout, argument: "\(argument).timeout")
        switch (http, tcp) {
        case (let h?, nil): probe.check = .http(path: h.path)
        case (nil, _?): probe.check = .tcp
        case (nil, nil): break
        default: throw ScwError.invalid(argument, .constraint, "exactly one of http and tcp must be set")
        }
        return probe
    }
}
