import Foundation
import ScwDomain
import ScwEngine
import ScwKeys

/// What the console shows, read through the same services as the API (the API layer never reads the store itself).
/// The console is the operator's view of the whole mock: it reads every organization's resources, as a principal of
/// each organization made here (no API key is involved and nothing is written).
struct ConsoleReader: Sendable {
    let services: APIServices

    /// A namespace and the containers or functions in it.
    struct NamespaceEntry: Sendable {
        var namespace: Namespace
        var applications: [ApplicationSummary]
    }

    /// What the overview lists of a container or function.
    struct ApplicationSummary: Sendable {
        var id: String
        var kind: ResourceKind
        var name: String
        /// The status word its API shows (v1 for containers, v1beta1 for functions).
        var status: String
        var errorMessage: String?
        var endpoint: String
        var privacy: Privacy
        var minScale: Int
        var maxScale: Int
        var namespaceID: NamespaceID
    }

    /// The facts in every page's header.
    struct Facts: Sendable {
        var now: Timestamp
        var frozen: Bool
        var offsetSeconds: Double
        var transitionDelaySeconds: Double
        var runtime: String
        var version: String
        var database: String
    }

    struct Overview: Sendable {
        var facts: Facts
        var projects: [Project]
        var namespaces: [NamespaceEntry]
    }

    /// Everything the page of one application shows.
    struct ApplicationDetail: Sendable {
        var summary: ApplicationSummary
        var namespace: Namespace
        /// Its settings as its API returns them, as indented JSON.
        var settingsJSON: String
        /// The API that JSON is from.
        var settingsAPI: String
        /// The environment its process was started with; nil when no process was started (runtime off, or never
        /// deployed since the server started).
        var environment: [String: String]?
        /// The names whose values are secrets (masked on the page).
        var secretNames: Set<String>
        var process: ProcessState
        var logs: [LogLine]
        var droppedLogLines: Int
        var runtimeEnabled: Bool
    }

    /// A process as its log tells it.
    struct ProcessState: Sendable, Equatable {
        var state: String
        var pid: Int?
        var port: Int?
        var startedAt: String?
        var restarts = 0
        var coldStarts = 0
        var crashes = 0
    }

    /// A namespace on the tokens page.
    struct NamespaceKeys: Sendable {
        var namespace: Namespace
        var applications: [ApplicationSummary]
        /// PKCS#1 PEM, nil while the namespace has no key yet (fixture namespaces get theirs when first needed).
        var publicKeyPEM: String?
        var jwkJSON: String?
        var tokens: [Token]
    }

    /// The outcome of the token box.
    struct Verification: Sendable {
        var target: String
        var targetLabel: String
        /// nil: valid.
        var refusal: String?
        var header: String?
        var payload: String?
        /// `iat`, `nbf` and `exp` of the payload as instants, when it has them.
        var instants: [(claim: String, at: String)] = []
        var checkedAt: Timestamp
    }

    // MARK: reading

    func facts() -> Facts {
        let runtime = services.gateway.runtime.settings
        return Facts(now: services.clock.now(), frozen: services.clock.isFrozen, offsetSeconds: Double(services.clock.offsetNanoseconds) / 1e9,
                     transitionDelaySeconds: Double(services.namespaces.settings.transitionDelayNanoseconds) / 1e9,
                     runtime: runtime.enabled ? "on: deployed applications run as local processes (private auth: \(runtime.privateAuth.rawValue))"
                        : "off: deploys settle after the transition delay, no process runs",
                     version: services.info.version, database: services.info.databasePath)
    }

    /// Every project of the store, the well-known one first (read directly: exporting the whole store for them made
    /// each page cost as much as `GET /_mock/state`).
    func projects() throws -> [Project] {
        let stored = try services.admin.projects().filter { $0.id != WellKnownIdentity.projectID }
        return [Project(id: WellKnownIdentity.projectID, organizationID: WellKnownIdentity.organizationID, name: "default (well-known identity)")]
            + stored
    }

    /// One principal per organization, seeing all of its projects.
    func principals(_ projects: [Project]) -> [Principal] {
        var seen: Set<String> = []
        return projects.compactMap { project in
            guard seen.insert(project.organizationID.rawValue).inserted else { return nil }
            return Principal(accessKey: "-", organizationID: project.organizationID, projectIDs: nil, defaultProjectID: project.id)
        }
    }

    /// Most items a list of the console reads (pages of 100).
    static let listLimit = 1000

    static func all<T: Sendable>(_ fetch: (PageRequest) throws -> Page<T>) throws -> [T] {
        var items: [T] = []
        var page = 1
        while items.count < listLimit {
            let next = try fetch(PageRequest(page: page, pageSize: PageRequest.maxPageSize))
            items += next.items
            if next.items.isEmpty || items.count >= next.totalCount { break }
            page += 1
        }
        return items
    }

    func overview() throws -> Overview {
        let projects = try projects()
        return Overview(facts: facts(), projects: projects, namespaces: try namespaces(projects))
    }

    /// Every namespace with its applications, by project, then creation.
    func namespaces(_ projects: [Project]) throws -> [NamespaceEntry] {
        var entries: [NamespaceEntry] = []
        for principal in principals(projects) {
            for region in Region.allCases {
                var byNamespace: [String: [ApplicationSummary]] = [:]
                let containers = try Self.all { page in
                    try services.containers.list(region: region, namespaceID: nil, name: nil, projectID: nil, organizationID: nil,
                                                 page: page, by: principal)
                }
                for container in containers { byNamespace[container.namespaceID.rawValue, default: []].append(Self.summary(container)) }
                let functions = try Self.all { page in
                    try services.functions.list(region: region, namespaceID: nil, name: nil, projectID: nil, organizationID: nil,
                                                page: page, by: principal)
                }
                for function in functions { byNamespace[function.namespaceID.rawValue, default: []].append(Self.summary(function)) }
                for kind in [NamespaceKind.container, .function] {
                    let namespaces = try Self.all { page in
                        try services.namespaces.list(kind: kind, region: region, name: nil, projectID: nil, organizationID: nil,
                                                     page: page, by: principal)
                    }
                    entries += namespaces.map { NamespaceEntry(namespace: $0, applications: byNamespace[$0.id.rawValue] ?? []) }
                }
            }
        }
        let order = Dictionary(projects.enumerated().map { ($1.id.rawValue, $0) }, uniquingKeysWith: { a, _ in a })
        return entries.sorted {
            (order[$0.namespace.projectID.rawValue] ?? .max, $0.namespace.createdAt.nanoseconds)
                < (order[$1.namespace.projectID.rawValue] ?? .max, $1.namespace.createdAt.nanoseconds)
        }
    }

    static func summary(_ c: Container) -> ApplicationSummary {
        ApplicationSummary(id: c.id.rawValue, kind: .container, name: c.name, status: V1.status(c.phase),
                           errorMessage: c.phase == .error ? c.errorMessage : nil, endpoint: c.publicEndpoint, privacy: c.spec.privacy,
                           minScale: c.spec.minScale, maxScale: c.spec.maxScale, namespaceID: c.namespaceID)
    }

    static func summary(_ f: Function) -> ApplicationSummary {
        ApplicationSummary(id: f.id.rawValue, kind: .function, name: f.name, status: V1Beta1.status(f.phase),
                           errorMessage: f.phase == .error ? f.errorMessage : nil, endpoint: "https://\(f.domainName)",
                           privacy: f.spec.privacy, minScale: f.spec.minScale, maxScale: f.spec.maxScale, namespaceID: f.namespaceID)
    }

    /// The page of one container or function; nil when no such application exists.
    func application(_ id: String) async throws -> ApplicationDetail? {
        guard let target = try services.gateway.target(id: id) else { return nil }
        let principal = Principal(accessKey: "-", organizationID: target.organizationID, projectIDs: nil, defaultProjectID: target.projectID)
        var found: (summary: ApplicationSummary, json: String, api: String, region: Region, secrets: [HashedSecret])?
        for region in Region.allCases where found == nil {
            switch target.kind {
            case .function:
                guard let fid = FunctionID(id), let f = try? services.functions.get(fid, region: region, by: principal) else { continue }
                found = (Self.summary(f), Self.json(V1Beta1.Function(f, written: false)), "Functions v1beta1", region, f.secrets)
            default:
                guard let cid = ContainerID(id), let c = try? services.containers.get(cid, region: region, by: principal) else { continue }
                found = (Self.summary(c), Self.json(V1.Container(c)), "Containers v1", region, c.secrets)
            }
        }
        guard let found else { return nil }
        let namespace = try services.namespaces.get(target.namespaceID, kind: target.kind == .function ? .function : .container,
                                                     region: found.region, by: principal)
        let runtime = services.gateway.runtime
        let logs = await runtime.logs(of: id)
        let secretNames = Set(namespace.secrets.map(\.key) + found.secrets.map(\.key))
        return ApplicationDetail(summary: found.summary, namespace: namespace, settingsJSON: found.json, settingsAPI: found.api,
                                 environment: await runtime.environment(of: id), secretNames: secretNames,
                                 process: Self.processState(logs?.lines ?? [], readyPort: runtime.readyPort(of: id),
                                                            runtimeEnabled: runtime.settings.enabled),
                                 logs: logs?.lines ?? [], droppedLogLines: logs?.dropped ?? 0, runtimeEnabled: runtime.settings.enabled)
    }

    /// A wire value as the API writes it (its encoder, so the same members, order and number forms), indented.
    static func json(_ value: some Encodable) -> String {
        guard let data = try? WireJSON.encoder.encode(value) else { return "{}" }
        return indented(String(decoding: data, as: UTF8.self))
    }

    /// Compact JSON laid out two spaces a level, one member a line (`{}` and `[]` stay as they are); strings are
    /// copied as they are.
    static func indented(_ json: String) -> String {
        let characters = Array(json)
        var out = ""
        var depth = 0, inString = false, escaped = false, index = 0
        func newline() { out += "\n" + String(repeating: "  ", count: depth) }
        while index < characters.count {
            let character = characters[index]
            index += 1
            if inString {
                out.append(character)
                if escaped { escaped = false } else if character == "\\" { escaped = true } else if character == "\"" { inString = false }
                continue
            }
            switch character {
            case "\"":
                inString = true
                out.append(character)
            case "{", "[":
                out.append(character)
                if index < characters.count, characters[index] == (character == "{" ? "}" : "]") {
                    out.append(characters[index])
                    index += 1
                } else {
                    depth += 1
                    newline()
                }
            case "}", "]":
                depth -= 1
                newline()
                out.append(character)
            case ",":
                out.append(character)
                newline()
            case ":": out += ": "
            default: out.append(character)
            }
        }
        return out
    }

    /// The process as the supervisor's notes in the log tell it: the last start's pid and port, restarts, cold starts
    /// and injected crashes; "running" only while the gateway has a ready port for it.
    static func processState(_ lines: [LogLine], readyPort: Int?, runtimeEnabled: Bool) -> ProcessState {
        var state = ProcessState(state: runtimeEnabled ? "not started" : "runtime off: no process runs")
        for entry in lines where entry.stream == "mock" {
            let words = entry.line.split(separator: " ")
            if entry.line.hasPrefix("started pid "), words.count >= 6 {
                state.pid = Int(words[2])
                state.port = Int(words[5])
                state.startedAt = entry.time
                state.state = "starting"
            } else if entry.line.hasPrefix("restarting in ") {
                state.restarts += 1
            } else if entry.line == "cold start" {
                state.coldStarts += 1
            } else if entry.line.hasPrefix("crash injected") {
                state.crashes += 1
            } else if entry.line.hasPrefix("process exited") || entry.line.hasPrefix("launch failed") || entry.line.hasPrefix("deploy failure") {
                state.state = "exited: " + entry.line
            } else if entry.line == "stopped" || entry.line.hasPrefix("scaled to zero") {
                state.state = entry.line
            }
        }
        if let readyPort {
            state.state = "running"
            state.port = readyPort
        }
        return state
    }

    /// A change of an application's process state, from the supervisor's notes.
    struct Transition: Sendable, Equatable {
        var at: Timestamp
        /// `starting`, `ready`, `error` or `stopped`.
        var state: String
    }

    /// The process's states over time, as its log's notes tell them, oldest first.
    static func timeline(_ lines: [LogLine]) -> [Transition] {
        lines.compactMap { entry in
            guard entry.stream == "mock", let at = Timestamp.parseRFC3339(entry.time) else { return nil }
            let line = entry.line
            let state: String? =
                if line.hasPrefix("started pid ") || line == "cold start" { "starting" }
                else if line.hasPrefix("ready on port") { "ready" }
                else if line.hasPrefix("process exited") || line.hasPrefix("launch failed") || line.hasPrefix("deploy failure") { "error" }
                else if line == "stopped" || line.hasPrefix("scaled to zero") { "stopped" }
                else { nil }
            return state.map { Transition(at: at, state: $0) }
        }
    }

    // MARK: requests

    func requests(_ filter: ConsolePages.RequestFilter) -> [RequestLog.Entry] {
        let entries = services.requestLog.query(method: filter.method, pathPrefix: filter.path, status: filter.status,
                                                accessKey: filter.accessKey, limit: 1000)
        return Array(entries.filter { !filter.failingOnly || $0.status >= 400 }.suffix(filter.limit).reversed())
    }

    /// API calls per second over the last `seconds` seconds of the mock's clock, oldest first.
    func requestsPerSecond(seconds: Int = 120) -> [Int] {
        let now = services.clock.now().unixSeconds
        var counts = [Int](repeating: 0, count: seconds)
        for entry in services.requestLog.query(method: nil, pathPrefix: nil, status: nil, accessKey: nil, limit: 1000) {
            guard let time = Timestamp.parseRFC3339(entry.time)?.unixSeconds else { continue }
            let age = Int(now - time)
            if age >= 0 && age < seconds { counts[seconds - 1 - age] += 1 }
        }
        return counts
    }

    // MARK: tokens

    func tokens() throws -> [NamespaceKeys] {
        let keys = Dictionary(try services.tokens.allPublicKeys().map { ($0.0.rawValue, $0.1) }, uniquingKeysWith: { a, _ in a })
        let projects = try projects()
        // Every token of every organization, API and region, by the namespace whose key signs it.
        var byNamespace: [String: [Token]] = [:]
        for principal in principals(projects) {
            for region in Region.allCases {
                for api in [TokenAPI.containers, .functions] {
                    let tokens = try Self.all { page in
                        try services.tokens.list(api: api, region: region, namespaceID: nil, applicationID: nil, page: page, by: principal)
                    }
                    for token in tokens { byNamespace[token.namespaceID.rawValue, default: []].append(token) }
                }
            }
        }
        return try namespaces(projects).map { entry in
            let ns = entry.namespace
            let key = keys[ns.id.rawValue]
            return NamespaceKeys(namespace: ns, applications: entry.applications, publicKeyPEM: key?.pkcs1PEM,
                                 jwkJSON: (try? key?.jwk(kid: ns.id.rawValue)).map { Self.json($0) }, tokens: byNamespace[ns.id.rawValue] ?? [])
        }
    }

    /// Verifies a pasted token against a namespace's key with the verifier of `scw-mock token verify`, at the mock's
    /// time. `target` is `namespace:<id>` (a namespace token) or `application:<namespace id>:<application id>`.
    func verify(token raw: String, target: String) async -> Verification {
        let token = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        let now = services.clock.now()
        let parts = target.split(separator: ":").map(String.init)
        var verification = Verification(target: target, targetLabel: target, refusal: nil, header: nil, payload: nil, checkedAt: now)
        let segments = token.split(separator: ".", omittingEmptySubsequences: false)
        if segments.count == 3 {
            verification.header = Base64URL.decode(segments[0]).map { String(decoding: $0, as: UTF8.self) }
            verification.payload = Base64URL.decode(segments[1]).map { String(decoding: $0, as: UTF8.self) }
            if let bytes = Base64URL.decode(segments[1]), let claims = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] {
                for claim in ["iat", "nbf", "exp"] {
                    guard let seconds = (claims[claim] as? NSNumber)?.int64Value, seconds >= 0, seconds < 253_402_300_800 else { continue }
                    verification.instants.append((claim, Timestamp(nanoseconds: seconds * 1_000_000_000).rfc3339(fractionDigits: 0)))
                }
            }
        }
        let tokenTarget: TokenTarget
        switch parts.count {
        case 2 where parts[0] == "namespace":
            tokenTarget = TokenTarget(namespaceID: parts[1], applicationID: nil)
            verification.targetLabel = "namespace \(parts[1])"
        case 3 where parts[0] == "application":
            tokenTarget = TokenTarget(namespaceID: parts[1], applicationID: parts[2])
            verification.targetLabel = "application \(parts[2]) of namespace \(parts[1])"
        default:
            verification.refusal = "choose the namespace or application the token must grant"
            return verification
        }
        guard let namespaceID = NamespaceID(tokenTarget.namespaceID) else {
            verification.refusal = "no such namespace"
            return verification
        }
        do {
            let key = try await services.tokens.publicKey(of: namespaceID)
            _ = try TokenVerifier(publicKey: key).verify(token, for: tokenTarget, nowNanoseconds: now.nanoseconds)
        } catch let failure as TokenFailure {
            verification.refusal = failure.description
        } catch let error as ScwError {
            verification.refusal = "the namespace's key cannot be read: \(error)"
        } catch {
            verification.refusal = "\(error)"
        }
        return verification
    }
}
