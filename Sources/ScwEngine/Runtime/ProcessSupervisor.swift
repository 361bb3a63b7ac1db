import Foundation
import Logging
import Subprocess
import Synchronization

/// What to run for one container or function.
public struct WorkloadSpec: Sendable, Equatable {
    /// The container or function id.
    public var id: String
    /// Program and arguments, run without a shell (literal argv).
    public var command: [String]
    /// The complete environment (the supervisor adds `PORT` and its marker).
    public var environment: [String: String]
    public var workingDirectory: String?
    /// Seconds to wait for the process to accept connections on `PORT`.
    public var readyTimeoutSeconds: Double
    /// An HTTP path that must answer below 400 (the container's HTTP probe); nil = TCP connect only.
    public var httpProbePath: String?
    /// Stop the process after this many idle seconds; the next call starts it again (`min_scale: 0` with `--scale-to-zero`).
    public var idleStopSeconds: Double?

    /// Creates a spec.
    public init(id: String, command: [String], environment: [String: String], workingDirectory: String?, readyTimeoutSeconds: Double,
                httpProbePath: String? = nil) {
        self.id = id
        self.command = command
        self.environment = environment
        self.workingDirectory = workingDirectory
        self.readyTimeoutSeconds = readyTimeoutSeconds
        self.httpProbePath = httpProbePath
        self.idleStopSeconds = nil
    }
}

/// What the supervisor reports about a workload.
public enum WorkloadEvent: Sendable, Equatable {
    case ready(port: Int)
    case failed(String)
}

/// Launches and supervises local processes: each gets a free port in `PORT`, its own process group, a parent-death
/// signal (through `run-child`, or `setpriv --pdeathsig KILL`) so that it cannot outlive the mock even after a
/// SIGKILL, and a marker variable used to sweep double-forked descendants. Processes are started with swift-subprocess
/// (`ChildProcess`): their output is read as async streams and their exits awaited, with no thread per process.
/// Ready = accepts TCP connections on its port (checked on SwiftNIO's event loops, the `/proc` ownership check off the
/// cooperative pool). A ready process that crashes is restarted with back-off; repeated crashes end in `failed`.
public actor ProcessSupervisor {
    final class Instance: @unchecked Sendable {
        let child: ChildProcess
        let port: Int
        let marker: String
        let logs: LogBuffer
        let generation: Int
        var ready = false
        var stopping = false
        init(child: ChildProcess, port: Int, marker: String, logs: LogBuffer, generation: Int) {
            self.child = child
            self.port = port
            self.marker = marker
            self.logs = logs
            self.generation = generation
        }
    }

    private var current: [String: Instance] = [:] {
        didSet { readyPorts.withLock { $0 = current.compactMapValues { $0.ready ? $0.port : nil } } }
    }
    /// The ports of ready processes, readable without entering the actor (the gateway's fast path).
    private nonisolated let readyPorts = Mutex<[String: Int]>([:])
    /// When each workload was last called (scale to zero), written without entering the actor.
    private nonisolated let activity = Mutex<[String: ContinuousClock.Instant]>([:])
    private var specs: [String: WorkloadSpec] = [:]
    private var logs: [String: LogBuffer] = [:]
    private var generation = 0
    private var crashes: [String: [ContinuousClock.Instant]] = [:]
    private var stopped = false
    private var scaledDown: Set<String> = []
    private var failNextDeploy: Set<String> = []
    private var reaper: Task<Void, Never>?
    let logger: Logger
    let graceSeconds: Double
    let onEvent: @Sendable (String, WorkloadEvent) async -> Void
    let now: @Sendable () -> String

    /// The environment variable that marks every process the mock starts (swept at stop).
    public static let markerVariable = "SCW_MOCK_RUN_ID"

    /// A file where every process's marker is recorded, so that the next start can remove descendants that survived
    /// a SIGKILL of the mock (a double-forked daemon escapes the parent-death signal).
    let markerFile: String?

    /// The watchdog (`scw-mock watchdog`): a separate process told every marker through a pipe. When the mock dies,
    /// however it dies (SIGKILL included), the pipe closes and the watchdog kills every process carrying one of those
    /// markers: double-forked daemons escape the parent-death signal, but not the watchdog. Nil = no watchdog (library
    /// use and tests); the marker file then still lets the next start sweep them.
    let watchdogCommand: [String]?
    /// What every process runs under (`scw-mock run-child --`, see there); nil = `setpriv --pdeathsig KILL --`.
    /// A launcher owns the tree below it (it is its child subreaper): it is told to stop with SIGTERM, alone, and given
    /// `launcherGraceSeconds` plus `launcherMarginSeconds` to stop every descendant before anything is SIGKILLed.
    let launcherCommand: [String]?
    /// Seconds a launcher gives its descendants between SIGTERM and SIGKILL (README: SIGKILL after 2 s).
    public static let launcherGraceSeconds = 2.0
    /// How much longer than its grace period the server and the watchdog wait for a launcher before they SIGKILL it:
    /// a launcher killed first would leave the descendants that cleared their environment (no marker) to init.
    public static let launcherMarginSeconds = 1.5
    /// The watchdog process (nil while it is being started) and the write end of its pipe.
    private var watchdog: (process: ChildProcess?, writer: Int32)?
    /// Markers this supervisor issued and has not swept yet (kept in the marker file by `sweepLeftovers`).
    private var issuedMarkers: Set<String> = []
    /// Where a process's port comes from (`freePort` unless the creator gives another).
    let freePorts: @Sendable () throws -> Int
    /// Ports of launches in progress.
    private var ports = PortReservations()

    /// Creates a supervisor; `onEvent` receives ready/failed reports.
    public init(logger: Logger, graceSeconds: Double = 2, markerFile: String? = nil, watchdogCommand: [String]? = nil,
                launcherCommand: [String]? = nil, freePorts: (@Sendable () throws -> Int)? = nil,
                now: @escaping @Sendable () -> String, onEvent: @escaping @Sendable (String, WorkloadEvent) async -> Void) {
        self.freePorts = freePorts ?? { try ProcessSupervisor.freePort() }
        self.markerFile = markerFile
        self.watchdogCommand = watchdogCommand
        self.launcherCommand = launcherCommand
        self.logger = logger
        self.graceSeconds = graceSeconds
        self.now = now
        self.onEvent = onEvent
    }

    /// Starts (or replaces) the workload; the previous process keeps serving until the new one is ready.
    public func deploy(_ spec: WorkloadSpec) {
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

    /// Records a call to `id` and returns its port when ready (one actor hop on the gateway's hot path); starts it
    /// again first if it was scaled to zero.
    public func touchAndPort(_ id: String) -> Int? {
        touch(id)
        return port(of: id)
    }

    /// The port of `id`'s ready process, recording the call, without entering the actor; nil when it is not ready
    /// (starting, or scaled to zero: then `touchAndPort` starts it).
    public nonisolated func readyPort(_ id: String) -> Int? {
        guard let port = readyPorts.withLock({ $0[id] }) else { return nil }
        activity.withLock { $0[id] = ContinuousClock.now }
        return port
    }

    /// Records a call to `id` and starts it again if it was scaled to zero (a cold start).
    public func touch(_ id: String) {
        activity.withLock { $0[id] = ContinuousClock.now }
        guard scaledDown.remove(id) != nil, let spec = specs[id], !stopped else { return }
        logs[id]?.note("cold start", time: now())
        Task { await self.launch(spec) }
    }

    /// Stops ready processes idle for longer than their spec allows (scale to zero).
    private func reapIdle() async {
        for (id, instance) in current {
            guard instance.ready, let limit = specs[id]?.idleStopSeconds, let last = activity.withLock({ $0[id] }),
                  ContinuousClock.now - last > .milliseconds(Int(limit * 1000)) else { continue }
            current[id] = nil
            scaledDown.insert(id)
            instance.logs.note("scaled to zero after \(limit)s without calls", time: now())
            await terminate(instance)
        }
    }

    /// The port of the ready process of `id`.
    public func port(of id: String) -> Int? {
        guard let instance = current[id], instance.ready else { return nil }
        return instance.port
    }

    /// Whether `id` has a process being started or running (or scaled to zero).
    public func isManaged(_ id: String) -> Bool { specs[id] != nil }

    /// The environment the workload was last deployed with (nil: not managed), for the console.
    public func environment(of id: String) -> [String: String]? { specs[id]?.environment }

    /// The captured output of `id`.
    public func logLines(of id: String) -> (lines: [LogLine], dropped: Int)? { logs[id]?.snapshot() }

    /// Makes the next deploy of `id` fail (`POST /_mock/{containers|functions}/{id}/fail-next-deploy`).
    public func failNextDeploy(of id: String) { failNextDeploy.insert(id) }

    /// Kills the running process of `id` as a crash would (SIGKILL); the usual restart policy applies.
    /// Returns false when nothing runs. Under a launcher the program (the launcher's children) is killed, not the
    /// launcher: the launcher then removes what the program left and exits as it did.
    public func crash(_ id: String) async -> Bool {
        guard let instance = current[id], instance.child.isRunning else { return false }
        instance.logs.note("crash injected by /_mock", time: now())
        let pid = instance.child.pid
        let children = launcherCommand == nil ? [] : await offload { Self.processTable().filter { $0.parent == pid }.map(\.pid) }
        if children.isEmpty {
            kill(pid, SIGKILL)
        } else {
            for child in children { kill(child, SIGKILL) }
        }
        return true
    }

    /// Adds a line of the mock's own to a workload's log (cron runs).
    public func note(_ id: String, _ text: String) {
        let buffer = logs[id] ?? LogBuffer()
        logs[id] = buffer
        buffer.note(text, time: now())
    }

    /// Stops the workload and everything it started. Its logs stay readable for a while (the last 100 stopped).
    public func stop(_ id: String) async {
        specs[id] = nil
        scaledDown.remove(id)
        retire(id)
        if let instance = current.removeValue(forKey: id) { await terminate(instance) }
    }

    /// Stopped workloads, oldest first, whose logs are still kept.
    private var retired: [String] = []

    private func retire(_ id: String) {
        crashes[id] = nil
        activity.withLock { $0[id] = nil }
        retired.append(id)
        while retired.count > 100 {
            let old = retired.removeFirst()
            if specs[old] == nil && current[old] == nil { logs[old] = nil }
        }
    }

    /// Stops every workload (server shutdown: nothing starts afterwards).
    public func stopAll() async {
        stopped = true
        reaper?.cancel()
        await stopEveryWorkload()
    }

    /// Stops every workload but keeps the supervisor usable (`POST /_mock/reset`).
    public func stopEveryWorkload() async {
        scaledDown.removeAll()
        for id in specs.keys { retire(id) }
        let all = Array(current.values)
        current.removeAll()
        specs.removeAll()
        await withTaskGroup(of: Void.self) { group in
            for instance in all { group.addTask { await self.terminate(instance) } }
        }
    }

    private func launch(_ spec: WorkloadSpec) async {
        if failNextDeploy.remove(spec.id) != nil {
            let buffer = logs[spec.id] ?? LogBuffer()
            logs[spec.id] = buffer
            buffer.note("deploy failure injected by /_mock", time: now())
            specs[spec.id] = nil
            await onEvent(spec.id, .failed("deploy failed (injected by /_mock)"))
            return
        }
        generation += 1
        let gen = generation
        let buffer = logs[spec.id] ?? LogBuffer()
        logs[spec.id] = buffer
        let instance: Instance
        do {
            instance = try await start(spec, generation: gen, logs: buffer)
        } catch let error as LaunchError {
            buffer.note("launch failed: \(error.message)", time: now())
            specs[spec.id] = nil
            await onEvent(spec.id, .failed(error.message))
            return
        } catch {
            await onEvent(spec.id, .failed("launch failed: \(error)"))
            return
        }
        // Until this launch ends (ready, failed or stopped), no other launch gets the port.
        defer { ports.release(instance.port) }
        buffer.note("started pid \(instance.child.pid) on port \(instance.port)", time: now())
        let deadline = ContinuousClock.now + .milliseconds(Int(spec.readyTimeoutSeconds * 1000))
        var ready = false
        while true {
            // Checked after every wait, the last probe included: a stop (DELETE) or a newer deploy that came meanwhile
            // did not see this process, which is not in `current` yet, so it is ended here rather than published.
            if specs[spec.id] != spec || stopped {
                await terminate(instance)
                return
            }
            if ready { break }
            if let code = instance.child.terminationStatus {
                // The status is set once the output has been read to its end: the message quotes its last lines.
                let detail = instance.logs.lastErrorLines(5).joined(separator: "\n")
                let message = "process exited with code \(code) before listening on PORT \(instance.port)"
                    + (detail.isEmpty ? "" : ": \(detail)")
                buffer.note(message, time: now())
                await sweep(marker: instance.marker)
                if specs[spec.id] == spec {
                    specs[spec.id] = nil
                    await onEvent(spec.id, .failed(message))
                }
                return
            }
            ready = await Self.isReady(port: instance.port, marker: instance.marker, httpProbePath: spec.httpProbePath)
            if ready { continue }
            if ContinuousClock.now >= deadline {
                let message = spec.httpProbePath.map { "did not answer HTTP requests on PORT \(instance.port) and path \($0) within \(Int(spec.readyTimeoutSeconds))s" }
                    ?? "did not listen on PORT \(instance.port) within \(Int(spec.readyTimeoutSeconds))s"
                buffer.note(message, time: now())
                await terminate(instance)
                if specs[spec.id] == spec {
                    specs[spec.id] = nil
                    await onEvent(spec.id, .failed(message))
                }
                return
            }
            try? await Task.sleep(for: .milliseconds(15))
        }
        instance.ready = true
        let previous = current[spec.id]
        current[spec.id] = instance
        buffer.note("ready on port \(instance.port)", time: now())
        await onEvent(spec.id, .ready(port: instance.port))
        if let previous { Task { await self.terminate(previous) } }
    }

    /// Called when a process exits on its own.
    private func exited(_ id: String, generation gen: Int) async {
        guard let instance = current[id], instance.generation == gen, !instance.stopping, let spec = specs[id], !stopped else { return }
        current[id] = nil
        let code = instance.child.terminationStatus ?? -1
        let recent = (crashes[id] ?? []).filter { ContinuousClock.now - $0 < .seconds(60) } + [ContinuousClock.now]
        crashes[id] = recent
        instance.logs.note("process exited with code \(code)", time: now())
        await sweep(marker: instance.marker)
        if recent.count > 3 {
            let detail = instance.logs.lastErrorLines(5).joined(separator: "\n")
            await onEvent(id, .failed("crashed \(recent.count) times within 60s; last exit code \(code)" + (detail.isEmpty ? "" : ": \(detail)")))
            specs[id] = nil
            return
        }
        let backoff = 250 * (1 << (recent.count - 1))
        instance.logs.note("restarting in \(backoff) ms", time: now())
        try? await Task.sleep(for: .milliseconds(backoff))
        if specs[id] == spec { await launch(spec) }
    }

    struct LaunchError: Error { var message: String }

    private func start(_ spec: WorkloadSpec, generation gen: Int, logs buffer: LogBuffer) async throws -> Instance {
        guard let program = spec.command.first else { throw LaunchError(message: "no command to run") }
        guard let executable = Self.resolve(program) else { throw LaunchError(message: "command not found: \(program)") }
        guard let port = try ports.reserve(from: freePorts) else { throw LaunchError(message: "cannot find a free port") }
        var started = false
        defer { if !started { ports.release(port) } }
        let marker = UUID().uuidString.lowercased()
        issuedMarkers.insert(marker)
        await tellWatchdog(marker)
        if let markerFile, let handle = FileHandle(forWritingAtPath: markerFile) ?? {
            _ = FileManager.default.createFile(atPath: markerFile, contents: nil)
            return FileHandle(forWritingAtPath: markerFile)
        }() {
            handle.seekToEndOfFile()
            handle.write(Data((marker + "\n").utf8))
            try? handle.close()
        }
        var environment = spec.environment
        environment["PORT"] = String(port)
        environment[Self.markerVariable] = marker
        // Linux refuses an environment over 2 MiB in total or with a string over 128 KiB (E2BIG).
        let sizes = environment.map { $0.key.utf8.count + $0.value.utf8.count + 2 }
        if sizes.reduce(0, +) > 2 * 1024 * 1024 || sizes.contains(where: { $0 > 128 * 1024 }) {
            throw LaunchError(message: "environment too large to exec (\(sizes.reduce(0, +)) bytes; Linux allows 2 MiB, 128 KiB per variable)")
        }
        let executablePath: String, arguments: [String]
        if let launcher = launcherCommand, let launcherPath = launcher.first {
            // swift-subprocess has no parent-death signal, no child subreaper and no pre-exec hook: `run-child` (and
            // its C shim) sets those up and starts the program itself, so the library launches `run-child`.
            executablePath = launcherPath
            arguments = launcher.dropFirst() + [executable] + spec.command.dropFirst()
        } else if FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv") {
            executablePath = "/usr/bin/setpriv"
            arguments = ["--pdeathsig", "KILL", "--", executable] + spec.command.dropFirst()
        } else {
            executablePath = executable
            arguments = Array(spec.command.dropFirst())
        }
        let id = spec.id
        let child: ChildProcess
        do {
            child = try await ChildProcess.start(
                executable: executablePath, arguments: arguments, environment: environment,
                workingDirectory: spec.workingDirectory, teardown: teardownSteps, logs: buffer, clock: now
            ) { [weak self] _ in
                await self?.exited(id, generation: gen)
            }
        } catch {
            throw LaunchError(message: "cannot start \(program): \(error)")
        }
        started = true
        return Instance(child: child, port: port, marker: marker, logs: buffer, generation: gen)
    }

    /// How a process is stopped. Under a launcher: SIGTERM to the launcher alone (it passes it on to every
    /// descendant, once, and SIGKILLs them after its grace period), which gets its grace period and a margin before it
    /// is SIGKILLed; otherwise SIGTERM to the whole group, SIGKILL to the group after the grace period.
    var teardownSteps: [TeardownStep] {
        let owned = launcherCommand != nil
        let wait = owned ? max(graceSeconds, Self.launcherGraceSeconds) + Self.launcherMarginSeconds : graceSeconds
        return [.send(signal: .terminate, toProcessGroup: !owned, allowedDurationToNextStep: .milliseconds(Int(wait * 1000)))]
    }

    /// Whether the process on `port` is ready: it accepts connections, the listener is the workload's own (not a
    /// program that took the port first), and the HTTP probe, if any, answers below 400.
    static func isReady(port: Int, marker: String, httpProbePath: String?) async -> Bool {
        guard await LoopbackClient.accepts(port: port) else { return false }
        guard await offload({ listenerIsOurs(port: port, marker: marker) }) else { return false }
        guard let path = httpProbePath else { return true }
        return await probe(port: port, path: path)
    }

    /// Runs the teardown sequence (`teardownSteps`), then SIGKILLs the stragglers left in the group and sweeps
    /// double-forked descendants.
    private func terminate(_ instance: Instance) async {
        instance.stopping = true
        let child = instance.child
        let pid = child.pid
        if child.isRunning {
            if child.requestTeardown(teardownSteps) {
                await child.waitForExit(timeout: .seconds(30))
            } else {
                // The process closed its output but still runs: no teardown can be served by its run, signal it here.
                let owned = launcherCommand != nil
                kill(owned ? pid : -pid, SIGTERM)
                let wait = owned ? max(graceSeconds, Self.launcherGraceSeconds) + Self.launcherMarginSeconds : graceSeconds
                if !(await child.waitForExit(timeout: .milliseconds(Int(wait * 1000)))) {
                    kill(-pid, SIGKILL)
                    kill(pid, SIGKILL)
                    await child.waitForExit(timeout: .seconds(5))
                }
            }
        }
        kill(-pid, SIGKILL)  // stragglers left in the group
        await sweep(marker: instance.marker)
        instance.logs.note("stopped", time: now())
    }

    /// Kills what is left of the processes a previous run of the mock started (after it was killed), then forgets them.
    /// Markers this supervisor issued are left alone (processes started in this run, e.g. by the seed, keep running)
    /// and stay in the file, so that a later start can still sweep them.
    /// Launchers still stopping their workload (the server was killed and the watchdog too) finish first.
    public func sweepLeftovers() async {
        guard let markerFile, let text = try? String(contentsOfFile: markerFile, encoding: .utf8) else { return }
        let leftovers = Set(text.split(separator: "\n").map(String.init).filter { !$0.isEmpty && !issuedMarkers.contains($0) })
        let launchers = await offload { Self.askLaunchersToStop(markers: leftovers) }
        let deadline = ContinuousClock.now + .milliseconds(Int((Self.launcherGraceSeconds + Self.launcherMarginSeconds) * 1000))
        while await offload({ launchers.contains(where: Self.isLive) }) && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        _ = await offload { Self.sweep(markers: leftovers) }
        let kept = issuedMarkers.sorted().map { $0 + "\n" }.joined()
        try? Data(kept.utf8).write(to: URL(fileURLWithPath: markerFile))
    }

    /// Kills every process whose environment carries `marker` (children that left the process group).
    private func sweep(marker: String) async {
        _ = await offload { Self.sweep(markers: [marker]) }
        issuedMarkers.remove(marker)
    }

    /// Kills every process whose environment carries one of `markers`; returns how many were killed.
    @discardableResult
    public static func sweep(markers: Set<String>) -> Int {
        pids(carrying: markers).filter { kill($0, SIGKILL) == 0 }.count
    }

    /// Sends SIGTERM to the roots of the trees of processes carrying one of `markers` (those whose parent carries
    /// none: the launchers, once the server that started them is gone) and returns them. A launcher then stops every
    /// descendant, those that cleared their environment included, which no marker sweep can find.
    public static func askLaunchersToStop(markers: Set<String>) -> [Int32] {
        let marked = Set(pids(carrying: markers))
        guard !marked.isEmpty else { return [] }
        let roots = processTable().filter { marked.contains($0.pid) && !marked.contains($0.parent) }.map(\.pid)
        for root in roots { kill(root, SIGTERM) }
        return roots
    }

    /// Whether `pid` is a running process (not gone, not a zombie).
    public static func isLive(_ pid: Int32) -> Bool {
        guard let stat = procStat(pid) else { return false }
        return stat.state != "Z" && stat.state != "X"
    }

    /// Every descendant of `pid` (children, their children…), zombies included, read from /proc.
    public static func descendants(of pid: Int32) -> [Int32] {
        var children: [Int32: [Int32]] = [:]
        for entry in processTable() { children[entry.parent, default: []].append(entry.pid) }
        var found: [Int32] = []
        var queue = children[pid] ?? []
        while let next = queue.popLast() {
            found.append(next)
            queue += children[next] ?? []
        }
        return found
    }

    /// Every process with its parent, from /proc/<pid>/stat.
    static func processTable() -> [(pid: Int32, parent: Int32)] {
        guard let dir = opendir("/proc") else { return [] }
        defer { closedir(dir) }
        var table: [(pid: Int32, parent: Int32)] = []
        while let entry = readdir(dir) {
            let name = withUnsafePointer(to: &entry.pointee.d_name) { String(cString: UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self)) }
            guard let pid = Int32(name), let stat = procStat(pid) else { continue }
            table.append((pid, stat.parent))
        }
        return table
    }

    /// State letter and parent of `pid` (the fields after the parenthesised command name, which may hold anything).
    static func procStat(_ pid: Int32) -> (state: Character, parent: Int32)? {
        let fd = open("/proc/\(pid)/stat", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 1024)
        let count = read(fd, &buffer, buffer.count)
        guard count > 0, let paren = buffer[0..<count].lastIndex(of: UInt8(ascii: ")")) else { return nil }
        let fields = buffer[(paren + 1)..<count].split(separator: UInt8(ascii: " "))
        guard fields.count >= 2, let state = fields[0].first, let parent = Int32(String(decoding: fields[1], as: UTF8.self)) else { return nil }
        return (Character(UnicodeScalar(state)), parent)
    }

    /// The processes (other than this one) whose environment carries one of `markers`.
    static func pids(carrying markers: Set<String>) -> [Int32] {
        guard !markers.isEmpty, let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [] }
        let prefix = Array("\(markerVariable)=".utf8)
        return entries.compactMap { entry in
            guard let pid = Int32(entry), pid != getpid(),
                  let environ = FileManager.default.contents(atPath: "/proc/\(entry)/environ") else { return nil }
            let carries = environ.split(separator: 0).contains { variable in
                variable.starts(with: prefix) && markers.contains(String(decoding: variable.dropFirst(prefix.count), as: UTF8.self))
            }
            return carries ? pid : nil
        }
    }

    /// Sends a new marker to the watchdog, starting it first (or again, if it died, with the markers still live).
    private func tellWatchdog(_ marker: String) async {
        guard let watchdogCommand, let program = watchdogCommand.first else { return }
        if let running = watchdog, let process = running.process, !process.isRunning {
            close(running.writer)
            watchdog = nil
        }
        guard watchdog == nil else { return sendToWatchdog(marker) }
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { return }
        // The write end stays in the mock only: no child may hold it, or the watchdog would never see it close.
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        signal(SIGPIPE, SIG_IGN)
        let writer = fds[1]
        // Markers written before the watchdog runs wait in the pipe.
        watchdog = (nil, writer)
        for instance in current.values { sendToWatchdog(instance.marker) }
        sendToWatchdog(marker)
        do {
            let process = try await ChildProcess.start(
                executable: program, arguments: Array(watchdogCommand.dropFirst()), environment: ProcessInfo.processInfo.environment,
                workingDirectory: nil, teardown: [], standardInput: fds[0], logs: LogBuffer(capacity: 100), clock: now) { _ in }
            if watchdog?.writer == writer { watchdog?.process = process }
        } catch {
            logger.warning("cannot start the process watchdog: \(error)")
            if watchdog?.writer == writer { watchdog = nil }
            close(writer)
        }
    }

    private func sendToWatchdog(_ marker: String) {
        guard let writer = watchdog?.writer else { return }
        let line = Array((marker + "\n").utf8)
        _ = line.withUnsafeBytes { write(writer, $0.baseAddress, $0.count) }
    }

    /// A free TCP port on loopback (bound then released; the process binds it right after).
    static func freePort() throws -> Int { try bindLoopback(port: 0) }

    /// Binds a TCP socket to `127.0.0.1:port` (0: any free port), releases it, and returns the port it had; throws when
    /// the port cannot be bound (taken).
    static func bindLoopback(port: Int) throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw LaunchError(message: "no socket available") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard bound == 0 else { throw LaunchError(message: port == 0 ? "cannot find a free port" : "port \(port) is taken") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// Whether the socket listening on `port` belongs to the workload (a process carrying `marker`), so that a program
    /// that took the port first is never sent calls (and tokens). True when /proc cannot tell.
    static func listenerIsOurs(port: Int, marker: String) -> Bool {
        var inodes: Set<String> = []
        let hexPort = String(format: "%04X", port)
        for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
            guard let text = try? String(contentsOfFile: table, encoding: .utf8) else { continue }
            for line in text.split(separator: "\n").dropFirst() {
                let fields = line.split(separator: " ")
                guard fields.count > 9, fields[3] == "0A", fields[1].hasSuffix(":" + hexPort) else { continue }
                inodes.insert("socket:[\(fields[9])]")
            }
        }
        guard !inodes.isEmpty else { return true }
        return pids(carrying: [marker]).contains { pid in
            let fds = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd")) ?? []
            return fds.contains { fd in
                (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/fd/\(fd)")).map(inodes.contains) ?? false
            }
        }
    }

    /// Whether `GET path` on 127.0.0.1:`port` answers with a status below 400 within a second (the HTTP probe).
    static func probe(port: Int, path: String) async -> Bool {
        let status = await LoopbackClient.status(port: port, method: "GET", path: path, headers: [("User-Agent", "scw-mock-probe")],
                                                 timeout: .seconds(1))
        return status.map { $0 < 400 } ?? false
    }

    /// An executable path: as given when it contains `/`, else looked up in `PATH`.
    static func resolve(_ program: String) -> String? {
        if program.contains("/") { return FileManager.default.isExecutableFile(atPath: program) ? program : nil }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for dir in path.split(separator: ":") {
            let candidate = "\(dir)/\(program)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }
}
