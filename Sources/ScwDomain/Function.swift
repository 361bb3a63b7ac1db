/// Tag for function ids.
public enum FunctionTag {}
/// Id of a function.
public typealias FunctionID = Identifier<FunctionTag>

/// Everything a client configures on a function.
public struct FunctionSpec: Sendable, Equatable, Codable {
    public var description: String
    public var environmentVariables: [String: String]
    public var minScale: Int
    public var maxScale: Int
    public var memoryLimitMB: Int
    public var cpuLimit: Int
    public var runtime: String
    public var handler: String
    public var privacy: Privacy
    public var timeoutSeconds: Int
    /// `http_option` `redirected` (true) / `enabled` (false).
    public var httpsOnly: Bool
    public var sandbox: Sandbox
    public var tags: [String]
    public var privateNetworkID: String?

    /// Defaults for a function of `runtime` (memory 256 MB → 140 mvCPU, the values Terraform and the recordings show).
    public static func defaults(runtime: String) -> FunctionSpec {
        FunctionSpec(description: "", environmentVariables: [:], minScale: 0, maxScale: 20, memoryLimitMB: 256, cpuLimit: 140,
                     runtime: runtime, handler: FunctionRuntimes.find(runtime)?.defaultHandler ?? "handler.handle", privacy: .public,
                     timeoutSeconds: 300, httpsOnly: false, sandbox: .v2, tags: [], privateNetworkID: nil)
    }
}

/// A serverless function: the fields every application has (`core`), its settings, and whether code was uploaded.
public struct Function: Sendable, Equatable {
    public var id: FunctionID
    public var core: ApplicationCore
    public var spec: FunctionSpec
    /// Whether a code archive has been uploaded (a deploy without one ends in `error`).
    public var hasCode: Bool

    /// Creates a function value.
    public init(id: FunctionID, core: ApplicationCore, spec: FunctionSpec, hasCode: Bool) {
        self.id = id
        self.core = core
        self.spec = spec
        self.hasCode = hasCode
    }

    /// The message Scaleway reports when a function is deployed without uploaded code.
    public static let noCodeMessage = "internal error"

    /// The outcome a deploy starting now will have: "internal error" without uploaded code (Scaleway's answer to a
    /// deploy of a function whose archive was never uploaded). Stored in `errorMessage` when the deploy starts, so
    /// that uploading code afterwards does not change that deploy's result.
    public var deployOutcome: String? { hasCode ? nil : Self.noCodeMessage }
}

extension FunctionSpec: ApplicationSpec {}

extension Function: Application {
    public static var kind: ResourceKind { .function }
    public static var namespaceKind: NamespaceKind { .function }
    public static func ref(_ id: FunctionID) -> ApplicationRef { .function(id) }

    /// A new function has no code yet.
    public init(id: FunctionID, core: ApplicationCore, spec: FunctionSpec) {
        self.init(id: id, core: core, spec: spec, hasCode: false)
    }

    /// A function is created for a runtime; its handler defaults to the runtime's.
    public static func defaults(name: String, namespace: Namespace, patch: FunctionPatch) throws(ScwError) -> FunctionSpec {
        guard let runtime = patch.runtime else { throw .invalid("runtime", .required, "runtime is required") }
        return .defaults(runtime: runtime)
    }

    public static func problems(_ spec: FunctionSpec, in namespace: Namespace) -> [ArgumentProblem] {
        FunctionPatch.problems(spec, in: namespace)
    }

    /// A function is never deployed by its create: it stays `created` until `deploy` or a PATCH.
    public static func creationEvent(deploy: Bool) -> ApplicationLifecycle.Event { .createdOnly }
}

/// One entry of `GET …/runtimes` (`{name, language, version, default_handler, code_sample, status,
/// status_message, extension, implementation, logo_url}`).
public struct FunctionRuntime: Sendable, Equatable {
    public var name: String
    public var language: String
    public var version: String
    public var defaultHandler: String
    public var status: String
    public var `extension`: String
    public var implementation: String
    public var codeSample: String
}

/// The runtimes of the Python SDK's enum, with the statuses the mock reports (older ones end of life).
public enum FunctionRuntimes {
    /// Every runtime, in the SDK's order.
    public static let all: [FunctionRuntime] = {
        func python(_ name: String, _ version: String, _ status: String) -> FunctionRuntime {
            FunctionRuntime(name: name, language: "Python", version: version, defaultHandler: "handler.handle", status: status,
                            extension: ".py", implementation: "python", codeSample: "def handle(event, context):\n    return {\"body\": \"Hello World\"}\n")
        }
        func node(_ name: String, _ version: String, _ status: String) -> FunctionRuntime {
            FunctionRuntime(name: name, language: "Node", version: version, defaultHandler: "handler.handle", status: status,
                            extension: ".js", implementation: "node",
                            codeSample: "module.exports.handle = (event, context, callback) => {\n  return { body: \"Hello World\" };\n};\n")
        }
        func go(_ name: String, _ version: String, _ status: String) -> FunctionRuntime {
            FunctionRuntime(name: name, language: "Go", version: version, defaultHandler: "Handle", status: status, extension: ".go",
                            implementation: "golang",
                            codeSample: "package handler\n\nimport \"net/http\"\n\nfunc Handle(w http.ResponseWriter, r *http.Request) {\n\tw.Write([]byte(\"Hello World\"))\n}\n")
        }
        func php(_ name: String, _ version: String, _ status: String) -> FunctionRuntime {
            FunctionRuntime(name: name, language: "PHP", version: version, defaultHandler: "handler.handle", status: status, extension: ".php",
                            implementation: "php", codeSample: "<?php\nfunction handle($event, $context) {\n  return [\"body\" => \"Hello World\"];\n}\n")
        }
        func rust(_ name: String, _ version: String, _ status: String) -> FunctionRuntime {
            FunctionRuntime(name: name, language: "Rust", version: version, defaultHandler: "handler", status: status, extension: ".rs",
                            implementation: "rust", codeSample: "pub async fn handler(req: Request<Body>) -> Response<Body> {\n    Response::new(Body::from(\"Hello World\"))\n}\n")
        }
        return [
            go("golang", "1.x", "end_of_life"), python("python", "2.7", "end_of_life"), python("python3", "3.x", "end_of_life"),
            node("node8", "8", "end_of_life"), node("node10", "10", "end_of_life"), node("node14", "14", "end_of_life"),
            node("node16", "16", "end_of_life"), node("node17", "17", "end_of_life"), python("python37", "3.7", "end_of_life"),
            python("python38", "3.8", "end_of_life"), python("python39", "3.9", "end_of_support"), python("python310", "3.10", "deprecated"),
            go("go113", "1.13", "end_of_life"), go("go117", "1.17", "end_of_life"), go("go118", "1.18", "end_of_life"),
            node("node18", "18", "deprecated"), rust("rust165", "1.65", "end_of_life"), go("go119", "1.19", "end_of_life"),
            python("python311", "3.11", "available"), php("php82", "8.2", "deprecated"), node("node19", "19", "end_of_life"),
            go("go120", "1.20", "end_of_life"), node("node20", "20", "available"), go("go121", "1.21", "end_of_support"),
            node("node22", "22", "available"), python("python312", "3.12", "available"), php("php83", "8.3", "available"),
            go("go122", "1.22", "deprecated"), rust("rust179", "1.79", "deprecated"), go("go123", "1.23", "deprecated"),
            go("go124", "1.24", "available"), python("python313", "3.13", "available"), rust("rust185", "1.85", "available"),
            php("php84", "8.4", "available"), node("node24", "24", "available"), node("node26", "26", "available"),
            go("go125", "1.25", "available"), go("go126", "1.26", "available"), php("php85", "8.5", "beta"),
            python("python314", "3.14", "beta"), rust("rust196", "1.96", "beta"),
        ]
    }()

    /// A runtime by name.
    public static func find(_ name: String) -> FunctionRuntime? { all.first { $0.name == name } }
}

/// What a client asks to set on a function; nil = not given.
public struct FunctionPatch: Sendable, ApplicationPatch {
    public var description: String?
    public var environmentVariables: [String: String]?
    public var minScale: Int?
    public var maxScale: Int?
    public var memoryLimitMB: Int?
    public var cpuLimit: Int?
    public var runtime: String?
    public var handler: String?
    public var privacy: Privacy?
    public var timeoutSeconds: Int?
    public var httpsOnly: Bool?
    public var sandbox: Sandbox?
    public var tags: [String]?
    public var privateNetworkID: String?
    public var secrets: SecretChange = .unchanged
    /// The functions API shows one Argon2id parameter set.
    public var hashProfile: SecretHashProfile { .legacy }

    /// An empty patch.
    public init() {}

    /// Applies the patch; memory without CPU derives the CPU (70 mvCPU per 128 MB, as recorded), on create and PATCH.
    public func applied(to spec: FunctionSpec, creating: Bool = false) -> FunctionSpec {
        var s = appliedShared(to: spec)
        if let v = memoryLimitMB {
            s.memoryLimitMB = v
            if cpuLimit == nil { s.cpuLimit = (v * 70 + 64) / 128 }
        }
        if let v = cpuLimit { s.cpuLimit = v }
        if let v = runtime {
            if handler == nil, s.handler == FunctionRuntimes.find(s.runtime)?.defaultHandler {
                s.handler = FunctionRuntimes.find(v)?.defaultHandler ?? s.handler
            }
            s.runtime = v
        }
        if let v = handler { s.handler = v }
        return s
    }

    /// Problems with a function's settings (same limits as containers where they apply; 4096 MB and 15 minutes at most).
    public static func problems(_ spec: FunctionSpec, in namespace: Namespace) -> [ArgumentProblem] {
        var p = ApplicationRules.scaleProblems(spec)
        func bad(_ argument: String, _ help: String, _ reason: ArgumentProblem.Reason = .constraint) {
            p.append(ArgumentProblem(argumentName: argument, reason: reason, helpMessage: help))
        }
        if spec.memoryLimitMB < 128 || spec.memoryLimitMB > 4096 { bad("memory_limit", "memory_limit must be between 128 and 4096 MB") }
        if spec.cpuLimit < 70 || spec.cpuLimit > 6000 { bad("cpu_limit", "cpu must be between 70 and 6000 mvCPU") }
        if FunctionRuntimes.find(spec.runtime) == nil { bad("runtime", "runtime must be one of the runtimes GET …/runtimes lists", .format) }
        if spec.handler.isEmpty || spec.handler.count > 255 || spec.handler.utf8.contains(0) { bad("handler", "handler must be 1 to 255 characters") }
        if spec.timeoutSeconds < 1 || spec.timeoutSeconds > 900 { bad("timeout", "timeout must be between 1s and 900s") }
        return p + ApplicationRules.metadataAndEnvironmentProblems(spec, in: namespace) + ApplicationRules.networkProblems(spec)
    }
}
