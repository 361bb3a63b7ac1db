import Foundation
import Hummingbird
import ScwDomain
import ScwEngine
import Synchronization

/// What the OpenAPI document and the 405 handlers need of a route table, whatever its context.
protocol MountedRoutes: AnyObject, Sendable {
    var routes: [(method: String, path: String)] { get }
    var responseSchemas: [String: JSONSchema] { get }
    func finish()
}

/// Records routes as they are mounted so that a known path with an unknown method answers 405, not 404. API tables
/// serve `APIRequestContext` (the caller known); the mock's own table serves `ScwRequestContext`.
final class RouteTable<Context: RequestContext>: MountedRoutes, @unchecked Sendable {
    private let group: RouterGroup<Context>
    private let prefix: String
    private(set) var methodsByPath: [String: Set<HTTPRequest.Method>] = [:]
    /// The schema of each route's answer, by "METHOD /full/path", when its handler's output type documents one.
    private(set) var responseSchemas: [String: JSONSchema] = [:]

    init(_ group: RouterGroup<Context>, prefix: String) {
        self.group = group
        self.prefix = prefix
    }

    typealias Handler<Output: ResponseGenerator> = @Sendable (Request, Context) async throws -> Output

    func get<O: ResponseGenerator>(_ path: String, _ handler: @escaping Handler<O>) { add(.get, path, handler) }
    func post<O: ResponseGenerator>(_ path: String, _ handler: @escaping Handler<O>) { add(.post, path, handler) }
    func patch<O: ResponseGenerator>(_ path: String, _ handler: @escaping Handler<O>) { add(.patch, path, handler) }
    func delete<O: ResponseGenerator>(_ path: String, _ handler: @escaping Handler<O>) { add(.delete, path, handler) }
    func put<O: ResponseGenerator>(_ path: String, _ handler: @escaping Handler<O>) { add(.put, path, handler) }

    private func add<O: ResponseGenerator>(_ method: HTTPRequest.Method, _ path: String, _ handler: @escaping Handler<O>) {
        group.on(RouterPath(path), method: method, use: handler)
        methodsByPath[path, default: []].insert(method)
        if let documented = O.self as? any DocumentedResponse.Type {
            responseSchemas["\(method.rawValue) /\(prefix)/\(path)"] = documented.schema
        }
    }

    /// Every (method, full path) this table serves.
    var routes: [(method: String, path: String)] {
        methodsByPath.flatMap { path, methods in methods.map { (method: $0.rawValue, path: "/\(prefix)/\(path)") } }
            .sorted { ($0.path, $0.method) < ($1.path, $1.method) }
    }

    /// Adds 405 handlers for the common methods a path does not serve.
    func finish() {
        let all: [HTTPRequest.Method] = [.get, .post, .put, .patch, .delete, .head, .options]
        for (path, methods) in methodsByPath {
            for method in all where !methods.contains(method) {
                group.on(RouterPath(path), method: method) { _, _ -> Response in throw HTTPError(.methodNotAllowed) }
            }
        }
    }
}

/// The services the API needs, built by the application's composition root.
public struct APIServices: Sendable {
    public var authenticator: Authenticator
    public var namespaces: NamespaceService
    public var containers: ContainerService
    public var functions: FunctionService
    public var triggers: TriggerService
    public var domains: DomainService
    public var tokens: TokenService
    public var clock: MockClock
    public var info: MockInfo
    public var admin: any MockAdministration
    public var requestLog = RequestLog()
    public var faults: FaultInjector
    public var gateway: GatewayService
    /// Who may reach the API and `/_mock` (allowed hosts, cross-site refusal, control token).
    public var edge = EdgePolicy()

    /// Bundles the services.
    public init(authenticator: Authenticator, namespaces: NamespaceService, containers: ContainerService, functions: FunctionService,
                triggers: TriggerService, domains: DomainService, tokens: TokenService, clock: MockClock, info: MockInfo,
                admin: any MockAdministration, gateway: GatewayService) {
        self.admin = admin
        self.gateway = gateway
        self.faults = FaultInjector(clock: clock)
        self.functions = functions
        self.triggers = triggers
        self.domains = domains
        self.authenticator = authenticator
        self.namespaces = namespaces
        self.containers = containers
        self.tokens = tokens
        self.clock = clock
        self.info = info
    }
}

extension Authenticator: Authenticating {}

/// The whole route table in one place: every API version's routes and the mock's own.
public func buildRouter(_ services: APIServices) -> Router<ScwRequestContext> {
    let router = Router(context: ScwRequestContext.self)
    // The browser console, mounted first: middleware applies only to routes added after it, so the console keeps its
    // own stack (the same edge checks, its own CSP and HTML errors) instead of the API's JSON one.
    ConsoleController(services: services).mount(on: router)
    // The edge policy (allowed hosts, cross-site, control token) before anything else; calls for a deployed container or
    // function never get here (`GatewayHandler` proxies them on the connection).
    router.add(middleware: InvocationGateway(gateway: services.gateway, edge: services.edge))
    router.add(middleware: GatewayMiddleware(log: services.requestLog, faults: services.faults, clock: services.clock))
    let auth = AuthMiddleware(authenticator: services.authenticator)
    var tables: [any MountedRoutes] = []

    // Containers v1beta1 (deprecated but served).
    let containersV1Beta1 = RouteTable(router.group("containers/v1beta1/regions/:region").add(middleware: auth).group(context: APIRequestContext.self), prefix: "containers/v1beta1/regions/:region")
    V1Beta1NamespaceController(kind: .container, service: services.namespaces).mount(on: containersV1Beta1)
    V1Beta1ContainerController(service: services.containers).mount(on: containersV1Beta1)
    CronController(api: .containers, service: services.triggers).mount(on: containersV1Beta1)
    V1Beta1DomainController(api: .containers, service: services.domains).mount(on: containersV1Beta1)
    V1Beta1TriggerController(api: .containers, service: services.triggers).mount(on: containersV1Beta1)
    TokenController(api: .containers, service: services.tokens, clock: services.clock).mount(on: containersV1Beta1)
    tables.append(containersV1Beta1)

    // Containers v1.
    let containersV1 = RouteTable(router.group("containers/v1/regions/:region").add(middleware: auth).group(context: APIRequestContext.self), prefix: "containers/v1/regions/:region")
    V1NamespaceController(service: services.namespaces).mount(on: containersV1)
    V1ContainerController(service: services.containers).mount(on: containersV1)
    V1DomainController(service: services.domains).mount(on: containersV1)
    V1TriggerController(service: services.triggers).mount(on: containersV1)
    tables.append(containersV1)

    // Functions v1beta1.
    let functionsV1Beta1 = RouteTable(router.group("functions/v1beta1/regions/:region").add(middleware: auth).group(context: APIRequestContext.self), prefix: "functions/v1beta1/regions/:region")
    V1Beta1NamespaceController(kind: .function, service: services.namespaces).mount(on: functionsV1Beta1)
    FunctionController(service: services.functions).mount(on: functionsV1Beta1)
    CronController(api: .functions, service: services.triggers).mount(on: functionsV1Beta1)
    V1Beta1DomainController(api: .functions, service: services.domains).mount(on: functionsV1Beta1)
    V1Beta1TriggerController(api: .functions, service: services.triggers).mount(on: functionsV1Beta1)
    TokenController(api: .functions, service: services.tokens, clock: services.clock).mount(on: functionsV1Beta1)
    tables.append(functionsV1Beta1)

    // Container Registry v1 and IAM's API-key look-up: the APIs next door that deploy tools call (same key rules).
    let registryV1 = RouteTable(router.group("registry/v1/regions/:region").add(middleware: auth).group(context: APIRequestContext.self), prefix: "registry/v1/regions/:region")
    RegistryController(service: services.namespaces.registry).mount(on: registryV1)
    tables.append(registryV1)
    let iamV1Alpha1 = RouteTable(router.group("iam/v1alpha1").add(middleware: auth).group(context: APIRequestContext.self), prefix: "iam/v1alpha1")
    IAMController(service: services.namespaces.registry).mount(on: iamV1Alpha1)
    tables.append(iamV1Alpha1)

    // The mock's own routes: no key needed.
    let mock = RouteTable(router.group("_mock"), prefix: "_mock")
    let mockRoutes = Box<[(method: String, path: String)]>([])
    MockController(info: services.info, tokens: services.tokens, routes: mockRoutes).mount(on: mock)
    FunctionController(service: services.functions).mountStorage(on: mock)
    for product in [NamespaceKind.container, .function] {
        let (kind, resource) = (product.product, product.applicationKind)
        /// The application id of the path, refused (404) when it names an application of the other kind. `mustExist`:
        /// also refused when no such application exists (the logs of a deleted one are still served).
        @Sendable func applicationID(_ context: ScwRequestContext, mustExist: Bool) throws -> String {
            let id: Identifier<Never> = try context.id("application_id")
            let target = (try? services.gateway.target(id: id.rawValue)) ?? nil
            if let target, target.kind != resource { throw ScwError.notFound(resource, id: id.rawValue) }
            if mustExist && target == nil { throw ScwError.notFound(resource, id: id.rawValue) }
            return id.rawValue
        }
        // Gateway-side faults: the next deploy fails, or the running process crashes.
        mock.post("\(kind)/:application_id/fail-next-deploy") { _, context -> FaultAck in
            await services.gateway.runtime.failNextDeploy(of: try applicationID(context, mustExist: true))
            return FaultAck(status: "armed")
        }
        mock.post("\(kind)/:application_id/crash") { _, context -> FaultAck in
            let id = try applicationID(context, mustExist: true)
            guard await services.gateway.runtime.crash(id) else { throw ScwError.notFound(resource, id: id) }
            return FaultAck(status: "crashed")
        }
        mock.get("\(kind)/:application_id/logs") { _, context -> LogsResponse in
            let id = try applicationID(context, mustExist: false)
            guard let logs = await services.gateway.runtime.logs(of: id) else { throw ScwError.notFound(resource, id: id) }
            return LogsResponse(lines: logs.lines, dropped: logs.dropped)
        }
    }
    let everyTable = Box<[any MountedRoutes]>([])
    let encodedDocument = Mutex<ByteBuffer?>(nil)
    let document: @Sendable () -> ByteBuffer = {
        encodedDocument.withLock { cached in
            if let cached { return cached }
            let document = OpenAPIDocument(version: services.info.version, routes: everyTable.value.flatMap(\.routes) + invocationRoutes,
                                           responses: everyTable.value.reduce(into: [:]) { $0.merge($1.responseSchemas) { a, _ in a } })
            let encoded = ByteBuffer(bytes: (try? WireJSON.encoder.encode(document)) ?? Data())
            cached = encoded
            return encoded
        }
    }
    AdminController(admin: services.admin, clock: services.clock, log: services.requestLog, faults: services.faults,
                    tokens: services.tokens, document: document)
        .mount(on: mock)
    tables.append(mock)

    for table in tables { table.finish() }
    everyTable.value = tables
    mockRoutes.value = mock.routes + invocationRoutes
    return router
}

/// `/_mock/invoke/{id}/<path>`: answered by the gateway (`GatewayHandler`, on the connection) before the router,
/// with any method; listed so that `/_mock/health` and the OpenAPI document name it.
let invocationRoutes: [(method: String, path: String)] = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"].map {
    (method: $0, path: "/_mock/invoke/:application_id/:path")
}

/// A reference cell set once while the router is built (the OpenAPI document needs the finished route tables).
final class Box<Value>: @unchecked Sendable {
    var value: Value
    init(_ value: Value) { self.value = value }
}

/// The answer of the gateway-side fault routes.
struct FaultAck: ResponseEncodable, Sendable {
    var status: String
}

/// `GET /_mock/{containers|functions}/{id}/logs`: the captured output of its process.
struct LogsResponse: ResponseEncodable, Sendable {
    var lines: [LogLine]
    var dropped: Int
}
