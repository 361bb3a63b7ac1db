import Foundation
import Logging
import ScwAPI
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
    /// What deserves a look but is no problem (`scw-mock seed check` prints them too), e.g. a path leaving the fixture's folder.
    public var warnings: [SeedProblem] = []
    public var description: String { problems.map(\.description).joined(separator: "\n") }
}

/// What `scw-mock seed check` found in fixtures without problems.
public struct SeedCheck: Sendable {
    /// How many fixture files were read.
    public var files: Int
    /// What deserves a look but is no problem (the exit code stays 0).
    public var warnings: [SeedProblem]
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
        /// The clock the services read (fixtures are tried first on a scratch copy with the same clock).
        var clock: any WallClock

        /// Bundles the services.
        public init(containers: ContainerService, functions: FunctionService, triggers: TriggerService, tokens: TokenService,
                    clock: any WallClock = SystemClock()) {
            self.containers = containers
            self.functions = functions
            self.triggers = triggers
            self.tokens = tokens
            self.clock = clock
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

    /// The fixture files under `paths` (a folder contributes its `.yaml`, `.yml` and `.json` files, sorted), without the
    /// files the mock writes itself (see `fixtureDocuments`).
    static func files(in paths: [String]) throws(SeedError) -> [String] {
        try fixtureDocuments(in: paths).documents.map(\.0)
    }

    /// The candidate files under `paths`: the files named, and a folder's `.yaml`, `.yml` and `.json` files, sorted
    /// (`listed`: found in a folder rather than named).
    static func candidates(in paths: [String]) throws(SeedError) -> [(file: String, listed: Bool)] {
        var result: [(file: String, listed: Bool)] = []
        for path in paths {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                throw SeedError(problems: [SeedProblem(file: path, field: "-", message: "no such file or folder")])
            }
            if isDirectory.boolValue {
                let names = ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted()
                // A folder may hold the format's JSON Schema (`seed/schema.json`): it is not a fixture.
                result += names.filter { [".yaml", ".yml", ".json"].contains(where: $0.hasSuffix) }
                    .filter { $0 != "schema.json" && !$0.hasSuffix(".schema.json") }
                    .map { ((path as NSString).appendingPathComponent($0), true) }
            } else {
                result.append((path, false))
            }
        }
        return result
    }

    /// The fixture documents under `paths`, read, without the files the mock writes: a folder holding a fixture with
    /// `token_file: tokens.json` (the README's own pattern) gets that file at the first start, and reading it back as a
    /// fixture at the next one would stop the server. A file that a fixture of the set names as its `token_file` is
    /// left out; one that has the shape of a token file although no fixture names it any more (the fixture was edited)
    /// is left out with a warning. `listed`: the files found in a folder rather than named (see `notAFixture`).
    static func fixtureDocuments(in paths: [String]) throws(SeedError)
        -> (documents: [(String, Result<String, any Error>)], listed: Set<String>, warnings: [SeedProblem]) {
        let found = try candidates(in: paths)
        let read = found.map { candidate in (candidate, Result<String, any Error> { try readDocument(candidate.file) }) }
        let written = Set(read.compactMap { candidate, text in
            (try? text.get()).flatMap { tokenFile(of: $0, file: candidate.file) }
        })
        var documents: [(String, Result<String, any Error>)] = []
        var listed: Set<String> = []
        var warnings: [SeedProblem] = []
        for (candidate, text) in read {
            if written.contains(standardized(candidate.file)) {
                if !candidate.listed {
                    warnings.append(SeedProblem(file: candidate.file, field: "-",
                                                message: "a fixture writes this file as its token_file: not read as a fixture"))
                }
                continue
            }
            if let text = try? text.get(), isTokenFile(text) {
                warnings.append(SeedProblem(
                    file: candidate.file, field: "-",
                    message: "a token file (token ids to JWTs) that no fixture names as its token_file: not read as a fixture"))
                continue
            }
            documents.append((candidate.file, text))
            if candidate.listed { listed.insert(candidate.file) }
        }
        return (documents, listed, warnings)
    }

    /// A path made comparable: absolute, `.`, `..` and repeated slashes removed.
    static func standardized(_ path: String) -> String {
        let absolute = path.hasPrefix("/") ? path : (FileManager.default.currentDirectoryPath as NSString).appendingPathComponent(path)
        return (absolute as NSString).standardizingPath
    }

    /// Where the fixture `text` writes its token file (standardized, resolved as `applyApplications` writes it:
    /// relative to the fixture's folder), if it has a `token_file`. Only a document that mentions it is parsed here.
    static func tokenFile(of text: String, file: String) -> String? {
        guard text.contains("token_file"),
              let path = try? parse(text, file: file, { $0.mapping?["token_file"]?.string }), !path.isEmpty else { return nil }
        return standardized(path.hasPrefix("/") ? path : ((file as NSString).deletingLastPathComponent as NSString).appendingPathComponent(path))
    }

    /// Whether `text` is a token file as `token_file` writes it: a non-empty JSON object mapping token ids (UUIDs) to
    /// JWTs (three base64url segments). A fixture's first key is never a UUID, so other documents are not parsed here.
    static func isTokenFile(_ text: String) -> Bool {
        let head = text.drop { $0.isWhitespace }
        guard head.hasPrefix("{"), let quote = head.dropFirst().drop(while: { $0.isWhitespace }).first, quote == "\"",
              Identifier<Never>(String(head.dropFirst().drop(while: { $0.isWhitespace }).dropFirst().prefix(36))) != nil,
              let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], !object.isEmpty
        else { return false }
        let base64url = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
        return object.allSatisfy { id, value in
            guard Identifier<Never>(id) != nil, let jwt = value as? String else { return false }
            let segments = jwt.split(separator: ".", omittingEmptySubsequences: false)
            return segments.count == 3 && segments.allSatisfy { !$0.isEmpty && $0.allSatisfy(base64url.contains) }
        }
    }

    /// The problem of a document found in a folder that is no fixture at all (a `package.json`, a CI workflow): its top
    /// level is a list, or a mapping with none of the format's keys. One line that says so and how to keep it out,
    /// instead of one per unknown key.
    static func notAFixture(_ root: Node, file: String) -> SeedProblem? {
        let sections = knownKeys[""] ?? []
        let what: String
        switch root {
        case .sequence: what = "its top level is a list"
        case .mapping(let map) where !map.isEmpty && !map.keys.contains(where: { $0.string.map(sections.contains) ?? false }):
            what = "none of its top-level keys is a fixture section (\(sections.joined(separator: ", ")))"
        default: return nil
        }
        let folder = (file as NSString).deletingLastPathComponent
        return SeedProblem(file: file, field: "-", message: "not a fixture: \(what); every .yaml, .yml and .json file of the folder "
            + "\(folder) is read as one: move it out of the folder, or pass the fixture files by name")
    }

    /// The largest fixture document read, in bytes: a bigger one is refused before it is parsed (catalog C05). The body
    /// of `POST /_mock/seed` is capped lower still, by `WireJSON.maxBodyBytes`.
    public static let maxDocumentBytes = 16 << 20
    /// The most YAML nodes a document may hold, its aliases expanded (catalog C05). Yams shares an aliased node's
    /// storage, so a "billion laughs" document of a few hundred bytes composes for free and explodes only when decoded:
    /// it is measured first and refused. A plain document is bounded before it is even parsed, since each node costs
    /// a few hundred bytes in memory (a 10 MiB `[0,0,…]` would take over 1 GiB): see `separatorCount`. An exported
    /// state of a thousand containers holds about a fifth of this.
    public static let maxNodes = 250_000

    /// Checks every fixture under `paths`, then applies them all (identities first, namespaces through the API's service,
    /// and the image and runtime mappings to the runtime). `checkOnly`: check, write nothing (`scw-mock seed check`).
    /// The files are the operator's own: they may name commands and local files. Returns the warnings (see
    /// `escapingPaths`).
    @discardableResult
    public static func apply(paths: [String], to database: AppDatabase, namespaces: NamespaceService, runtime: RuntimeCoordinator? = nil,
                             services: Services? = nil, checkOnly: Bool = false) async throws -> [SeedProblem] {
        let (documents, listed, skipped) = try fixtureDocuments(in: paths)
        return try await apply(documents: documents, to: database, namespaces: namespaces, runtime: runtime, services: services,
                               checkOnly: checkOnly, trusted: true, listed: listed, warnings: skipped)
    }

    /// A fixture file's text, read no further than `maxDocumentBytes` (a huge file, or a device that never ends, is
    /// refused rather than read into memory).
    static func readDocument(_ file: String) throws -> String {
        guard let handle = FileHandle(forReadingAtPath: file) else {
            throw SeedError(problems: [SeedProblem(file: file, field: "-", message: "cannot be read")])
        }
        defer { try? handle.close() }
        let data = try handle.read(upToCount: maxDocumentBytes + 1) ?? Data()
        guard data.count <= maxDocumentBytes else { throw SeedError(problems: [tooLarge(file)]) }
        guard let text = String(data: data, encoding: .utf8) else {
            throw SeedError(problems: [SeedProblem(file: file, field: "-", message: "expected UTF-8 text")])
        }
        return text
    }

    static func tooLarge(_ file: String) -> SeedProblem {
        SeedProblem(file: file, field: "-", message: "the document is larger than the limit of \(maxDocumentBytes >> 20) MiB (\(maxDocumentBytes) bytes)")
    }

    /// The resolver `YAMLDecoder` uses: merge keys (`<<`) only, so that scalars keep their text.
    static let mergeKeysOnly = Resolver.basic.appending(.merge)

    /// Parses one YAML (or JSON) document the way `YAMLDecoder` does (merge keys only: scalars keep their text), and
    /// refuses it, before anything expands its aliases, when they would expand past `maxNodes`. `body` gets the
    /// root node while the parser, which alone holds the anchors that `expandedNodeCount` relies on, is alive.
    static func parse<T>(_ text: String, file: String, _ body: (Node) throws -> T) throws -> T {
        guard separatorCount(text, limit: maxNodes) <= maxNodes else {
            throw SeedError(problems: [SeedProblem(
                file: file, field: "-",
                message: "the document has more than the limit of \(maxNodes) separators (, [ { : - ? and line breaks), "
                    + "which bounds its YAML nodes")])
        }
        let parser = try Parser(yaml: text, resolver: mergeKeysOnly)
        return try withExtendedLifetime(parser) {
            let root = try parser.singleRoot() ?? ""
            guard expandedNodeCount(root, limit: maxNodes) <= maxNodes else {
                throw SeedError(problems: [SeedProblem(
                    file: file, field: "-",
                    message: "the document expands (through its YAML aliases) to more than the limit of \(maxNodes) nodes")])
            }
            return try body(root)
        }
    }

    /// How many bytes of `text` may separate YAML nodes (`,` `[` `{` `:` `-` `?` and line breaks), counting at most to
    /// `limit + 1`. Every node but the first and each empty one follows one of them, so the parser makes at most about
    /// twice as many nodes: counting them first bounds the node tree before it exists. Base64 code and most values
    /// hold none.
    static func separatorCount(_ text: String, limit: Int) -> Int {
        var text = text
        return text.withUTF8 { bytes in
            var count = 0
            for byte in bytes where separators[Int(byte)] {
                count += 1
                if count > limit { break }
            }
            return count
        }
    }

    /// The bytes `separatorCount` counts, by value.
    private static let separators: [Bool] = (0..<256).map { ",[{:-?\n\r".utf8.contains(UInt8($0)) }

    /// How many nodes `root` holds with every alias expanded, counting at most to `limit + 1`. An anchored node is
    /// measured once: its aliases are copies that share its `Anchor` instance, so the count costs what the text costs.
    static func expandedNodeCount(_ root: Node, limit: Int) -> Int {
        var measured: [ObjectIdentifier: Int] = [:]
        func count(_ node: Node) -> Int {
            let anchor: Anchor?
            let children: [Node]
            switch node {
            case .scalar, .alias: return 1
            case .sequence(let sequence): (anchor, children) = (sequence.anchor, Array(sequence))
            case .mapping(let mapping): (anchor, children) = (mapping.anchor, mapping.flatMap { [$0.key, $0.value] })
            }
            if let anchor, let known = measured[ObjectIdentifier(anchor)] { return known }
            var total = 1
            for child in children where total <= limit { total += count(child) }
            total = min(total, limit + 1)
            if let anchor { measured[ObjectIdentifier(anchor)] = total }
            return total
        }
        return count(root)
    }

    /// Applies fixture documents given as text, YAML or JSON (`POST /_mock/seed` sends one). Every problem is collected
    /// first, by reading the documents and then applying them to a scratch copy of the store; the real store is only
    /// written when there is none, so a bad fixture changes nothing. `addingMappings`: the image and runtime mappings
    /// are added to the current ones (run time) instead of replacing them (start). `trusted`: the documents may name
    /// commands and local files (the operator's `--seed`, or `--trust-posted-seeds`); otherwise a document that does is
    /// refused whole, before any of its paths is read (`untrustedFields`). `listed`: the documents found in a folder,
    /// refused with one line when they are no fixture at all (`notAFixture`). `warnings`: found before (files left out).
    /// Returns the warnings.
    @discardableResult
    static func apply(documents: [(String, Result<String, any Error>)], to database: AppDatabase, namespaces: NamespaceService,
                      runtime: RuntimeCoordinator?, services: Services?, checkOnly: Bool = false, addingMappings: Bool = false,
                      trusted: Bool, listed: Set<String> = [], warnings skipped: [SeedProblem] = []) async throws -> [SeedProblem] {
        var problems: [SeedProblem] = []
        var warnings = skipped
        var plans: [Plan] = []
        var texts: [String: String] = [:]
        var knownProjects = try database.allProjects()
        for (file, read) in documents {
            let (before, warningsBefore) = (problems.count, warnings.count)
            var text: String?
            defer {
                if let text {
                    locate(&problems[before...], in: text)
                    locate(&warnings[warningsBefore...], in: text)
                }
            }
            do {
                let read = try read.get()
                guard read.utf8.count <= maxDocumentBytes else { throw SeedError(problems: [tooLarge(file)]) }
                text = read
                texts[file] = read
                let parsed: (SeedDocument, [SeedProblem])? = try parse(read, file: file) { root in
                    if !trusted {
                        let refused = untrustedFields(root, file: file)
                        if !refused.isEmpty { problems += refused; return nil }
                    }
                    if listed.contains(file), let problem = notAFixture(root, file: file) { problems.append(problem); return nil }
                    return (try YAMLDecoder().decode(SeedDocument.self, from: root), unknownKeys(root, file: file))
                }
                guard let parsed else { continue }
                let (document, unknown) = parsed
                problems += unknown
                warnings += escapingPaths(document, file: file)
                var plan = Plan(file: file)
                problems += planIdentity(document, into: &plan, knownProjects: &knownProjects)
                problems += planNamespaces(document.namespaces ?? [], into: &plan, knownProjects: knownProjects)
                problems += planMappings(document, into: &plan)
                problems += checkApplications(document, file: file)
                plan.document = document
                plans.append(plan)
            } catch let error as SeedError {
                problems += error.problems
            } catch let error as DecodingError {
                problems.append(SeedProblem(file: file, field: fieldPath(error), message: describe(error)))
            } catch let error as YamlError {
                problems.append(SeedProblem(file: file, field: "-", message: "not YAML or JSON: \(error)"))
            } catch {
                problems.append(SeedProblem(file: file, field: "-", message: "\(error)"))
            }
        }
        // The trial run: the same writes on a scratch copy, to find what only applying shows (references, API rules).
        // Without fixtures (the embedded default) there is nothing to try, and no reason to copy the store.
        var trial = plans.isEmpty ? [] : try await tryOut(plans, on: database, clock: services?.clock ?? SystemClock(), settings: namespaces.settings)
        for (file, text) in texts {
            let indices = trial.indices.filter { trial[$0].file == file }
            guard let first = indices.first, let last = indices.last else { continue }
            locate(&trial[first...last], in: text)
        }
        problems += trial
        if !problems.isEmpty { throw SeedError(problems: problems, warnings: warnings) }
        if checkOnly { return warnings }

        if addingMappings {
            runtime?.addMappings(images: plans.flatMap(\.images), runtimes: plans.flatMap(\.runtimes))
        } else {
            runtime?.setMappings(images: plans.flatMap(\.images), runtimes: plans.flatMap(\.runtimes))
        }
        problems = await write(plans, to: database, namespaces: namespaces, services: services, writeTokenFiles: true)
        if !problems.isEmpty { throw SeedError(problems: problems, warnings: warnings) }
        return warnings
    }

    /// Why a posted fixture may not carry a field, and what to send instead.
    static let untrustedReason = "refused in a fixture posted to /_mock/seed unless the server was started with --trust-posted-seeds"

    /// The fields of a document that act on this machine rather than describe data (catalog C03): command mappings
    /// (`images:`, `runtimes:`, their `working_directory`) run programs, `code` and `key_file` read any file or folder
    /// (and hand it back through `GET /_mock/state`), `token_file` writes anywhere. Anyone who can reach the port can
    /// post a fixture, so these are only taken from the operator's own. Inline content (`code_base64`, `key_pem`) is
    /// data and stays allowed. Read on the node tree, so that a field is refused whatever its type.
    static func untrustedFields(_ root: Node, file: String) -> [SeedProblem] {
        var problems: [SeedProblem] = []
        func refuse(_ field: String, _ what: String) {
            problems.append(SeedProblem(file: file, field: field, message: "\(what): \(untrustedReason)"))
        }
        guard let map = root.mapping else { return [] }
        for section in ["images", "runtimes"] {
            for (i, entry) in (map[section]?.sequence.map(Array.init) ?? []).enumerated() {
                // `engine_image` alone is data: it names an image for the engine, as any container's `image` does.
                if entry.mapping?["engine_image"] == nil || entry.mapping?["command"] != nil {
                    refuse("\(section)[\(i)].command", "a command mapping runs a program on the mock's machine")
                }
                if entry.mapping?["working_directory"] != nil {
                    refuse("\(section)[\(i)].working_directory", "a working directory names a folder of the mock's machine")
                }
            }
        }
        for (i, entry) in (map["namespaces"]?.sequence.map(Array.init) ?? []).enumerated() where entry.mapping?["key_file"] != nil {
            refuse("namespaces[\(i)].key_file", "a key file is read from the mock's machine (give the PEM inline as key_pem)")
        }
        for (i, entry) in (map["functions"]?.sequence.map(Array.init) ?? []).enumerated() where entry.mapping?["code"] != nil {
            refuse("functions[\(i)].code", "code names a file or folder of the mock's machine (give the zip inline as code_base64)")
        }
        if map["token_file"] != nil {
            refuse("token_file", "a token file is written on the mock's machine")
        }
        return problems
    }

    /// Warnings for the paths of a document that leave its folder: absolute, or climbing out with `..` (catalog C04).
    /// The operator's fixtures may do so, but a fixture from elsewhere that reads `../../.ssh/id_rsa` or writes
    /// `/etc/…` deserves a look before it is loaded: `scw-mock seed check` prints these.
    static func escapingPaths(_ doc: SeedDocument, file: String) -> [SeedProblem] {
        var paths: [(field: String, path: String)] = []
        for (section, list) in [("images", doc.images ?? []), ("runtimes", doc.runtimes ?? [])] {
            for (i, m) in list.enumerated() { if let d = m.working_directory { paths.append(("\(section)[\(i)].working_directory", d)) } }
        }
        for (i, n) in (doc.namespaces ?? []).enumerated() { if let k = n.key_file { paths.append(("namespaces[\(i)].key_file", k)) } }
        for (i, entry) in (doc.functions ?? []).enumerated() { if let c = field(entry, "code") { paths.append(("functions[\(i)].code", c)) } }
        if let t = doc.token_file { paths.append(("token_file", t)) }
        return paths.filter { leavesFolder($0.path) }.map {
            SeedProblem(file: file, field: $0.field, message: "the path \($0.path) leads out of the fixture's folder")
        }
    }

    /// Whether a path written in a fixture is absolute or climbs above the fixture's folder (`a/../../b`).
    static func leavesFolder(_ path: String) -> Bool {
        if path.hasPrefix("/") || path.hasPrefix("~") { return true }
        var depth = 0
        for part in path.split(separator: "/") where part != "." {
            depth += part == ".." ? -1 : 1
            if depth < 0 { return true }
        }
        return false
    }

    /// Applies the plans to a scratch in-memory copy of `database` through services of their own (no processes, no
    /// token files, keys of 2048 bits) and returns the problems found.
    static func tryOut(_ plans: [Plan], on database: AppDatabase, clock: any WallClock, settings base: EngineSettings = EngineSettings()) async throws -> [SeedProblem] {
        let scratch = try AppDatabase.open(path: ":memory:")
        try scratch.restore(try database.copy())
        let forge = KeyForge(database: scratch, bits: 2048, poolTarget: 0, logger: Logger(label: "seed-trial"))
        let keys = KeyRing(database: scratch, forge: forge)
        // The same quotas as the real store (a fixture over them is refused before anything is written) and hash cost.
        let settings = EngineSettings(quotas: base.quotas, secretHashCost: base.secretHashCost)
        let ids = RandomIDSource()
        let services = Services(
            containers: ContainerService(database: scratch, clock: clock, ids: ids, settings: settings),
            functions: FunctionService(database: scratch, clock: clock, ids: ids, settings: settings),
            triggers: TriggerService(database: scratch, clock: clock, ids: ids, settings: settings),
            tokens: TokenService(database: scratch, clock: clock, ids: ids, settings: settings, keys: keys), clock: clock)
        let namespaces = NamespaceService(database: scratch, clock: clock, ids: ids, settings: settings, keys: keys)
        let problems = await write(plans, to: scratch, namespaces: namespaces, services: services, writeTokenFiles: false)
        await forge.stop()
        try? scratch.close()
        return problems
    }

    /// Writes checked plans: identities, namespaces, then containers, functions, triggers and tokens; returns what failed.
    static func write(_ plans: [Plan], to database: AppDatabase, namespaces: NamespaceService, services: Services?,
                      writeTokenFiles: Bool) async -> [SeedProblem] {
        var problems: [SeedProblem] = []
        for plan in plans {
            do {
                try database.saveIdentity(organizations: plan.organizations, projects: plan.projects, apiKeys: plan.apiKeys)
            } catch {
                problems.append(SeedProblem(file: plan.file, field: "-", message: describe(error)))
                continue
            }
            for n in plan.namespaces {
                if let id = n.fixedID, (try? database.namespace(id: id)) != nil { continue }
                if n.fixedID == nil, let name = n.draft.name,
                   (try? database.namespace(named: name, kind: n.kind, region: n.region, project: n.project)) != nil { continue }
                guard let project = try? database.project(id: n.project) else { continue }
                let principal = Principal(accessKey: "seed", organizationID: project.organizationID, projectIDs: nil, defaultProjectID: project.id)
                do {
                    _ = try await namespaces.create(kind: n.kind, region: n.region, draft: n.draft, by: principal, fixedID: n.fixedID, key: n.key,
                                                    keyOnFirstUse: true)
                } catch {
                    problems += Self.problems(error, file: plan.file, at: n.field)
                }
            }
            if let document = plan.document {
                problems += applyRegistry(document, file: plan.file, database: database, namespaces: namespaces)
            }
            if let services, let document = plan.document {
                problems += await applyApplications(document, file: plan.file, database: database, services: services,
                                                    writeTokenFile: writeTokenFiles)
            }
        }
        return problems
    }

    /// One problem per invalid argument of an API error (`containers[0].min_scale: …`), else one for the entry.
    /// `renaming` maps the API's argument names to their path in the fixture entry.
    static func problems(_ error: any Error, file: String, at: String, renaming: [String: String] = [:]) -> [SeedProblem] {
        if case ScwError.invalidArguments(let list) = error, !list.isEmpty {
            return list.map { SeedProblem(file: file, field: "\(at).\(renaming[$0.argumentName] ?? $0.argumentName)", message: $0.helpMessage) }
        }
        return [SeedProblem(file: file, field: at, message: describe(error))]
    }

    /// The keys each part of a fixture document may have (seed/schema.json's `additionalProperties: false`); containers,
    /// functions and triggers take their API's request fields besides their own.
    static let knownKeys: [String: [String]] = [
        "": ["organizations", "projects", "api_keys", "namespaces", "containers", "functions", "triggers", "tokens", "token_file",
             "images", "runtimes", "registry_namespaces", "registry_images"],
        "organizations": ["id", "name"],
        "projects": ["id", "organization_id", "name"],
        "api_keys": ["access_key", "secret_key", "organization_id", "projects", "default_project_id", "expires_at"],
        "namespaces": ["id", "name", "kind", "region", "project_id", "description", "environment_variables", "secret_environment_variables",
                       "tags", "activate_vpc_integration", "key_file", "key_pem"],
        "containers": ["id", "namespace", "name", "deploy"] + FixtureWire.containerFields.sorted(),
        "functions": ["id", "namespace", "name", "deploy", "code", "code_base64"] + FixtureWire.functionFields.sorted(),
        "triggers": ["id", "container", "function", "name"] + FixtureWire.triggerFields.sorted(),
        "tokens": ["id", "namespace", "container", "function", "description", "expires_at"],
        "registry_namespaces": ["id", "name", "region", "project_id", "description", "is_public"],
        "registry_images": ["id", "namespace", "region", "name", "visibility", "size", "tags", "digest"],
        "images": ["image", "runtime", "command", "args", "working_directory", "environment", "engine_image"],
        "runtimes": ["image", "runtime", "command", "args", "working_directory", "environment"],
    ]

    /// A problem for each key of the document, or of an entry of its lists, that the format does not know (a typo such
    /// as `namepsaces:` or `imgae:` would otherwise be ignored), with its line.
    static func unknownKeys(_ root: Node, file: String) -> [SeedProblem] {
        var problems: [SeedProblem] = []
        func check(_ node: Node, section: String, path: String) {
            guard let map = node.mapping, let known = knownKeys[section] else { return }
            for (key, value) in map {
                guard let name = key.string else { continue }
                if !known.contains(name) {
                    problems.append(SeedProblem(file: file, field: path.isEmpty ? name : "\(path).\(name)",
                                                message: "unknown field; expected one of \(known.joined(separator: ", "))", line: key.mark?.line))
                } else if section.isEmpty, let list = value.sequence, knownKeys[name] != nil {
                    for (i, entry) in list.enumerated() { check(entry, section: name, path: "\(name)[\(i)]") }
                }
            }
        }
        check(root, section: "", path: "")
        return problems
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

    /// Adds line numbers to problems found in a fixture's `text`, by walking its YAML node tree along each field path.
    static func locate(_ problems: inout ArraySlice<SeedProblem>, in text: String) {
        // A document refused for its size is not parsed again to find lines.
        guard !problems.isEmpty, separatorCount(text, limit: maxNodes) <= maxNodes,
              let root = try? Yams.compose(yaml: text) else { return }
        for i in problems.indices where problems[i].line == nil {
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
                // A command (for processes), an engine image (for `--runtime container`), or both.
                let command = m.command ?? []
                if let engineImage = m.engine_image {
                    let problem = field == "images" ? ContainerRules.imageProblem(engineImage) : "only images: mappings name an engine image"
                    if let problem {
                        problems.append(SeedProblem(file: plan.file, field: "\(at).engine_image", message: problem))
                        continue
                    }
                }
                if (m.command != nil || m.engine_image == nil) && (command.isEmpty || command.contains(where: { $0.utf8.contains(0) })) {
                    problems.append(SeedProblem(file: plan.file, field: "\(at).command", message: "expected a non-empty list of arguments"))
                    continue
                }
                var dir = m.working_directory
                if let d = dir, !d.hasPrefix("/") {
                    dir = (((plan.file as NSString).deletingLastPathComponent as NSString).appendingPathComponent(d) as NSString).standardizingPath
                }
                let mapping = CommandMapping(pattern: pattern, command: command.isEmpty ? [] : command + (m.args ?? []), workingDirectory: dir,
                                             environment: m.environment ?? [:], engineImage: m.engine_image)
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
        case ScwError.quotasExceeded(let resource, let quota, _): return "quota exceeded: at most \(quota) \(resource) (see --quota-multiplier)"
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
