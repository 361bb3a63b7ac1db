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
    public var description: String { "\(file): \(field): \(message)" }
}

/// Every problem found in the fixtures; the server refuses to start and prints one line each.
public struct SeedError: Error, CustomStringConvertible, Sendable {
    public var problems: [SeedProblem]
    public var description: String { problems.map(\.description).joined(separator: "\n") }
}

/// Reads fixture files and applies them to the store.
public enum SeedLoader {
    /// The fixture files under `paths` (a folder contributes its `.yaml`, `.yml` and `.json` files, sorted).
    static func files(in paths: [String]) throws -> [String] {
        var result: [String] = []
        for path in paths {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                throw SeedError(problems: [SeedProblem(file: path, field: "-", message: "no such file or folder")])
            }
            if isDirectory.boolValue {
                let names = try FileManager.default.contentsOfDirectory(atPath: path).sorted()
                result += names.filter { [".yaml", ".yml", ".json"].contains(where: $0.hasSuffix) }
                    .map { (path as NSString).appendingPathComponent($0) }
            } else {
                result.append(path)
            }
        }
        return result
    }

    /// Applies the fixtures to `database`: identities in one transaction per file, then namespaces through the
    /// same service as the API. Applying the same fixtures twice changes nothing (identities are upserted by id,
    /// namespaces that already exist by id or by name are left alone).
    public static func apply(paths: [String], to database: AppDatabase, namespaces: NamespaceService) async throws {
        var problems: [SeedProblem] = []
        for file in try files(in: paths) {
            do {
                let text = try String(contentsOfFile: file, encoding: .utf8)
                let document = try YAMLDecoder().decode(SeedDocument.self, from: text)
                try apply(document, file: file, to: database)
                try await applyNamespaces(document.namespaces ?? [], file: file, database: database, service: namespaces)
            } catch let error as SeedError {
                problems += error.problems
            } catch let error as DecodingError {
                problems.append(SeedProblem(file: file, field: fieldPath(error), message: "\(describe(error))"))
            } catch {
                problems.append(SeedProblem(file: file, field: "-", message: "\(error)"))
            }
        }
        if !problems.isEmpty { throw SeedError(problems: problems) }
    }

    static func apply(_ doc: SeedDocument, file: String, to database: AppDatabase) throws {
        var problems: [SeedProblem] = []
        func problem(_ field: String, _ message: String) { problems.append(SeedProblem(file: file, field: field, message: message)) }

        var organizations: [(id: OrganizationID, name: String)] = []
        for (i, org) in (doc.organizations ?? []).enumerated() {
            guard let id = OrganizationID(org.id) else { problem("organizations[\(i)].id", "expected a UUID"); continue }
            organizations.append((id, org.name ?? "organization"))
        }
        var projects: [Project] = []
        for (i, p) in (doc.projects ?? []).enumerated() {
            guard let id = ProjectID(p.id) else { problem("projects[\(i)].id", "expected a UUID"); continue }
            // Scaleway's first project of an organization has the organization's id.
            let orgRaw = p.organization_id ?? p.id
            guard let org = OrganizationID(orgRaw) else { problem("projects[\(i)].organization_id", "expected a UUID"); continue }
            if !organizations.contains(where: { $0.id == org }) { organizations.append((org, "organization")) }
            projects.append(Project(id: id, organizationID: org, name: p.name ?? "project"))
        }
        var existing = try database.allProjects()
        existing += projects
        var keys: [APIKey] = []
        for (i, k) in (doc.api_keys ?? []).enumerated() {
            let at = "api_keys[\(i)]"
            guard APIKey.isValidAccessKey(k.access_key) else { problem("\(at).access_key", "expected SCW followed by 17 characters A-Z or 0-9"); continue }
            guard Identifier<Never>(k.secret_key) != nil, k.secret_key == k.secret_key.lowercased() else {
                problem("\(at).secret_key", "expected a lower-case UUID"); continue
            }
            if let list = k.projects {
                let ids = list.compactMap(ProjectID.init)
                guard ids.count == list.count, !ids.isEmpty else { problem("\(at).projects", "expected a non-empty list of project UUIDs"); continue }
                if let missing = ids.first(where: { id in !existing.contains { $0.id == id } }) {
                    problem("\(at).projects", "unknown project \(missing.rawValue) (declare it under projects)"); continue
                }
                let orgs = Set(ids.compactMap { id in existing.first { $0.id == id }?.organizationID })
                guard orgs.count == 1, let org = orgs.first else { problem("\(at).projects", "expected projects of one organization"); continue }
                let defaultProject = k.default_project_id.flatMap(ProjectID.init) ?? ids[0]
                guard ids.contains(defaultProject) else { problem("\(at).default_project_id", "expected one of the key's projects"); continue }
                keys.append(key(k, at: at, org: org, projects: ids, defaultProject: defaultProject, problem: problem))
                continue
            }
            // No project list: every project of the organization.
            guard let orgRaw = k.organization_id, let org = OrganizationID(orgRaw) else {
                problem("\(at).organization_id", "expected a UUID (or a projects list)"); continue
            }
            guard let defaultProject = k.default_project_id.flatMap(ProjectID.init) ?? existing.first(where: { $0.organizationID == org })?.id else {
                problem("\(at).default_project_id", "expected a project of the organization"); continue
            }
            keys.append(key(k, at: at, org: org, projects: nil, defaultProject: defaultProject, problem: problem))
        }
        if !problems.isEmpty { throw SeedError(problems: problems) }
        try database.saveIdentity(organizations: organizations, projects: projects, apiKeys: keys)
    }

    static func applyNamespaces(_ list: [SeedDocument.Namespace], file: String, database: AppDatabase, service: NamespaceService) async throws {
        var problems: [SeedProblem] = []
        for (i, n) in list.enumerated() {
            let at = "namespaces[\(i)]"
            func problem(_ field: String, _ message: String) { problems.append(SeedProblem(file: file, field: "\(at).\(field)", message: message)) }
            let kind = NamespaceKind(rawValue: n.kind ?? "container")
            let region = Region(rawValue: n.region ?? "fr-par")
            let projectID = n.project_id.map { ProjectID($0) } ?? WellKnownIdentity.projectID
            let fixedID = n.id.map { NamespaceID($0) }
            if kind == nil { problem("kind", "expected container or function") }
            if region == nil { problem("region", "expected one of \(Region.allCases.map(\.rawValue).joined(separator: ", "))") }
            if projectID == nil { problem("project_id", "expected a UUID") }
            if case .some(nil) = fixedID { problem("id", "expected a UUID") }
            guard let kind, let region, let projectID, let project = try database.project(id: projectID) else {
                if projectID != nil { problem("project_id", "unknown project (declare it under projects)") }
                continue
            }
            if let id = fixedID ?? nil, try database.namespace(id: id) != nil { continue }
            if fixedID == nil, try database.namespace(named: n.name, kind: kind, region: region, project: projectID) != nil { continue }
            var key: NamespaceKey?
            if let keyFile = n.key_file {
                guard let path = resolve(keyFile, relativeTo: file) else { problem("key_file", "no such file \(keyFile)"); continue }
                do { key = try NamespaceKey(pem: try String(contentsOfFile: path, encoding: .utf8)) } catch {
                    problem("key_file", "expected a PEM RSA private key (PKCS#1 or PKCS#8) of at least 2048 bits"); continue
                }
            }
            let principal = Principal(accessKey: "seed", organizationID: project.organizationID, projectIDs: nil, defaultProjectID: project.id)
            let draft = NamespaceDraft(
                name: n.name, projectID: project.id, description: n.description, environmentVariables: n.environment_variables ?? [:],
                secrets: (n.secret_environment_variables ?? [:]).sorted { $0.key < $1.key }.map { ($0.key, $0.value) },
                tags: n.tags ?? [], activateVPCIntegration: n.activate_vpc_integration ?? false, hashProfile: .legacy)
            do {
                _ = try await service.create(kind: kind, region: region, draft: draft, by: principal, fixedID: fixedID ?? nil, key: key)
            } catch {
                problem("-", describe(error))
            }
        }
        if !problems.isEmpty { throw SeedError(problems: problems) }
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

    /// A domain error in a fixture message.
    static func describe(_ error: ScwError) -> String {
        switch error {
        case .invalidArguments(let problems): return problems.map { "\($0.argumentName): \($0.helpMessage)" }.joined(separator: "; ")
        case .alreadyExists(_, let name): return "name \(name) is already used"
        default: return "\(error)"
        }
    }

    private static func key(_ k: SeedDocument.APIKey, at: String, org: OrganizationID, projects: [ProjectID]?, defaultProject: ProjectID,
                            problem: (String, String) -> Void) -> APIKey {
        var expiry: Timestamp?
        if let raw = k.expires_at {
            expiry = Timestamp.parseRFC3339(raw)
            if expiry == nil { problem("\(at).expires_at", "expected an RFC 3339 timestamp") }
        }
        return APIKey(accessKey: k.access_key, secretKey: k.secret_key, organizationID: org, projectIDs: projects,
                      defaultProjectID: defaultProject, expiresAt: expiry)
    }

    private static func fieldPath(_ error: DecodingError) -> String {
        let ctx: DecodingError.Context
        switch error {
        case .typeMismatch(_, let c), .valueNotFound(_, let c), .dataCorrupted(let c): ctx = c
        case .keyNotFound(let key, let c): return (c.codingPath + [key]).map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
        @unknown default: return "-"
        }
        return ctx.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".").ifEmpty("-")
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

extension String {
    fileprivate func ifEmpty(_ fallback: String) -> String { isEmpty ? fallback : self }
}
