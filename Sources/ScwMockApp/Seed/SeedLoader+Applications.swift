import Foundation
import ScwAPI
import ScwDomain
import ScwEngine
import ScwStore
import ZIPFoundation

/// Why a function entry's `code` cannot be used.
struct SeedCodeProblem: Error {
    var message: String
}

extension SeedLoader {
    /// The wrapper keys of a container, function or trigger entry (the rest are the API's own fields).
    static func field(_ entry: JSONDocument, _ key: String) -> String? {
        if case .object(let o) = entry, case .string(let s)? = o[key] { return s }
        return nil
    }

    static func flag(_ entry: JSONDocument, _ key: String) -> Bool? {
        if case .object(let o) = entry, case .bool(let b)? = o[key] { return b }
        return nil
    }

    /// The zip archive of a function entry: `code_base64` (inline, as `GET /_mock/state` exports it), or what `code` names
    /// (a `.zip` file, or a folder zipped with its files at the archive's root), relative to the fixture file; nil without
    /// either.
    static func functionCode(_ entry: JSONDocument, file: String) -> Result<Data, SeedCodeProblem>? {
        if let inline = field(entry, "code_base64") {
            guard field(entry, "code") == nil else { return .failure(SeedCodeProblem(message: "give code or code_base64, not both")) }
            guard let archive = Data(base64Encoded: inline), archive.starts(with: [0x50, 0x4B]),
                  (1...FunctionService.maxArchiveBytes).contains(archive.count) else {
                return .failure(SeedCodeProblem(message: "expected a zip archive in base64"))
            }
            return .success(archive)
        }
        guard let code = field(entry, "code") else { return nil }
        guard let path = resolve(code, relativeTo: file) else { return .failure(SeedCodeProblem(message: "no such file or folder \(code)")) }
        var isFolder: ObjCBool = false
        _ = FileManager.default.fileExists(atPath: path, isDirectory: &isFolder)
        let archive: Data?
        if isFolder.boolValue {
            archive = zipFolder(path)
            if archive == nil { return .failure(SeedCodeProblem(message: "the folder \(code) could not be zipped (a file cannot be read)")) }
        } else {
            archive = FileManager.default.contents(atPath: path)
            guard let archive, archive.starts(with: [0x50, 0x4B]) else { return .failure(SeedCodeProblem(message: "expected a zip archive or a folder, got \(code)")) }
        }
        guard let archive, (1...FunctionService.maxArchiveBytes).contains(archive.count) else {
            return .failure(SeedCodeProblem(message: "the archive must hold 1 to \(FunctionService.maxArchiveBytes) bytes"))
        }
        return .success(archive)
    }

    /// Zips a folder's files (paths relative to it, in sorted order, deflated) in process with ZIPFoundation; symbolic
    /// links are not followed (the runtime refuses them in archives). Nil when the folder cannot be read.
    static func zipFolder(_ folder: String) -> Data? {
        let root = URL(fileURLWithPath: folder, isDirectory: true)
        guard let archive = try? Archive(data: Data(), accessMode: .create, pathEncoding: nil),
              let walker = FileManager.default.enumerator(at: root, includingPropertiesForKeys: [.isRegularFileKey]) else { return nil }
        var files: [String] = []
        for case let url as URL in walker {
            guard (try? url.resourceValues(forKeys: [.isRegularFileKey]))?.isRegularFile == true else { continue }
            files.append(String(url.standardizedFileURL.path.dropFirst(root.standardizedFileURL.path.count + 1)))
        }
        do {
            for file in files.sorted() { try archive.addEntry(with: file, relativeTo: root, compressionMethod: .deflate) }
        } catch { return nil }
        return archive.data
    }

    /// Checks what can be checked before anything is written: names, field types and values, references' presence.
    static func checkApplications(_ doc: SeedDocument, file: String) -> [SeedProblem] {
        var problems: [SeedProblem] = []
        func problem(_ field: String, _ message: String) { problems.append(SeedProblem(file: file, field: field, message: message)) }
        func check(_ error: any Error, _ at: String) {
            if case ScwError.invalidArguments(let list) = error {
                for p in list { problem("\(at).\(p.argumentName)", p.helpMessage) }
            } else {
                problem(at, describe(error))
            }
        }
        for (i, entry) in (doc.containers ?? []).enumerated() {
            let at = "containers[\(i)]"
            if field(entry, "namespace") == nil { problem("\(at).namespace", "expected the name or id of a container namespace") }
            if let name = field(entry, "name") {
                if let p = ContainerRules.nameProblem(name) { problem("\(at).name", p.helpMessage) }
            } else { problem("\(at).name", "required field missing") }
            do { _ = try FixtureWire.containerPatch(entry) } catch { check(error, at) }
        }
        for (i, entry) in (doc.functions ?? []).enumerated() {
            let at = "functions[\(i)]"
            if field(entry, "namespace") == nil { problem("\(at).namespace", "expected the name or id of a function namespace") }
            if field(entry, "name") == nil { problem("\(at).name", "required field missing") }
            do { _ = try FixtureWire.functionPatch(entry) } catch { check(error, at) }
            if case .failure(let code)? = functionCode(entry, file: file) { problem("\(at).code", code.message) }
        }
        for (i, entry) in (doc.triggers ?? []).enumerated() {
            let at = "triggers[\(i)]"
            if (field(entry, "container") == nil) == (field(entry, "function") == nil) { problem(at, "expected exactly one of container and function") }
            do { _ = try FixtureWire.trigger(entry, application: .container(ContainerID(trusted: ""))) } catch { check(error, at) }
        }
        for (i, t) in (doc.tokens ?? []).enumerated() {
            let scopes = [t.namespace, t.container, t.function].compactMap { $0 }
            if scopes.count != 1 { problem("tokens[\(i)]", "expected exactly one of namespace, container and function") }
            if let id = t.id, TokenID(id) == nil { problem("tokens[\(i)].id", "expected a UUID") }
        }
        return problems
    }

    /// Creates the containers or functions a fixture lists, through the API's service (idempotent: an entry whose fixed
    /// id or name is already there is skipped); a container deploys unless `deploy: false`, and `then` does what follows
    /// a function's create (its code, its deploy).
    private static func seed<A: StoredApplication>(
        _: A.Type, _ entries: [JSONDocument]?, key: String, service: ApplicationService<A>, patch: (JSONDocument) throws -> A.Patch,
        file: String, database: AppDatabase, then: (A, JSONDocument, Namespace, String) async throws -> [SeedProblem]
    ) async -> [SeedProblem] {
        var problems: [SeedProblem] = []
        for (i, entry) in (entries ?? []).enumerated() {
            let at = "\(key)[\(i)]"
            guard let nsRef = field(entry, "namespace"), let name = field(entry, "name") else { continue }
            guard let ns = namespace(nsRef, kind: A.namespaceKind, database) else {
                problems.append(SeedProblem(file: file, field: "\(at).namespace", message: "no \(A.kind.rawValue) namespace \(nsRef)"))
                continue
            }
            let fixed = field(entry, "id").flatMap(Identifier<A.Tag>.init)
            if let fixed, (try? database.application(A.self, id: fixed)) != nil { continue }
            if (try? database.applicationID(named: name, in: ns.id)) != nil { continue }
            do {
                let created = try await service.create(namespaceID: ns.id, name: name, patch: try patch(entry), deploy: flag(entry, "deploy") ?? true,
                                                       region: ns.region, by: principal(for: ns), fixedID: fixed)
                problems += try await then(created, entry, ns, at)
            } catch { problems += Self.problems(error, file: file, at: at) }
        }
        return problems
    }

    /// Creates the containers, functions, triggers and tokens of a fixture through the API's services (idempotent), and
    /// writes the token file when `writeTokenFile` (never in a trial run or `seed check`).
    static func applyApplications(_ doc: SeedDocument, file: String, database: AppDatabase, services: Services,
                                  writeTokenFile: Bool) async -> [SeedProblem] {
        var problems: [SeedProblem] = []
        func problem(_ field: String, _ message: String) { problems.append(SeedProblem(file: file, field: field, message: message)) }

        problems += await seed(Container.self, doc.containers, key: "containers", service: services.containers,
                               patch: FixtureWire.containerPatch, file: file, database: database) { _, _, _, _ in [] }
        problems += await seed(Function.self, doc.functions, key: "functions", service: services.functions,
                               patch: FixtureWire.functionPatch, file: file, database: database) { created, entry, ns, at in
            // Code goes in through the API's own upload grant, as a client's PUT to the upload URL would.
            let by = principal(for: ns)
            let code = functionCode(entry, file: file)
            if case .success(let archive)? = code {
                let grant = try services.functions.uploadGrant(created.id, contentLength: archive.count, region: ns.region, by: by)
                guard try services.functions.acceptUpload(created.id, token: grant, archive: archive) else {
                    return [SeedProblem(file: file, field: "\(at).code", message: "the archive could not be stored")]
                }
            }
            if flag(entry, "deploy") ?? (code != nil) {
                _ = try await services.functions.deploy(created.id, region: ns.region, by: by)
            }
            return []
        }
        for (i, entry) in (doc.triggers ?? []).enumerated() {
            let at = "triggers[\(i)]"
            let fixed = field(entry, "id").flatMap(TriggerID.init)
            if let fixed, (try? database.trigger(id: fixed)) != nil { continue }
            guard let app = application(container: field(entry, "container"), function: field(entry, "function"), database),
                  let ns = try? database.namespace(id: app.namespaceID)
            else { problem(at, "no such container or function"); continue }
            do {
                let draft = try FixtureWire.trigger(entry, application: app.ref)
                let sameName = (try? database.triggers(matching: AttachmentQuery(
                    region: ns.region, cronsOnly: nil, product: app.ref.namespaceKind,
                    application: app.ref.rawValue, namespaceID: nil, sourceType: nil, projectIDs: nil, organizationID: ns.organizationID,
                    page: PageRequest(page: 1, pageSize: 100), orderColumn: "name")).items.contains { $0.name == draft.name }) ?? false
                if fixed == nil, sameName { continue }
                _ = try services.triggers.create(draft, region: ns.region, by: principal(for: ns), fixedID: fixed)
            } catch {
                // The service names the cron fields as v1beta1 does; the fixture has them under cron_config.
                problems += Self.problems(error, file: file, at: at, renaming: ["schedule": "cron_config.schedule", "timezone": "cron_config.timezone"])
            }
        }
        var issued: [String: String] = [:]
        for (i, t) in (doc.tokens ?? []).enumerated() {
            let at = "tokens[\(i)]"
            var request = TokenService.Request(namespaceID: nil, applicationID: nil, description: t.description, expiresAt: t.expires_at)
            let api: TokenAPI
            let ns: Namespace
            if let ref = t.namespace {
                guard let found = namespace(ref, kind: .container, database) ?? namespace(ref, kind: .function, database) else {
                    problem("\(at).namespace", "no namespace \(ref)"); continue
                }
                ns = found
                api = TokenAPI(found.kind)
                request.namespaceID = found.id
            } else if let app = application(container: t.container, function: t.function, database), let found = try? database.namespace(id: app.namespaceID) {
                ns = found
                api = t.container != nil ? .containers : .functions
                request.applicationID = app.ref.rawValue
            } else { problem(at, "no such container or function"); continue }
            var fixed = t.id.flatMap(TokenID.init)
            if fixed == nil {
                // No id in the fixture: the token of the same scope and description that an earlier load created (and
                // not one this load already issued), so that loading the fixture again adds nothing.
                let query = TokenQuery(api: api, region: ns.region, namespaceID: request.namespaceID, applicationID: request.applicationID,
                                       projectIDs: nil, organizationID: ns.organizationID, page: PageRequest(page: 1, pageSize: 100))
                fixed = (try? database.tokens(matching: query))?.items
                    .first { $0.description == (t.description ?? "") && issued[$0.id.rawValue] == nil }?.id
            }
            do {
                if let fixed, let existing = try database.token(id: fixed, api: api) {
                    // Already there: issue a fresh JWT with the same id and scope for the token file.
                    request.expiresAt = existing.expiresAt?.rfc3339(fractionDigits: 0)
                    issued[fixed.rawValue] = try await services.tokens.issueLegacy(api: api, region: ns.region, request: request, by: principal(for: ns),
                                                                                   fixedID: fixed).jwt
                    continue
                }
                let token = try await services.tokens.create(api: api, region: ns.region, request: request, by: principal(for: ns), fixedID: fixed)
                issued[token.token.id.rawValue] = token.jwt
            } catch { problems += Self.problems(error, file: file, at: at) }
        }
        if writeTokenFile, let tokenFile = doc.token_file {
            let path = tokenFile.hasPrefix("/") ? tokenFile : ((file as NSString).deletingLastPathComponent as NSString).appendingPathComponent(tokenFile)
            do {
                let data = try JSONSerialization.data(withJSONObject: issued, options: [.prettyPrinted, .sortedKeys])
                try writePrivately(data, to: path)
            } catch { problem("token_file", "cannot write \(path): \(error)") }
        }
        return problems
    }

    /// Why a private file could not be written.
    struct WriteFailure: Error, CustomStringConvertible {
        var description: String
    }

    /// Writes `data` to `path` readable and writable by this user only (0600): a token file holds bearer tokens, and
    /// a file the mock creates that holds secrets must not be world-readable. The bytes go to a new file beside `path`
    /// (created 0600, never an existing one), which then replaces `path` in one rename: a reader never sees half a file,
    /// and an older, more open file at `path` is replaced with its mode.
    static func writePrivately(_ data: Data, to path: String) throws {
        func failure(_ what: String) -> WriteFailure { WriteFailure(description: "\(what): \(String(cString: strerror(errno)))") }
        let url = URL(fileURLWithPath: path)
        let temporary = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString).tmp").path
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw failure("cannot create \(temporary)") }
        let handle = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
        do {
            try handle.write(contentsOf: data)
            try handle.close()
        } catch {
            unlink(temporary)
            throw error
        }
        guard rename(temporary, path) == 0 else {
            let error = failure("cannot replace \(path)")
            unlink(temporary)
            throw error
        }
    }

    static func principal(for ns: Namespace) -> Principal {
        Principal(accessKey: "seed", organizationID: ns.organizationID, projectIDs: nil, defaultProjectID: ns.projectID)
    }

    /// A namespace of `kind` by id, or by name when that name is unique among that kind's namespaces.
    static func namespace(_ ref: String, kind: NamespaceKind, _ database: AppDatabase) -> Namespace? {
        if let id = NamespaceID(ref), let ns = try? database.namespace(id: id), ns.kind == kind { return ns }
        let matches = (try? database.namespaces(named: ref, kind: kind)) ?? []
        return matches.count == 1 ? matches[0] : nil
    }

    /// A container or function by id, or by name when unique.
    static func application(container: String?, function: String?, _ database: AppDatabase) -> (ref: ApplicationRef, namespaceID: NamespaceID)? {
        find(Container.self, container, database) ?? find(Function.self, function, database)
    }

    private static func find<A: StoredApplication>(_: A.Type, _ ref: String?, _ database: AppDatabase) -> (ref: ApplicationRef, namespaceID: NamespaceID)? {
        guard let ref else { return nil }
        let found = Identifier<A.Tag>(ref).flatMap { try? database.application(A.self, id: $0) } ?? (try? database.application(A.self, named: ref))
        return found.map { ($0.ref, $0.namespaceID) }
    }
}
