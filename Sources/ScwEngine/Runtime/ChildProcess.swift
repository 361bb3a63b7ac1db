import Foundation
import Subprocess
import Synchronization

/// One process started with swift-subprocess: in a process group of its own, its stdout and stderr read as async
/// streams into a `LogBuffer` (no thread per process: the library multiplexes every pipe and every exit on one epoll
/// loop), its exit awaited, and its teardown sequence run when asked.
///
/// What swift-subprocess cannot express stays outside it: it has no parent-death signal (`PR_SET_PDEATHSIG`), no
/// child subreaper and no hook between fork and exec. Those are `scw-mock run-child`'s job (the C shim), which is why
/// the supervisor launches `run-child -- PROGRAM…` rather than the program itself.
final class ChildProcess: Sendable {
    /// The process id (also its process group id).
    let pid: Int32

    private struct State {
        /// The wait status as Foundation's `Process.terminationStatus` reported it: the exit code, or the number of
        /// the signal that killed it.
        var status: Int32?
        var exitWaiters: [Int: CheckedContinuation<Bool, Never>] = [:]
        var nextWaiter = 0
        var teardown: Teardown = .idle
    }

    /// The body of the run waits for a teardown request while it reads the output; once the output has ended, no
    /// request can be served there any more (`closed`) and the caller signals the process itself.
    private enum Teardown {
        case idle
        case waiting(CheckedContinuation<[TeardownStep]?, Never>)
        case requested([TeardownStep])
        case closed
    }

    private let state = Mutex(State())

    private init(pid: Int32) { self.pid = pid }

    /// Starts `executable` with `arguments` (argv[0] is the executable's path) and exactly `environment`; returns once
    /// it runs. Its standard input is /dev/null, or `standardInput` (closed here once the process has it).
    /// `onExit` receives the exit code (or signal number) once the process is gone and its output read.
    static func start(executable: String, arguments: [String], environment: [String: String], workingDirectory: String?,
                      teardown: [TeardownStep], standardInput: Int32? = nil, logs: LogBuffer,
                      clock: @escaping @Sendable () -> String,
                      onExit: @escaping @Sendable (Int32) async -> Void) async throws -> ChildProcess {
        var options = PlatformOptions()
        options.processGroupID = 0  // a group of its own, led by the process: signals to -pid reach what it started
        options.teardownSequence = teardown
        let configuration = Configuration(
            executable: .path(.init(executable)),
            arguments: Arguments(arguments),
            // NUL-terminated entries: the library passes each one to strdup.
            environment: .custom(environment.map { Array("\($0.key)=\($0.value)\0".utf8) }),
            workingDirectory: workingDirectory.map { .init($0) },
            platformOptions: options)
        return try await withCheckedThrowingContinuation { (started: CheckedContinuation<ChildProcess, any Error>) in
            Task.detached {
                let launched = Mutex<ChildProcess?>(nil)
                let status: Int32
                do {
                    let terminationStatus: TerminationStatus
                    if let standardInput {
                        terminationStatus = try await Subprocess.run(
                            configuration, input: .fileDescriptor(.init(rawValue: standardInput), closeAfterSpawningProcess: true),
                            output: .sequence, error: .sequence
                        ) { execution in
                            let child = ChildProcess(pid: execution.processIdentifier.value)
                            launched.withLock { $0 = child }
                            started.resume(returning: child)
                            await child.supervise(execution, logs: logs, clock: clock)
                        }.terminationStatus
                    } else {
                        terminationStatus = try await Subprocess.run(configuration, input: .none, output: .sequence, error: .sequence) { execution in
                            let child = ChildProcess(pid: execution.processIdentifier.value)
                            launched.withLock { $0 = child }
                            started.resume(returning: child)
                            await child.supervise(execution, logs: logs, clock: clock)
                        }.terminationStatus
                    }
                    switch terminationStatus {
                    case .exited(let code): status = Int32(truncatingIfNeeded: code)
                    case .signaled(let signal): status = Int32(truncatingIfNeeded: signal)
                    }
                } catch {
                    guard let child = launched.withLock({ $0 }) else {
                        started.resume(throwing: error)
                        return
                    }
                    child.finish(status: -1)
                    await onExit(-1)
                    return
                }
                guard let child = launched.withLock({ $0 }) else { return }
                child.finish(status: status)
                await onExit(status)
            }
        }
    }

    /// Reads both output streams into `logs` until they end (end of file, or the process exited and the library
    /// stopped the reads: a descendant holding the pipes open cannot keep them going), serving a teardown request
    /// meanwhile.
    private func supervise<Input: InputProtocol>(_ execution: Execution<Input, SequenceOutput, SequenceOutput>, logs: LogBuffer,
                           clock: @escaping @Sendable () -> String) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                if let steps = await self.nextTeardownRequest() { await execution.teardown(using: steps) }
            }
            await withTaskExecutorPreference(Self.outputExecutor) {
                await withTaskGroup(of: Void.self) { readers in
                    readers.addTask { await Self.pump(execution.standardOutput, into: logs, stream: "stdout", clock: clock) }
                    readers.addTask { await Self.pump(execution.standardError, into: logs, stream: "stderr", clock: clock) }
                }
            }
            closeTeardown()
            await group.waitForAll()
        }
    }

    /// Where output is copied into the logs: one thread shared by every process, so that a process flooding its
    /// output takes that thread's share of the CPU, not the share of the event loops that serve the API.
    static let outputExecutor = SingleThreadExecutor(name: "scw-mock output")

    private static func pump(_ output: SubprocessOutputSequence, into logs: LogBuffer, stream: String,
                             clock: @escaping @Sendable () -> String) async {
        do {
            for try await chunk in output {
                chunk.withUnsafeBytes { logs.append($0, stream: stream, time: clock()) }
            }
        } catch {
            // The read was stopped (the process is gone): what was read is kept.
        }
    }

    private func nextTeardownRequest() async -> [TeardownStep]? {
        await withCheckedContinuation { continuation in
            let ready: [TeardownStep]?? = state.withLock { s in
                switch s.teardown {
                case .requested(let steps): return .some(steps)
                case .closed: return .some(nil)
                case .idle, .waiting:
                    s.teardown = .waiting(continuation)
                    return .none
                }
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }

    private func closeTeardown() {
        let waiting: CheckedContinuation<[TeardownStep]?, Never>? = state.withLock { s in
            switch s.teardown {
            case .waiting(let continuation):
                s.teardown = .closed
                return continuation
            case .idle:
                s.teardown = .closed
                return nil
            case .requested, .closed:
                return nil
            }
        }
        waiting?.resume(returning: nil)
    }

    /// Asks the running process to go through `steps` (the last one followed by SIGKILL, as swift-subprocess always
    /// ends a teardown); false when the output has already ended (the caller then signals the process itself) or a
    /// teardown was already asked for.
    func requestTeardown(_ steps: [TeardownStep]) -> Bool {
        let outcome: (Bool, CheckedContinuation<[TeardownStep]?, Never>?) = state.withLock { s in
            switch s.teardown {
            case .idle:
                s.teardown = .requested(steps)
                return (true, nil)
            case .waiting(let continuation):
                s.teardown = .requested(steps)
                return (true, continuation)
            case .requested, .closed:
                return (false, nil)
            }
        }
        outcome.1?.resume(returning: steps)
        return outcome.0
    }

    /// Whether the process has not been reaped yet.
    var isRunning: Bool { state.withLock { $0.status == nil } }

    /// The exit code, or the number of the signal that killed it; nil while it runs.
    var terminationStatus: Int32? { state.withLock { $0.status } }

    /// Waits until the process is gone and its output read, or `timeout` is over; true when it is gone.
    @discardableResult
    func waitForExit(timeout: Duration) async -> Bool {
        await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
            let token: Int? = state.withLock { s in
                guard s.status == nil else { return nil }
                s.nextWaiter += 1
                s.exitWaiters[s.nextWaiter] = continuation
                return s.nextWaiter
            }
            guard let token else { return continuation.resume(returning: true) }
            Task {
                try? await Task.sleep(for: timeout)
                self.state.withLock { $0.exitWaiters.removeValue(forKey: token) }?.resume(returning: false)
            }
        }
    }

    private func finish(status: Int32) {
        let waiters = state.withLock { s in
            s.status = status
            defer { s.exitWaiters = [:] }
            return s.exitWaiters
        }
        for waiter in waiters.values { waiter.resume(returning: true) }
    }
}

/// A task executor running every job on one thread of its own.
final class SingleThreadExecutor: TaskExecutor, @unchecked Sendable {
    private let condition = NSCondition()
    private var jobs: [UnownedJob] = []

    init(name: String) {
        let thread = Thread { [unowned self] in self.run() }
        thread.name = name
        thread.stackSize = 512 * 1024
        thread.start()
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        condition.lock()
        jobs.append(job)
        condition.signal()
        condition.unlock()
    }

    private func run() {
        while true {
            condition.lock()
            while jobs.isEmpty { condition.wait() }
            let batch = jobs
            jobs.removeAll(keepingCapacity: true)
            condition.unlock()
            for job in batch { job.runSynchronously(on: asUnownedTaskExecutor()) }
        }
    }
}
