import Foundation
import ScwDomain
import ScwStore
import Synchronization

/// Use cases on functions (spec sections 3c, 4e): CRUD, deploy, code upload and download through pre-signed URLs.
public struct FunctionService: Sendable {
    let database: AppDatabase
    let clock: any WallClock
    let ids: any IDSource
    let settings: EngineSettings
    let runtime: RuntimeCoordinator?
    /// Where uploads are received (the runtime's private folder when there is one).
    let workspace: PrivateWorkspace
    /// The server's own address, the base of pre-signed URLs.
    public let address = ServerAddress()

    /// Largest accepted code archive (Scaleway's limit for a zip upload).
    public static let maxArchiveBytes = 100 * 1024 * 1024
    /// Lifetime of a pre-signed URL (the recorded S3 URLs say `X-Amz-Expires=3600`).
    public static let urlLifetimeSeconds: Int64 = 3600

    /// Creates the service.
    public init(database: AppDatabase, clock: any WallClock, ids: any IDSource, settings: EngineSettings, runtime: RuntimeCoordinator? = nil) {
        self.database = database
        self.clock = clock
        self.ids = ids
        self.settings = settings
        self.runtime = runtime
        self.workspace = runtime?.workspace ?? PrivateWorkspace()
    }

    /// When a deploy started `now` settles: when the runtime says so (or at once without code), else after the delay.
    func settlement(_ now: Timestamp) -> Timestamp {
        runtime?.settings.enabled == true ? RuntimeCoordinator.settledByRuntime : now.adding(nanoseconds: settings.transitionDelayNanoseconds)
    }

    /// Creates a function in a function namespace; it stays `created` until deployed (spec section 4e).
    public func create(namespaceID: NamespaceID, name: String, patch: FunctionPatch, region: Region, by principal: Principal,
                       fixedID: FunctionID? = nil) async throws(ScwError) -> Function {
        guard let ns = try database.namespace(id: namespaceID), ns.kind == .function, ns.region == region else {
            throw .notFound(.namespace, id: namespaceID.rawValue)
        }
        guard principal.may(access: ns.projectID, of: ns.organizationID) else {
            throw .permissionsDenied([PermissionDetail(action: "write", resource: "function")])
        }
        guard let runtime = patch.runtime else { throw .invalid("runtime", .required, "runtime is required") }
        var problems = ContainerRules.nameProblem(name).map { p -> ArgumentProblem in
            var p = p
            p.helpMessage = p.helpMessage.replacingOccurrences(of: "container name", with: "function name")
            return p
        }.map { [$0] } ?? []
        let spec = patch.applied(to: .defaults(runtime: runtime))
        problems += FunctionPatch.problems(spec, in: ns)
        problems += SecretsUpdate.problems(patch.secrets)
        if !problems.isEmpty { throw .invalidArguments(problems) }
        if try database.applicationID(named: name, in: ns.id) != nil { throw .alreadyExists(.function, name: name) }
        let secrets = SecretsUpdate.apply(patch.secrets, to: [], fresh: await SecretsUpdate.hash(patch.secrets, profile: .legacy, cost: settings.secretHashCost))
        let now = clock.now()
        var function = Function(
            id: fixedID ?? ids.make(), namespaceID: ns.id, name: name, region: region, projectID: ns.projectID, organizationID: ns.organizationID,
            spec: spec, secrets: secrets, phase: ApplicationLifecycle.apply(.createdOnly, to: .created).phase, settlesAt: now,
            errorMessage: nil, readyAt: nil, domainName: settings.domainName(prefix: ns.endpointPrefix, name: name, region: region),
            hasCode: false, createdAt: now, updatedAt: now)
        function.secretValues = SecretsUpdate.applyPlain(patch.secrets, to: [:])
        try settings.quotas.checkFunction(region: region, organization: ns.organizationID, in: database)
        try database.createFunction(function)
        return function
    }

    /// A function in `region`, as its reader sees it now.
    public func get(_ id: FunctionID, region: Region, by principal: Principal) throws(ScwError) -> Function {
        guard let f = try database.function(id: id), f.region == region else { throw .notFound(.function, id: id.rawValue) }
        try Self.authorize(principal, f, action: "read")
        return f.observed(at: clock.now())
    }

    /// One page of the principal's functions.
    public func list(region: Region, namespaceID: NamespaceID?, name: String?, projectID: ProjectID?, organizationID: OrganizationID?,
                     page: PageRequest, by principal: Principal) throws(ScwError) -> Page<Function> {
        let projects = try principal.listScope(projectID: projectID, organizationID: organizationID, resource: "function")
        var result = try database.functions(matching: ContainerQuery(region: region, namespaceID: namespaceID, nameContains: name,
                                                                     projectIDs: projects, organizationID: principal.organizationID, page: page))
        let now = clock.now()
        result.items = result.items.map { $0.observed(at: now) }
        return result
    }

    /// Applies a PATCH; every PATCH redeploys (spec section 4e: a never-deployed function goes pending → error).
    public func update(_ id: FunctionID, patch: FunctionPatch, region: Region, by principal: Principal) async throws(ScwError) -> Function {
        let secretIssues = SecretsUpdate.problems(patch.secrets)
        if !secretIssues.isEmpty { throw .invalidArguments(secretIssues) }
        // 404/403 before the slow hashing (checked again in the transaction).
        guard let existing = try database.function(id: id), existing.region == region else { throw .notFound(.function, id: id.rawValue) }
        try Self.authorize(principal, existing, action: "write")
        let fresh = await SecretsUpdate.hash(patch.secrets, profile: .legacy, cost: settings.secretHashCost)
        let now = clock.now()
        let settles = settlement(now)
        let principalCopy = principal
        guard let updated = try database.updateFunction(id: id, { f, ns in
            guard f.region == region else { throw ScwError.notFound(.function, id: id.rawValue) }
            try Self.authorize(principalCopy, f, action: "write")
            f = f.observed(at: now)
            let spec = patch.applied(to: f.spec)
            let problems = FunctionPatch.problems(spec, in: ns)
            if !problems.isEmpty { throw ScwError.invalidArguments(problems) }
            let transition = ApplicationLifecycle.apply(.configurationChanged, to: f.phase)
            if transition.refused { throw ScwError.transientState(.function, id: id.rawValue, currentState: f.phase.rawValue) }
            let secrets = SecretsUpdate.apply(patch.secrets, to: f.secrets, fresh: fresh)
            let secretValues = SecretsUpdate.applyPlain(patch.secrets, to: f.secretValues)
            // A merge can go past the limits each request keeps to (throwing rolls the transaction back).
            let secretProblems = SecretsUpdate.resultProblems(patch.secrets, secrets, plain: secretValues)
            if !secretProblems.isEmpty { throw ScwError.invalidArguments(secretProblems) }
            f.spec = spec
            f.secrets = secrets
            f.secretValues = secretValues
            f.phase = transition.phase
            f.settlesAt = settles
            f.errorMessage = f.deployOutcome
            f.updatedAt = now
        }) else { throw .notFound(.function, id: id.rawValue) }
        await runtime?.deploy(function: id)
        return updated
    }

    /// `POST …/functions/{id}/deploy`: pending, then ready (or error without uploaded code).
    public func deploy(_ id: FunctionID, region: Region, by principal: Principal) async throws(ScwError) -> Function {
        let now = clock.now()
        let settles = settlement(now)
        let principalCopy = principal
        guard let updated = try database.updateFunction(id: id, { f, _ in
            guard f.region == region else { throw ScwError.notFound(.function, id: id.rawValue) }
            try Self.authorize(principalCopy, f, action: "write")
            f = f.observed(at: now)
            let transition = ApplicationLifecycle.apply(.deployRequested, to: f.phase)
            if transition.refused { throw ScwError.transientState(.function, id: id.rawValue, currentState: f.phase.rawValue) }
            f.phase = transition.phase
            f.settlesAt = settles
            f.errorMessage = f.deployOutcome
            f.updatedAt = now
        }) else { throw .notFound(.function, id: id.rawValue) }
        await runtime?.deploy(function: id)
        return updated
    }

    /// Deletes a function, its code and its tokens; returns it in `deleting`.
    public func delete(_ id: FunctionID, region: Region, by principal: Principal) async throws(ScwError) -> Function {
        let principalCopy = principal
        guard let deleted = try database.deleteFunction(id: id, { f in
            guard f.region == region else { throw ScwError.notFound(.function, id: id.rawValue) }
            try Self.authorize(principalCopy, f, action: "write")
        }) else { throw .notFound(.function, id: id.rawValue) }
        await runtime?.stop(id.rawValue)
        var shown = deleted.observed(at: clock.now())
        shown.phase = .deleting
        return shown
    }

    /// A pre-signed upload grant for exactly `contentLength` bytes; returns the token to put in the URL.
    public func uploadGrant(_ id: FunctionID, contentLength: Int?, region: Region, by principal: Principal) throws(ScwError) -> String {
        guard let contentLength else { throw .invalid("content_length", .required, "content_length is required") }
        guard (1...Self.maxArchiveBytes).contains(contentLength) else {
            throw .invalid("content_length", .constraint, "content_length must be between 1 and \(Self.maxArchiveBytes) bytes")
        }
        _ = try get(id, region: region, by: principal)
        return try grant(id, purpose: "upload", contentLength: contentLength)
    }

    /// A pre-signed download grant for the uploaded archive (404 `Function was not found` if none was uploaded).
    public func downloadGrant(_ id: FunctionID, region: Region, by principal: Principal) throws(ScwError) -> String {
        let f = try get(id, region: region, by: principal)
        guard f.hasCode else { throw .notFound(.function, id: id.rawValue) }
        return try grant(id, purpose: "download", contentLength: 0)
    }

    /// Stores an archive given whole (fixtures); false when the grant does not match (expired, used, wrong size).
    public func acceptUpload(_ id: FunctionID, token: String, archive: Data) throws(ScwError) -> Bool {
        try database.storeUpload(token: token, function: id, archive: archive, now: clock.now())
    }

    /// The number of bytes an upload URL's token grants (checked before its body is read); nil when it grants none:
    /// unknown, expired, used, or for another function.
    public func grantedUploadSize(_ id: FunctionID, token: String) throws(ScwError) -> Int? {
        try database.uploadGrantSize(token: token, function: id, now: clock.now())
    }

    /// A private file (0600) to receive the body of a PUT to an upload URL as it arrives.
    public func stageUpload(_ id: FunctionID) throws(ScwError) -> StagedFile {
        do { return try workspace.makeFile("upload-\(id.rawValue)") } catch {
            throw .unavailable("the upload could not be received: no private file could be created")
        }
    }

    /// Stores a received upload as the function's code; false when the grant does not match (expired, used, wrong
    /// size). The file is copied to the store in chunks, off the cooperative pool.
    public func acceptUpload(_ id: FunctionID, token: String, file: StagedFile) async throws(ScwError) -> Bool {
        file.close()
        let (database, path, size, now) = (database, file.url.path, file.size, clock.now())
        return try await offload { () -> Result<Bool, ScwError> in
            do throws(ScwError) { return .success(try database.storeUpload(token: token, function: id, file: path, size: size, now: now)) }
            catch { return .failure(error) }
        }.get()
    }

    /// The archive behind a download URL.
    public func download(_ id: FunctionID, token: String) throws(ScwError) -> Data? {
        try database.download(token: token, function: id, now: clock.now())
    }

    private func grant(_ id: FunctionID, purpose: String, contentLength: Int) throws(ScwError) -> String {
        var bytes = [UInt8](repeating: 0, count: 24)
        for i in bytes.indices { bytes[i] = UInt8.random(in: 0...255) }
        let token = bytes.map { String(format: "%02x", $0) }.joined()
        try database.grantURL(token: token, function: id, purpose: purpose, contentLength: contentLength,
                              expiresAt: clock.now().adding(nanoseconds: Self.urlLifetimeSeconds * 1_000_000_000))
        return token
    }

    static func authorize(_ principal: Principal, _ f: Function, action: String) throws(ScwError) {
        guard principal.may(access: f.projectID, of: f.organizationID) else {
            throw .permissionsDenied([PermissionDetail(action: action, resource: "function")])
        }
    }
}

/// The server's own base URL (the bound host and the port actually listened on), which pre-signed URLs point at:
/// never a request's `Host` header, which the client chooses.
public final class ServerAddress: Sendable {
    private let base = Mutex("http://127.0.0.1:7290")

    /// Creates the default address (the embedded defaults).
    public init() {}

    /// `http://host:port`; the wildcard addresses (`0.0.0.0`, `::`) are shown as `127.0.0.1`, as the export line does.
    public var baseURL: String { base.withLock { $0 } }

    /// The host clients use for a bound host: the wildcard addresses (`0.0.0.0`, `::`) are shown as `127.0.0.1`
    /// (the export line, the ready file and the pre-signed URLs all show this).
    public static func shownHost(_ host: String) -> String {
        host == "0.0.0.0" || host == "::" || host.isEmpty ? "127.0.0.1" : host
    }

    /// Records the bound host and port.
    public func set(host: String, port: Int) {
        let shown = Self.shownHost(host)
        let bracketed = shown.contains(":") && !shown.hasPrefix("[") ? "[\(shown)]" : shown
        base.withLock { $0 = "http://\(bracketed):\(port)" }
    }
}
