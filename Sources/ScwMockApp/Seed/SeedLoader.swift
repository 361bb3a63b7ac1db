import Foundation
import ScwDomain
import ScwEngine
import ScwKeys
import ScwStore
import Yams

/// A fixture problem: where it is and what was expected.
public struct SeedProblem: Error, CustomStringConvertible, Sendable {
    public var file: String
    public var field: String
    public var message: String
    /// The line of the field in a YAML or JSON file, when it can be found.
    public var line: Int?
    public var description: String { line.map { "\(file):\($0): \(field): \(message)" } ?? "\(file): \(field): \(message)" }

    /// Creates a problem.
    public init(file: String, field: String, message: String, line: Int? = nil) {
        self.file = file
        self.field = field
        self.message = message
        self.line = line
    }
}

/// Every problem found in the fixtures; the server refuses to start and prints one line each.
public struct SeedError: Error, CustomStringConvertible, Sendable {
    public var problems: [SeedProblem]
    public var description: String { problems.map(\.description).joined(separator: "\n") }
}

/// Reads fixture files, checks all of them, and only then applies them, so a bad fixture changes nothing.
/// Applying the same fixtures twice changes nothing either: identities are upserted by id, and namespaces that
/// already exist (by id, or by name when no id is given) are left alone.
public enum SeedLoader {
    /// What one fixture file will write once every file has been checked.
    struct Plan {
        var file: String
        var organizations: [(id: OrganizationID, name: String)] = []
        var projects: [Project] = []
        var apiKeys: [APIKey] = []
        var namespaces: [PlannedNamespace] = []
        var images: [CommandMapping] = []
        var runtimes: [CommandMapping] = []
        var document: SeedDocument?
    }

    /// The services fixtures are applied through (the API's own).
    public struct Services: Sendable {
        var containers: ContainerService
        var functions: FunctionService
        var triggers: TriggerService
        var tokens: TokenService

        /// Bundles the services.
        public init(containers: ContainerService, functions: FunctionService, triggers: TriggerService, tokens: TokenService) {
            self.containers = containers
            self.functions = functions
            self.triggers = triggers
            self.tokens = tokens
        }
    }

    /// A namespace to create through `NamespaceService`, with its fixed id and key when the fixture gives them.
    struct PlannedNamespace {
        var kind: NamespaceKind
        var region: Region
        var project: ProjectID
        var fixedID: NamespaceID?
        var key: NamespaceKey?
        var draft: NamespaceDraft
        var field: String
    }

    /// The fixture files under `paths` (a folder contributes its `.yaml`, `.yml` and `.json` files, sorted).
    static func files(in paths: [String]) throws(SeedError) -> [String] {
        var result: [String] = []
        for path in paths {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                throw SeedError(problems: [SeedProblem(file: path, field: "-", message: "no such file or folder")])
            }
            if isDirectory.boolValue {
                let names = ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted()
                result += names.filter { [".yaml", ".yml", ".json"].contains(where: $0.hasSuffix) }
                    .map { (path as NSString).appendingPathComponent($0) }
            } else {
                result.append(path)
            }
        }
        return result
    }

    /// Checks every fixture under `paths`, then applies them all (identities first, namespaces through the API's service,
    /// and the image and runtime mappings to the runtime).
    public static func apply(paths: [String], to database: AppDatabase, namespaces: NamespaceService, runtime: RuntimeCoordinator? = nil,
                             services: Services? = nil) async throws {
        var documents: [(String, Result<SeedDocument, any Error>)] = []
        for file in try files(in: paths) {
            documents.append((file, Result {
                try YAMLDecoder().decode(SeedDocument.self, from: try String(contentsOfFile: file, encoding: .utf8))
            }))
        }
        try await apply(documents: documents, to: database, namespaces: namespaces, runtime: runtime, services: services)
    }

    /// Applies already-read fixture documents (`POST /_mock/seed` sends one).
    static func apply(documents: [(String, Result<SeedDocument, any Error>)], to database: AppDatabase, namespaces: NamespaceService,
                      runtime: RuntimeCoordinator?, services: Services?) async throws {
        var problems: [SeedProblem] = []
        var plans: [Plan] = []
        var knownProjects = try database.allProjects()
        for (file, read) in documents {
            let before = problems.count
            defer { locate(&problems[before...], in: file) }
            do {
                let document = try read.get()
                var plan = Plan(file: file)
                problems += planIdentity(document, into: &plan, knownProjects: &knownProjects)
                problems += planNamespaces(document.namespaces ?? [], into: &plan, knownProjects: knownProjects)
                problems += planMappings(document, into: &plan)
                problems += checkApplications(document, file: file)
                plan.document = document
                plans.append(plan)
            } catch let error as DecodingError {
                problems.append(SeedProblem(file: file, field: fieldPath(error), message: describe(error)))
            } catch {
                problems.append(SeedProblem(file: file, field: "-", message: "\(error)"))
            }
        }
        if !problems.isEmpty { throw SeedError(problems: problems) }
        runtime?.setMappings(images: plans.flatMap(\.images), runtimes: plans.flatMap(\.runtimes))

        for plan in plans {
            try database.saveIdentity(organizations: plan.organizations, projects: plan.projects, apiKeys: plan.apiKeys)
            for n in plan.namespaces {
                if let id = n.fixedID, try database.namespace(id: id) != nil { continue }
                if n.fixedID == nil, let name = n.draft.name,
                   try database.namespace(named: name, kind: n.kind, region: n.region, project: n.project) != nil { continue }
                guard let project = try database.project(id: n.project) else { continue }
                let principal = Principal(accessKey: "seed", organizationID: project.organizationID, projectIDs: nil, defaultProjectID: project.id)
                do {
                    _ = try await namespaces.create(kind: n.kind, region: n.region, draft: n.draft, by: principal, fixedID: n.fixedID, key: n.key)
                } catch {
                    problems.append(SeedProblem(file: plan.file, field: n.field, message: describe(error)))
                }
            }
            if let services, let document = plan.document {
                problems += await applyApplications(document, file: plan.file, database: database, services: services)
            }
        }
        if !problems.isEmpty { throw SeedError(problems: problems) }
    }

    /// Checks organizations, projects and API keys.
    static func planIdentity(_ doc: SeedDocument, into plan: inout Plan, knownProjects: inout [Project]) -> [SeedProblem] {
        var problems: [SeedProblem] = []
        func problem(_ field: String, _ message: String) { problems.append(SeedProblem(file: plan.file, field: field, message: message)) }

        for (i, org) in (doc.organizations ?? []).enumerated() {
            guard let id = OrganizationID(org.id) else { problem("organizations[\(i)].id", "expected a UUID"); continue }
            plan.organizations.append((id, org.name ?? "organization"))
        }
        for (i, p) in (doc.projects ?? []).enumerated() {
            guard let id = ProjectID(p.id) else { problem("projects[\(i)].id", "expected a UUID"); continue }
            // Scaleway's first project of an organization has the organization's id.
            guard let org = OrganizationID(p.organization_id ?? p.id) else { problem("projects[\(i)].organization_id", "expected a UUID"); continue }
            if !plan.organizations.contains(where: { $0.id == org }) { plan.organizations.append((org, "organization")) }
            let project = Project(id: id, organizationID: org, name: p.name ?? "project")
            plan.projects.append(project)
            knownProjects.append(project)
        }
        for (i, k) in (doc.api_keys ?? []).enumerated() {
            let at = "api_keys[\(i)]"
            guard APIKey.isValidAccessKey(k.access_key) else { problem("\(at).access_key", "expected SCW followed by 17 characters A-Z or 0-9"); continue }
            guard Identifier<Never>(k.secret_key) != nil, k.secret_key == k.secret_key.lowercased() else {
                problem("\(at).secret_key", "expected a lower-case UUID"); continue
            }
            var expiry: Timestamp?
            if let raw = k.expires_at {
                guard let parsed = Timestamp.parseRFC3339(raw) else { problem("\(at).expires_at", "expected an RFC 3339 timestamp"); continue }
                expiry = parsed
            }
            let org: OrganizationID, scoped: [ProjectID]?, defaultProject: ProjectID
            if let list = k.projects {
                let ids = list.compactMap(ProjectID.init)
                guard ids.count == list.count, !ids.isEmpty else { problem("\(at).projects", "expected a non-empty list of project UUIDs"); continue }
                if let missing = ids.first(where: { id in !knownProjects.contains { $0.id == id } }) {
                    problem("\(at).projects", "unknown project \(missing.rawValue) (declare it under projects)"); continue
                }
                let orgs = Set(ids.compactMap { id in knownProjects.first { $0.id == id }?.organizationID })
                guard orgs.count == 1, let only = orgs.first else { problem("\(at).projects", "expected projects of one organization"); continue }
                let chosen = k.default_project_id.flatMap(ProjectID.init) ?? ids[0]
                guard ids.contains(chosen) else { problem("\(at).default_project_id", "expected one of the key's projects"); continue }
                (org, scoped, defaultProject) = (only, ids, chosen)
            } else {
                // No project list: every project of the organization.
                guard let raw = k.organization_id, let only = OrganizationID(raw) else {
                    problem("\(at).organization_id", "expected a UUID (or a projects list)"); continue
                }
                guard let chosen = k.default_project_id.flatMap(ProjectID.init) ?? knownProjects.first(where: { $0.organizationID == only })?.id else {
                    problem("\(at).default_project_id", "expected a project of the organization"); continue
                }
                (org, scoped, defaultProject) = (only, nil, chosen)
            }
            plan.apiKeys.append(APIKey(accessKey: k.access_key, secretKey: k.secret_key, organizationID: org, projectIDs: scoped,
                                       defaultProjectID: defaultProject, expiresAt: expiry))
        }
        return problems
    }

    /// Checks namespaces with the API's own rules, and loads their key files.
    static func planNamespaces(_ list: [SeedDocument.Namespace], into plan: inout Plan, knownProjects: [Project]) -> [SeedProblem] {
        var problems: [SeedProblem] = []
        for (i, n) in list.enumerated() {
            let at = "namespaces[\(i)]"
            let before = problems.count
            func problem(_ field: String, _ message: String) { problems.append(SeedProblem(file: plan.file, field: "\(at).\(field)", message: message)) }
            let kind = NamespaceKind(rawValue: n.kind ?? "container")
            let region = Region(rawValue: n.region ?? "fr-par")
            let projectID = n.project_id.map { ProjectID($0) } ?? WellKnownIdentity.projectID
            var fixedID: NamespaceID?
            if let raw = n.id {
                fixedID = NamespaceID(raw)
                if fixedID == nil { problem("id", "expected a UUID") }
            }
            if kind == nil { problem("kind", "expected container or function") }
            if region == nil { problem("region", "expected one of \(Region.allCases.map(\.rawValue).joined(separator: ", "))") }
            if projectID == nil { problem("project_id", "expected a UUID") }
            if let projectID, !knownProjects.contains(where: { $0.id == projectID }) { problem("project_id", "unknown project (declare it under projects)") }
            var checks = NamespaceRules.nameProblem(n.name).map { [$0] } ?? []
            checks += NamespaceRules.metadataProblems(description: n.description, tags: n.tags)
            checks += NamespaceRules.environmentProblems(n.environment_variables ?? [:])
            let secrets = (n.secret_environment_variables ?? [:]).sorted { $0.key < $1.key }.map { (key: $0.key, value: $0.value) }
            checks += NamespaceRules.secretProblems(secrets.map { ($0.key, Optional($0.value)) })
            for c in checks { problem(c.argumentName, c.helpMessage) }
            var key: NamespaceKey?
            if let pem = n.key_pem {
                key = try? NamespaceKey(pem: pem)
                if key == nil { problem("key_pem", "expected a PEM RSA private key (PKCS#1 or PKCS#8) of at least 2048 bits") }
            } else if let keyFile = n.key_file {
                if let path = resolve(keyFile, relativeTo: plan.file) {
                    key = try? NamespaceKey(pem: (try? String(contentsOfFile: path, encoding: .utf8)) ?? "")
                    if key == nil { problem("key_file", "expected a PEM RSA private key (PKCS#1 or PKCS#8) of at least 2048 bits") }
                } else {
                    problem("key_file", "no such file \(keyFile)")
                }
            }
            guard problems.count == before, let kind, let region, let projectID else { continue }
            let draft = NamespaceDraft(
                name: n.name, projectID: projectID, description: n.description, environmentVariables: n.environment_variables ?? [:],
                secrets: secrets, tags: n.tags ?? [], activateVPCIntegration: n.activate_vpc_integration ?? false, hashProfile: .legacy)
            plan.namespaces.append(PlannedNamespace(kind: kind, region: region, project: projectID, fixedID: fixedID, key: key, draft: draft, field: at))
        }
        return problems
    }

    /// Adds line numbers to problems found in `file`, by walking its YAML node tree along each field path.
    static func locate(_ problems: inout ArraySlice<SeedProblem>, in file: String) {
        guard !problems.isEmpty, let text = try? String(contentsOfFile: file, encoding: .utf8), let root = try? Yams.compose(yaml: text) else { return }
        for i in problems.indices {
            var node = root
            var line = node.mark?.line
            // "namespaces[0].name" -> ["namespaces", 0, "name"]
            let steps = problems[i].field.replacingOccurrences(of: "[", with: ".[").split(separator: ".").map(String.init)
            for step in steps where !step.isEmpty && step != "-" {
                if step.hasPrefix("["), let index = Int(step.dropFirst().dropLast()), let seq = node.sequence, index < seq.count {
                    node = seq[index]
                } else if let map = node.mapping, let value = map[Node(step)] {
                    if let key = map.keys.first(where: { $0.string == step }) { line = key.mark?.line ?? line }
                    node = value
                } else {
                    break
                }
                line = node.mark?.line ?? line
            }
            problems[i].line = line
        }
    }

    /// Checks `images:` and `runtimes:`.
    static func planMappings(_ doc: SeedDocument, into plan: inout Plan) -> [SeedProblem] {
        var problems: [SeedProblem] = []
        for (list, field, key) in [(doc.images ?? [], "images", \SeedDocument.CommandMapping.image), (doc.runtimes ?? [], "runtimes", \SeedDocument.CommandMapping.runtime)] {
            for (i, m) in list.enumerated() {
                let at = "\(field)[\(i)]"
                guard let pattern = m[keyPath: key], !pattern.isEmpty else {
                    problems.append(SeedProblem(file: plan.file, field: "\(at).\(field == "images" ? "image" : "runtime")", message: "expected a name or glob"))
                    continue
                }
                guard !m.command.isEmpty, !m.command.contains(where: { $0.utf8.contains(0) }) else {
                    problems.append(SeedProblem(file: plan.file, field: "\(at).command", message: "expected a non-empty list of arguments"))
                    continue
                }
                var dir = m.working_directory
                if let d = dir, !d.hasPrefix("/") {
                    dir = (((plan.file as NSString).deletingLastPathComponent as NSString).appendingPathComponent(d) as NSString).standardizingPath
                }
                let mapping = CommandMapping(pattern: pattern, command: m.command + (m.args ?? []), workingDirectory: dir, environment: m.environment ?? [:])
                if field == "images" { plan.images.append(mapping) } else { plan.runtimes.append(mapping) }
            }
        }
        return problems
    }

    /// A key file path: absolute, else relative to the working folder, the fixture's folder or its parent.
    static func resolve(_ path: String, relativeTo file: String) -> String? {
        if path.hasPrefix("/") { return FileManager.default.fileExists(atPath: path) ? path : nil }
        let dir = (file as NSString).deletingLastPathComponent
        for candidate in [path, (dir as NSString).appendingPathComponent(path),
                          ((dir as NSString).deletingLastPathComponent as NSString).appendingPathComponent(path)]
        where FileManager.default.fileExists(atPath: candidate) {
            return candidate
        }
        return nil
    }

    /// An error in a fixture message.
    static func describe(_ error: any Error) -> String {
        switch error {
        case ScwError.invalidArguments(let problems): return problems.map { "\($0.argumentName): \($0.helpMessage)" }.joined(separator: "; ")
        case ScwError.alreadyExists(_, let name): return "name \(name) is already used"
        case let error as DecodingError: return describe(error)
        default: return "\(error)"
        }
    }

    private static func fieldPath(_ error: DecodingError) -> String {
        func render(_ path: [any CodingKey]) -> String {
            let text = path.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".").replacingOccurrences(of: ".[", with: "[")
            return text.isEmpty ? "-" : text
        }
        switch error {
        case .typeMismatch(_, let c), .valueNotFound(_, let c), .dataCorrupted(let c): return render(c.codingPath)
        case .keyNotFound(let key, let c): return render(c.codingPath + [key])
        @unknown default: return "-"
        }
    }

    private static func describe(_ error: DecodingError) -> String {
        switch error {
        case .typeMismatch(let type, _): return "expected \(type)"
        case .valueNotFound(let type, _): return "expected \(type), found null"
        case .keyNotFound: return "required field missing"
        case .dataCorrupted(let c): return c.debugDescription
        @unknown default: return "invalid"
        }
    }
}
