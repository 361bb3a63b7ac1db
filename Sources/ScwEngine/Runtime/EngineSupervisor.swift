import Foundation
import Logging
import NIOCore
import NIOHTTP1
import Synchronization

/// What to run for one container through the engine.
public struct EngineWorkload: Sendable, Equatable {
    /// The container id.
    public var id: String
    /// The image the engine runs (the container's `registry_image`, or a fixture mapping's `engine_image`).
    public var image: String
    /// The image's ENTRYPOINT replaced (the container's `command`), or nil to keep it.
    public var entrypoint: [String]?
    /// The image's CMD replaced (the container's `args`), or nil to keep it.
    public var cmd: [String]?
    /// The complete environment (the supervisor adds `PORT`).
    public var environment: [String: String]
    /// The port the container declares (`port`): what `PORT` says inside.
    public var declaredPort: Int
    /// `memory_limit_bytes`; 0 = none.
    public var memoryBytes: Int64
    /// `mvcpu_limit` as billionths of a CPU; 0 = none.
    public var nanoCPUs: Int64
    /// Labels naming the namespace and the application (the instance's are added).
    public var labels: [String: String]
    public var readyTimeoutSeconds: Double
    /// An HTTP path that must answer below 400 (the container's HTTP probe); nil = the TCP probe.
    public var httpProbePath: String?
    /// Remove the container after this many idle seconds; the next call starts it again (`min_scale: 0` with
    /// `--scale-to-zero`).
    public var idleStopSeconds: Double?

    public init(id: String, image: String, entrypoint: [String]?, cmd: [String]?, environment: [String: String], declaredPort: Int,
                memoryBytes: Int64, nanoCPUs: Int64, labels: [String: String], readyTimeoutSeconds: Double, httpProbePath: String?) {
        self.id = id
        self.image = image
        self.entrypoint = entrypoint
        self.cmd = cmd
        self.environment = environment
        self.declaredPort = declaredPort
        self.memoryBytes = memoryBytes
        self.nanoCPUs = nanoCPUs
        self.labels = labels
        self.readyTimeoutSeconds = readyTimeoutSeconds
        self.httpProbePath = httpProbePath
        self.idleStopSeconds = nil
    }
}

/// Which containers are this mock's: every container it creates carries `instanceLabel` (a hash of the store's
/// path: a later run on the same store removes what an earlier one left) and `serverLabel` (boot id, pid namespace
/// and pid of the server: a later mock on the same machine removes the containers of a server that no longer runs,
/// `:memory:` stores included).
public struct EngineIdentity: Sendable {
    public static let instanceLabel = "scw-mock.instance"
    public static let serverLabel = "scw-mock.server"
    public static let namespaceLabel = "scw-mock.namespace-id"
    public static let applicationLabel = "scw-mock.application-id"

    public var instance: String
    public var server: String

    /// The identity of this server on the store at `databasePath`.
    public static func current(databasePath: String) -> EngineIdentity {
        let absolute = databasePath == ":memory:" ? ":memory:\(getpid())" : URL(fileURLWithPath: databasePath).standardizedFileURL.path
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325  // FNV-1a, 64 bits
        for byte in absolute.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        return EngineIdentity(instance: String(hash, radix: 16), server: "\(machine())/\(getpid())")
    }

    /// Boot id and pid namespace: a pid means this process only on the same boot and in the same namespace.
    static func machine() -> String {
        let boot = (try? String(contentsOfFile: "/proc/sys/kernel/random/boot_id", encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines) ?? "unknown"
        let pidNamespace = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/ns/pid")) ?? "unknown"
        return "\(boot)/\(pidNamespace)"
    }

    /// Whether a container labelled `labels` was left by a run of this mock that is gone: the same store (a
    /// previous run), or a server of this machine whose process no longer exists. Never one of this server's own.
    func isLeftover(_ labels: [String: String]) -> Bool {
        guard let owner = labels[Self.instanceLabel], labels[Self.serverLabel] != server else { return false }
        if owner == instance { return true }
        guard let server = labels[Self.serverLabel], let slash = server.lastIndex(of: "/"), server[..<slash] == Self.machine(),
              let pid = Int32(server[server.index(after: slash)...]) else { return false }
        return pid != getpid() && kill(pid, 0) != 0 && errno == ESRCH
    }
}

/// Runs containers' images through a Docker-compatible engine (`EngineClient`), with the process supervisor's rules:
/// the image is pulled when missing; the container is created with the platform's environment, the instance's labels,
/// limits and rlimits, never privileged, with no host path mounted; it is ready once it answers on its port; its output
/// goes to the same log buffers; a ready container that exits is started again with back-off, and repeated exits end in
/// `failed`. Delete, redeploy, reset and shutdown remove its container; the start sweeps what a dead run left.
public actor EngineSupervisor {
    final class Instance: @unchecked Sendable {
        let engineID: String
        let port: Int
        let generation: Int
        let logs: LogBuffer
        var ready = false
        var stopping = false
        var exitCode: Int?
        var streams: [EngineCall] = []
        init(engineID: String, port: Int, generation: Int, logs: LogBuffer) {
            self.engineID = engineID
            self.port = port
            self.generation = generation
            self.logs = logs
        }
    }

    /// Scaleway's `error_message` when the image cannot be pulled; the engine's reason follows it.
    public static let imageNotFoundMessage = "Image was not found in container registry."

    private var current: [String: Instance] = [:] {
        didSet { readyPorts.withLock { $0 = current.compactMapValues { $0.ready ? $0.port : nil } } }
    }
    /// Containers created and not ready yet (removed by stop and shutdown as well).
    private var starting: [String: Instance] = [:]
    /// Host ports of launches in progress.
    private var ports = PortReservations()
    private nonisolated let readyPorts = Mutex<[String: Int]>([:])
    /// When each container was last called (scale to zero), written without entering the actor.
    private nonisolated let activity = Mutex<[String: ContinuousClock.Instant]>([:])
    private var scaledDown: Set<String> = []
    private var reaper: Task<Void, Never>?
    private var specs: [String: EngineWorkload] = [:]
    private var logs: [String: LogBuffer] = [:]
    private var crashes: [String: [ContinuousClock.Instant]] = [:]
    private var failNext: Set<String> = []
    private var generation = 0
    private var stopped = false
    let client: EngineClient
    let identity: EngineIdentity
    let logger: Logger
    let now: @Sendable () -> String
    let onEvent: @Sendable (String, WorkloadEvent) async -> Void
    /// Seconds a container gets between SIGTERM and SIGKILL when it is removed (README: 2 s, as processes).
    static let graceSeconds = 2

    public init(client: EngineClient, identity: EngineIdentity, logger: Logger, now: @escaping @Sendable () -> String,
                onEvent: @escaping @Sendable (String, WorkloadEvent) async -> Void) {
        self.client = client
        self.identity = identity
        self.logger = logger
        self.now = now
        self.onEvent = onEvent
    }

    // MARK: what the coordinator asks

    /// Starts (or replaces) the container; the previous one keeps serving until the new one is ready.
    public func deploy(_ spec: EngineWorkload) {
        guard !stopped else { return }
        specs[spec.id] = spec
        crashes[spec.id] = []
        scaledDown.remove(spec.id)
        activity.withLock { $0[spec.id] = ContinuousClock.now }
        if spec.idleStopSeconds != nil && reaper == nil {
            reaper = Task {
                while !Task.isCancelled {
                    try? await Task.sleep(for: .milliseconds(250))
                    await self.reapIdle()
                }
            }
        }
        Task { await self.launch(spec) }
    }

    /// The published port of `id`'s ready container, recording the call, without entering the actor.
    public nonisolated func readyPort(_ id: String) -> Int? {
        guard let port = readyPorts.withLock({ $0[id] }) else { return nil }
        activity.withLock { $0[id] = ContinuousClock.now }
        return port
    }

    /// Records a call to `id` and returns its port when ready; starts it again first if it was scaled to zero.
    public func touchAndPort(_ id: String) -> Int? {
        activity.withLock { $0[id] = ContinuousClock.now }
        if scaledDown.remove(id) != nil, let spec = specs[id], !stopped {
            logs[id]?.note("cold start", time: now())
            Task { await self.launch(spec) }
        }
        return port(of: id)
    }

    /// Removes ready containers idle for longer than their workload allows (scale to zero).
    private func reapIdle() async {
        for (id, instance) in current {
            guard instance.ready, let limit = specs[id]?.idleStopSeconds, let last = activity.withLock({ $0[id] }),
                  ContinuousClock.now - last > .milliseconds(Int(limit * 1000)) else { continue }
            current[id] = nil
            scaledDown.insert(id)
            instance.logs.note("scaled to zero after \(limit)s without calls", time: now())
            await remove(instance)
        }
    }

    /// The port of `id`'s ready container.
    public func port(of id: String) -> Int? { current[id].flatMap { $0.ready ? $0.port : nil } }

    /// Whether `id` has a container being started or running.
    public func isManaged(_ id: String) -> Bool { specs[id] != nil }

    /// The environment the container was last deployed with (without `PORT`; nil: not managed), for the console.
    public func environment(of id: String) -> [String: String]? { specs[id]?.environment }

    /// Whether the engine holds the output of `id` (it runs here, or ran here lately).
    public func hasLogs(_ id: String) -> Bool { logs[id] != nil }

    /// The captured output of `id`.
    public func logLines(of id: String) -> (lines: [LogLine], dropped: Int)? { logs[id]?.snapshot() }

    /// Adds a line of the mock's own to `id`'s log.
    public func note(_ id: String, _ text: String) {
        let buffer = logs[id] ?? LogBuffer()
        logs[id] = buffer
        buffer.note(text, time: now())
    }

    /// Makes the next deploy of `id` fail.
    public func failNextDeploy(of id: String) { failNext.insert(id) }

    /// Kills `id`'s container as a crash would (SIGKILL); the restart policy applies. False when nothing runs.
    public func crash(_ id: String) async -> Bool {
        guard let instance = current[id], instance.exitCode == nil else { return false }
        instance.logs.note("crash injected by /_mock", time: now())
        _ = try? await client.call(.POST, "/containers/\(instance.engineID)/kill?signal=KILL")
        return true
    }

    /// Removes `id`'s container. Its logs stay readable for a while (the last 100 stopped).
    public func stop(_ id: String) async {
        specs[id] = nil
        crashes[id] = nil
        scaledDown.remove(id)
        activity.withLock { $0[id] = nil }
        retire(id)
        let instances = [current.removeValue(forKey: id), starting.removeValue(forKey: id)].compactMap { $0 }
        for instance in instances { await remove(instance) }
    }

    /// Stopped containers, oldest first, whose logs are still kept.
    private var retired: [String] = []

    private func retire(_ id: String) {
        retired.append(id)
        while retired.count > 100 {
            let old = retired.removeFirst()
            if specs[old] == nil && current[old] == nil { logs[old] = nil }
        }
    }

    /// Removes every container (shutdown: nothing starts afterwards).
    public func stopAll() async {
        stopped = true
        reaper?.cancel()
        await stopEveryWorkload()
    }

    /// Removes every container but stays usable (reset).
    public func stopEveryWorkload() async {
        for id in specs.keys { retire(id) }
        scaledDown.removeAll()
        let all = Array(current.values) + Array(starting.values)
        current.removeAll()
        starting.removeAll()
        specs.removeAll()
        crashes.removeAll()
        await withTaskGroup(of: Void.self) { group in
            for instance in all { group.addTask { await self.remove(instance) } }
        }
    }

    /// Removes the containers a dead run of the mock left (see `EngineIdentity.isLeftover`), except those this run
    /// manages.
    public func sweepLeftovers() async {
        struct Summary: Decodable {
            var Id: String
            var Labels: [String: String]?
        }
        let filters = EngineClient.encode(#"{"label":["\#(EngineIdentity.instanceLabel)"]}"#, query: true)
        guard let listed = try? await client.json(.GET, "/containers/json?all=true&filters=\(filters)", body: nil as String?, as: [Summary].self)
        else { return }
        let mine = Set((Array(current.values) + Array(starting.values)).map(\.engineID))
        let leftovers = listed.filter { !mine.contains($0.Id) && identity.isLeftover($0.Labels ?? [:]) }
        for container in leftovers {
            logger.info("removing a container left by an earlier run", metadata: ["engine_id": "\(container.Id.prefix(12))"])
            _ = try? await client.call(.DELETE, "/containers/\(container.Id)?force=true&v=true")
        }
    }

    // MARK: a launch

    private func launch(_ spec: EngineWorkload) async {
        let buffer = logs[spec.id] ?? LogBuffer()
        logs[spec.id] = buffer
        if failNext.remove(spec.id) != nil {
            buffer.note("deploy failure injected by /_mock", time: now())
            specs[spec.id] = nil
            await onEvent(spec.id, .failed("deploy failed (injected by /_mock)"))
            return
        }
        generation += 1
        let gen = generation
        let instance: Instance
        do throws(EngineError) {
            try await ensureImage(spec.image, logs: buffer)
            guard specs[spec.id] == spec, !stopped else { return }
            instance = try await create(spec, generation: gen, logs: buffer)
        } catch {
            buffer.note(error.message, time: now())
            if specs[spec.id] == spec {
                specs[spec.id] = nil
                await onEvent(spec.id, .failed(error.message))
            }
            return
        }
        // Until this launch ends (ready, failed or stopped), no other launch gets the host port.
        defer { ports.release(instance.port) }
        let deadline = ContinuousClock.now + .milliseconds(Int(spec.readyTimeoutSeconds * 1000))
        var ready = false
        while true {
            // Checked after every wait, the last probe included: a stop or a newer deploy that came meanwhile ends the
            // container instead of letting it be published.
            if specs[spec.id] != spec || stopped {
                if starting[spec.id] === instance { starting[spec.id] = nil }
                await remove(instance)
                return
            }
            if ready { break }
            if let code = instance.exitCode {
                // The log stream ends right after the exit: wait a moment for its last lines.
                for _ in 0..<25 where !(instance.streams.first?.hasEnded ?? true) { try? await Task.sleep(for: .milliseconds(20)) }
                let message = "container exited with code \(code) before listening on PORT \(spec.declaredPort)" + lastLines(instance.logs)
                buffer.note(message, time: now())
                if starting[spec.id] === instance { starting[spec.id] = nil }
                await remove(instance)
                if specs[spec.id] == spec {
                    specs[spec.id] = nil
                    await onEvent(spec.id, .failed(message))
                }
                return
            }
            ready = await isReady(instance, spec: spec)
            if ready { continue }
            if ContinuousClock.now >= deadline {
                let message = spec.httpProbePath.map {
                    "did not answer HTTP requests on PORT \(spec.declaredPort) and path \($0) within \(Int(spec.readyTimeoutSeconds))s"
                } ?? "did not listen on PORT \(spec.declaredPort) within \(Int(spec.readyTimeoutSeconds))s"
                buffer.note(message, time: now())
                if starting[spec.id] === instance { starting[spec.id] = nil }
                await remove(instance)
                if specs[spec.id] == spec {
                    specs[spec.id] = nil
                    await onEvent(spec.id, .failed(message))
                }
                return
            }
            try? await Task.sleep(for: .milliseconds(25))
        }
        if starting[spec.id] === instance { starting[spec.id] = nil }
        instance.ready = true
        let previous = current[spec.id]
        current[spec.id] = instance
        buffer.note("ready on port \(instance.port)", time: now())
        await onEvent(spec.id, .ready(port: instance.port))
        if let previous { Task { await self.remove(previous) } }
    }

    /// Readiness on the published port, by the process runtime's rules: the HTTP probe's path answers below 400;
    /// without one, the port accepts connections. A port the engine publishes through a proxy (Docker's) accepts before
    /// the program listens, so there the TCP probe waits for an HTTP answer of any status.
    private func isReady(_ instance: Instance, spec: EngineWorkload) async -> Bool {
        if let path = spec.httpProbePath { return await ProcessSupervisor.probe(port: instance.port, path: path) }
        let status = await LoopbackClient.status(port: instance.port, method: "GET", path: "/", headers: [("User-Agent", "scw-mock-probe")],
                                                 timeout: .seconds(1))
        return status != nil
    }

    /// The last lines of output, for an error message.
    private func lastLines(_ buffer: LogBuffer) -> String {
        let lines = buffer.snapshot().lines.filter { $0.stream != "mock" }.suffix(5).map(\.line)
        return lines.isEmpty ? "" : ": " + lines.joined(separator: "\n")
    }

    /// Pulls the image unless the engine has it; a failed pull reads as Scaleway's message plus the engine's.
    private func ensureImage(_ image: String, logs buffer: LogBuffer) async throws(EngineError) {
        let inspected = try await client.call(.GET, "/images/\(EngineClient.encode(image))/json")
        if inspected.status == 200 { return }
        guard inspected.status == 404 else {
            throw EngineError("\(Self.imageNotFoundMessage) \(inspected.errorMessage)")
        }
        buffer.note("pulling \(image)", time: now())
        let reference = Self.splitReference(image)
        var path = "/images/create?fromImage=\(EngineClient.encode(reference.name, query: true))"
        path += "&tag=\(EngineClient.encode(reference.tag, query: true))"
        let pulled = try await client.call(.POST, path, timeout: .seconds(600))
        // The answer is a stream of JSON objects; a failure is either the status or an `error` object in it.
        struct Progress: Decodable { var error: String? }
        let failure: String? = pulled.status >= 400 ? pulled.errorMessage
            : pulled.text.split(separator: "\n").lazy.compactMap { try? JSONDecoder().decode(Progress.self, from: Data($0.utf8)).error }.first
        if let failure { throw EngineError("\(Self.imageNotFoundMessage) \(failure)") }
        buffer.note("pulled \(image)", time: now())
    }

    /// `name` and `tag` (or `@digest`) of an image reference; a reference without either means `latest` (a pull without
    /// a tag would fetch every tag).
    static func splitReference(_ image: String) -> (name: String, tag: String) {
        if let at = image.firstIndex(of: "@") { return (String(image[..<at]), String(image[image.index(after: at)...])) }
        let lastSlash = image.lastIndex(of: "/") ?? image.startIndex
        if let colon = image[lastSlash...].lastIndex(of: ":") {
            return (String(image[..<colon]), String(image[image.index(after: colon)...]))
        }
        return (image, "latest")
    }

    /// The Engine API's container configuration (the fields used; Docker's names).
    struct CreateBody: Encodable {
        struct Empty: Encodable {}
        struct PortBinding: Encodable {
            var HostIp: String
            var HostPort: String
        }
        struct Ulimit: Encodable {
            var Name: String
            var Soft: Int
            var Hard: Int
        }
        struct Host: Encodable {
            var PortBindings: [String: [PortBinding]]
            var Memory: Int64?
            var NanoCpus: Int64?
            var Ulimits: [Ulimit]
            var NetworkMode: String
            var Privileged: Bool
            var ReadonlyRootfs: Bool
            var Binds: [String]
        }
        var Image: String
        var Env: [String]
        var Labels: [String: String]
        var Entrypoint: [String]?
        var Cmd: [String]?
        var ExposedPorts: [String: Empty]
        var HostConfig: Host
    }

    /// Creates and starts the container, and follows its output and its exit.
    private func create(_ spec: EngineWorkload, generation gen: Int, logs buffer: LogBuffer) async throws(EngineError) -> Instance {
        let port: Int
        do {
            guard let free = try ports.reserve(from: ProcessSupervisor.freePort) else { throw EngineError("cannot find a free port") }
            port = free
        } catch { throw EngineError("cannot find a free port") }
        var handedOver = false
        defer { if !handedOver { ports.release(port) } }
        var environment = spec.environment
        environment["PORT"] = String(spec.declaredPort)
        let exposed = "\(spec.declaredPort)/tcp"
        var labels = spec.labels
        labels[EngineIdentity.instanceLabel] = identity.instance
        labels[EngineIdentity.serverLabel] = identity.server
        // Never privileged, no host path, no capability added: the image and everything in it come from API callers.
        // nofile/nproc at 1024 as Scaleway's sandbox, and because rootless and nested engines refuse larger defaults.
        let body = CreateBody(
            Image: spec.image, Env: environment.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }, Labels: labels,
            Entrypoint: spec.entrypoint, Cmd: spec.cmd, ExposedPorts: [exposed: .init()],
            HostConfig: .init(
                PortBindings: [exposed: [.init(HostIp: "127.0.0.1", HostPort: String(port))]],
                Memory: spec.memoryBytes > 0 ? spec.memoryBytes : nil, NanoCpus: spec.nanoCPUs > 0 ? spec.nanoCPUs : nil,
                Ulimits: [.init(Name: "nofile", Soft: 1024, Hard: 1024), .init(Name: "nproc", Soft: 1024, Hard: 1024)],
                NetworkMode: "bridge", Privileged: false, ReadonlyRootfs: false, Binds: []))
        struct Created: Decodable { var Id: String }
        let name = "scw-mock-\(spec.id.prefix(8))-\(UUID().uuidString.prefix(8).lowercased())"
        let created = try await client.json(.POST, "/containers/create?name=\(name)", body: body, as: Created.self)
        let instance = Instance(engineID: created.Id, port: port, generation: gen, logs: buffer)
        starting[spec.id] = instance
        buffer.note("created container \(created.Id.prefix(12)) from \(spec.image)", time: now())
        let started = try await client.call(.POST, "/containers/\(created.Id)/start")
        guard started.status < 400 else {
            starting[spec.id] = nil
            await remove(instance)
            throw EngineError("the engine could not start the container: \(started.errorMessage)")
        }
        buffer.note("started container \(created.Id.prefix(12)) on port \(port)", time: now())
        let clock = now
        let demux = LogDemultiplexer()
        if let follow = try? await client.open(.GET, "/containers/\(created.Id)/logs?follow=true&stdout=true&stderr=true", timeout: nil, onBody: {
            buffer in
            for frame in demux.feed(buffer.readableBytesView) {
                frame.payload.withUnsafeBytes { instance.logs.append($0, stream: frame.stream, time: clock()) }
            }
        }) {
            instance.streams.append(follow)
        }
        let id = spec.id
        Task { [client] in
            struct Waited: Decodable { var StatusCode: Int }
            let code = (try? await client.json(.POST, "/containers/\(created.Id)/wait", body: nil as String?, as: Waited.self,
                                               timeout: .hours(24 * 365)))?.StatusCode
            await self.exited(id, instance: instance, code: code ?? -1)
        }
        handedOver = true
        return instance
    }

    /// Called when a container stops on its own (or the wait ended).
    private func exited(_ id: String, instance: Instance, code: Int) async {
        instance.exitCode = code
        guard current[id] === instance, !instance.stopping, let spec = specs[id], !stopped else { return }
        current[id] = nil
        for _ in 0..<25 where !(instance.streams.first?.hasEnded ?? true) { try? await Task.sleep(for: .milliseconds(20)) }
        let recent = (crashes[id] ?? []).filter { ContinuousClock.now - $0 < .seconds(60) } + [ContinuousClock.now]
        crashes[id] = recent
        instance.logs.note("container exited with code \(code)", time: now())
        await remove(instance)
        if recent.count > 3 {
            await onEvent(id, .failed("crashed \(recent.count) times within 60s; last exit code \(code)" + lastLines(instance.logs)))
            specs[id] = nil
            return
        }
        let backoff = 250 * (1 << (recent.count - 1))
        instance.logs.note("restarting in \(backoff) ms", time: now())
        try? await Task.sleep(for: .milliseconds(backoff))
        if specs[id] == spec { await launch(spec) }
    }

    /// Stops a container (SIGTERM, SIGKILL after the grace period) and removes it.
    private func remove(_ instance: Instance) async {
        guard !instance.stopping else { return }
        instance.stopping = true
        if instance.exitCode == nil {
            _ = try? await client.call(.POST, "/containers/\(instance.engineID)/stop?t=\(Self.graceSeconds)",
                                       timeout: .seconds(Int64(Self.graceSeconds) + 10))
        }
        for stream in instance.streams { stream.cancel() }
        let removed = try? await client.call(.DELETE, "/containers/\(instance.engineID)?force=true&v=true")
        if let removed, removed.status >= 400, removed.status != 404 {
            logger.warning("the engine did not remove a container", metadata: ["engine_id": "\(instance.engineID.prefix(12))",
                                                                               "reason": "\(removed.errorMessage)"])
        }
        instance.logs.note("removed container \(instance.engineID.prefix(12))", time: now())
    }
}
