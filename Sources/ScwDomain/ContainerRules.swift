/// A probe as a request gives it; unset fields keep the current probe's values (the default's on creation).
public struct ProbePatch: Sendable, Equatable {
    public var failureThreshold: Int?
    public var intervalSeconds: Int?
    public var timeoutSeconds: Int?
    public var check: Probe.Check?

    /// An empty probe patch.
    public init() {}

    /// `base` with the fields this patch sets.
    public func applied(to base: Probe) -> Probe {
        var probe = base
        if let v = failureThreshold { probe.failureThreshold = v }
        if let v = intervalSeconds { probe.intervalSeconds = v }
        if let v = timeoutSeconds { probe.timeoutSeconds = v }
        if let v = check { probe.check = v }
        return probe
    }
}

/// What a client asks to set on a container, translated from its API version; nil = not given (or explicit null).
public struct ContainerPatch: Sendable {
    public var description: String?
    public var environmentVariables: [String: String]?
    public var minScale: Int?
    public var maxScale: Int?
    public var memoryLimitBytes: Int64?
    public var mvcpuLimit: Int?
    public var timeoutSeconds: Int?
    public var privacy: Privacy?
    public var image: String?
    public var maxConcurrency: Int?
    public var `protocol`: ContainerProtocol?
    public var port: Int?
    public var httpsOnly: Bool?
    public var sandbox: Sandbox?
    public var localStorageLimitBytes: Int64?
    public var scalingOption: ScalingOption?
    public var livenessProbe: ProbePatch?
    public var startupProbe: ProbePatch?
    public var tags: [String]?
    /// `""` detaches (v1 PATCH).
    public var privateNetworkID: String?
    public var command: [String]?
    public var args: [String]?
    public var secrets: SecretChange = .unchanged
    public var hashProfile: SecretHashProfile = .legacy
    /// v1beta1's deprecated `redeploy: true` (every PATCH redeploys anyway).
    public var forceRedeploy = false

    /// An empty patch.
    public init() {}

    /// Applies the patch to `spec`. On creation, a memory size given without a CPU limit derives the CPU the way
    /// Scaleway does (128 MB → 70 mvCPU, 256 → 140: 70 mvCPU per 128 MB). v1beta1's `max_concurrency` and the
    /// `concurrent_requests_threshold` scaling option are one setting (recorded equal on Scaleway, each one mapped to the
    /// other): setting either alone sets both, unless the container scales on CPU or memory usage (an out-of-range value
    /// is left to fail its own check).
    public func applied(to spec: ContainerSpec, creating: Bool) -> ContainerSpec {
        var s = appliedShared(to: spec)
        if let v = memoryLimitBytes {
            s.memoryLimitBytes = v
            if creating && mvcpuLimit == nil { s.mvcpuLimit = Int((v / 1_000_000 * 70 + 64) / 128) }
        }
        if let v = mvcpuLimit { s.mvcpuLimit = v }
        if let v = image { s.image = v }
        if let v = maxConcurrency {
            s.maxConcurrency = v
            if scalingOption == nil, ContainerRules.concurrencyRange.contains(v), case .concurrentRequests = s.scalingOption {
                s.scalingOption = .concurrentRequests(v)
            }
        }
        if let v = self.protocol { s.protocol = v }
        if let v = port { s.port = v }
        if let v = localStorageLimitBytes { s.localStorageLimitBytes = v }
        if let v = scalingOption {
            s.scalingOption = v
            if maxConcurrency == nil, case .concurrentRequests(let n) = v, ContainerRules.concurrencyRange.contains(n) { s.maxConcurrency = n }
        }
        if let v = livenessProbe { s.livenessProbe = v.applied(to: s.livenessProbe) }
        if let v = startupProbe { s.startupProbe = v.applied(to: s.startupProbe ?? .defaultLiveness) }
        if let v = command { s.command = v }
        if let v = args { s.args = v }
        return s
    }
}

/// Validation of container settings. Limits follow Scaleway's containers-limitations page where it gives them
/// (CPU 70–6000 mvCPU, max scale 50, reserved ports, 100 variables counting the namespace's); the rest are the
/// mock's documented choices. Problems name v1's arguments; the v1beta1 layer renames them.
public enum ContainerRules {
    /// Ports the platform keeps for itself.
    public static let reservedPorts: Set<Int> = [8008, 8012, 8013, 8022, 9090, 9091]
    /// Longest container name: the endpoint label `<prefix≤28>-<name>` must fit a 63-character DNS label.
    public static let maxNameLength = 34
    /// Allowed `max_concurrency` and `concurrent_requests_threshold`.
    public static let concurrencyRange = 1...80

    /// Checks a container name (same alphabet as namespaces).
    public static func nameProblem(_ name: String, kind: ResourceKind = .container) -> ArgumentProblem? {
        if var problem = NamespaceRules.nameProblem(name) {
            problem.helpMessage = problem.helpMessage.replacingOccurrences(of: "namespace name", with: "\(kind.rawValue) name")
            return problem
        }
        guard name.count <= maxNameLength else {
            return ArgumentProblem(argumentName: "name", reason: .constraint, helpMessage: "name must be at most \(maxNameLength) characters long")
        }
        return nil
    }

    /// Every problem with `spec` for a container in `namespace` with `secretCount` secrets.
    public static func problems(_ spec: ContainerSpec, in namespace: Namespace) -> [ArgumentProblem] {
        var p = ApplicationRules.scaleProblems(spec)
        func bad(_ argument: String, _ help: String, _ reason: ArgumentProblem.Reason = .constraint) {
            p.append(ArgumentProblem(argumentName: argument, reason: reason, helpMessage: help))
        }
        let memoryMB = spec.memoryLimitBytes / 1_000_000
        if spec.memoryLimitBytes % 1_000_000 != 0 || memoryMB < 128 || memoryMB > 16384 {
            bad("memory_limit_bytes", "memory must be a whole number of MB between 128 and 16384")
        }
        if spec.mvcpuLimit < 70 || spec.mvcpuLimit > 6000 { bad("mvcpu_limit", "cpu must be between 70 and 6000 mvCPU") }
        if spec.timeoutSeconds < 1 || spec.timeoutSeconds > 900 { bad("timeout", "timeout must be between 1s and 900s") }
        if spec.port < 1 || spec.port > 65535 { bad("port", "port must be between 1 and 65535") }
        if reservedPorts.contains(spec.port) { bad("port", "ports 8008, 8012, 8013, 8022, 9090 and 9091 are reserved by the platform") }
        if let problem = imageProblem(spec.image) { bad("image", problem, .format) }
        if !concurrencyRange.contains(spec.maxConcurrency) { bad("max_concurrency", "max_concurrency must be between 1 and 80") }
        if spec.localStorageLimitBytes % 1_000_000 != 0 || spec.localStorageLimitBytes < 1_000_000 || spec.localStorageLimitBytes > 100_000_000_000 {
            bad("local_storage_limit_bytes", "local storage must be a whole number of MB between 1 and 100000")
        }
        switch spec.scalingOption {
        case .concurrentRequests(let n) where !concurrencyRange.contains(n):
            bad("scaling_option.concurrent_requests_threshold", "must be between 1 and 80")
        case .cpuUsage(let n) where n < 1 || n > 100, .memoryUsage(let n) where n < 1 || n > 100:
            bad("scaling_option", "usage thresholds are percentages between 1 and 100")
        default: break
        }
        for (name, probe) in [("liveness_probe", Optional(spec.livenessProbe)), ("startup_probe", spec.startupProbe)] {
            guard let probe else { continue }
            if probe.failureThreshold < 1 || probe.failureThreshold > 100 { bad("\(name).failure_threshold", "must be between 1 and 100") }
            if probe.intervalSeconds < 1 || probe.intervalSeconds > 3600 { bad("\(name).interval", "must be between 1s and 3600s") }
            if probe.timeoutSeconds < 1 || probe.timeoutSeconds > 3600 { bad("\(name).timeout", "must be between 1s and 3600s") }
            if case .http(let path) = probe.check, !path.hasPrefix("/") || path.utf8.contains(0) { bad("\(name).http.path", "must start with /", .format) }
        }
        p += ApplicationRules.metadataAndEnvironmentProblems(spec, in: namespace)
        for (name, list) in [("command", spec.command), ("args", spec.args)] {
            if list.count > 1000 { bad(name, "at most 1000 entries") }
            if list.contains(where: { $0.utf8.contains(0) || $0.count > 4096 }) { bad(name, "entries must be at most 4096 characters, without NUL", .format) }
        }
        return p + ApplicationRules.networkProblems(spec)
    }

    /// Why an image reference is malformed, or nil: `[host[:port]/]path[:tag][@sha256:digest]`, lower-case path.
    public static func imageProblem(_ image: String) -> String? {
        let message = "image must be a reference like rg.fr-par.scw.cloud/namespace/image:tag or nginx:latest"
        guard !image.isEmpty, image.count <= 512, image.unicodeScalars.allSatisfy({ $0.value > 32 && $0.value < 127 }) else { return message }
        var rest = Substring(image)
        if let at = rest.firstIndex(of: "@") {
            let digest = rest[rest.index(after: at)...]
            guard digest.hasPrefix("sha256:"), digest.dropFirst(7).count == 64,
                  digest.dropFirst(7).allSatisfy({ $0.isHexDigit && !$0.isUppercase }) else { return message }
            rest = rest[..<at]
        }
        var components = rest.split(separator: "/", omittingEmptySubsequences: false)
        guard !components.isEmpty else { return message }
        var last = components.removeLast()
        if let colon = last.lastIndex(of: ":") {
            let tag = last[last.index(after: colon)...]
            guard !tag.isEmpty, tag.count <= 128, tag.first != "." && tag.first != "-",
                  tag.allSatisfy({ $0.isLetter || $0.isNumber || "_.-".contains($0) }) else { return message }
            last = last[..<colon]
        }
        components.append(last)
        func alnum(_ ch: Character) -> Bool { ch.isASCII && ((ch.isLetter && ch.isLowercase) || ch.isNumber) }
        func pathOK(_ c: Substring) -> Bool {
            guard let first = c.first, let last = c.last else { return false }
            return alnum(first) && alnum(last) && c.allSatisfy { alnum($0) || "._-".contains($0) }
        }
        // The first component is a registry host when it has a dot or a port (or is localhost).
        if components.count > 1, components[0].contains(".") || components[0].contains(":") || components[0] == "localhost" {
            let host = components.removeFirst()
            let hostParts = host.split(separator: ":", omittingEmptySubsequences: false)
            let labels = hostParts[0].split(separator: ".", omittingEmptySubsequences: false)
            guard hostParts.count <= 2, labels.allSatisfy({ label in
                !label.isEmpty && label.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }
            }) else { return message }
            if hostParts.count == 2, Int(hostParts[1]).map({ !(1...65535).contains($0) }) ?? true { return message }
        }
        guard !components.isEmpty, components.allSatisfy({ !$0.isEmpty && pathOK($0) }) else { return message }
        return nil
    }
}
