import ArgumentParser
import CProcessShim
import Foundation
import Logging
import NIOCore
import NIOPosix
import ScwDomain
import ScwEngine
import ScwMockApp

/// `scw-mock`: a local stand-in for Scaleway's Serverless Containers and Functions APIs.
@main
struct ScwMock: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scw-mock",
        abstract: "A local, faithful stand-in for Scaleway's Serverless Containers and Functions APIs.",
        version: scwMockVersion,
        subcommands: [Serve.self, SeedCommand.self, Keys.self, TokenCommand.self, SampleApp.self, Watchdog.self, RunChild.self],
        defaultSubcommand: Serve.self)
}

/// `scw-mock serve`: runs the server. Each flag can also come from `SCW_MOCK_<NAME>`; the flag wins.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the mock server.")

    @Option(help: "Interface to bind (env SCW_MOCK_HOST). Default 127.0.0.1.")
    var host: String?
    @Option(help: "Port; 0 picks a free one and prints it (env SCW_MOCK_PORT). Default 7290.")
    var port: Int?
    @Option(help: "SQLite file, or :memory: (env SCW_MOCK_DATABASE). Default .scw-mock/state.sqlite.")
    var database: String?
    @Option(help: "Fixture file or folder; repeatable (env SCW_MOCK_SEED, paths separated by ':').")
    var seed: [String] = []
    @Option(help: "trace, debug, info, notice, warning, error or critical (env SCW_MOCK_LOG_LEVEL). Default info.")
    var logLevel: String?
    @Option(help: "Seconds a transient status lasts before it settles (env SCW_MOCK_TRANSITION_DELAY). Default 0.")
    var transitionDelay: Double?
    @Option(help: "RSA key size of namespace keys: 2048, 3072 or 4096 (env SCW_MOCK_KEY_SIZE). Default 4096, like Scaleway.")
    var keySize: Int?
    @Option(help: "Pre-generated keys kept ready for new namespaces (env SCW_MOCK_KEY_POOL). Default 3.")
    var keyPool: Int?
    @Option(help: "Write the base URL to this file once the server answers (env SCW_MOCK_READY_FILE).")
    var readyFile: String?
    // Operator side of the trust line: which engine runs the images API callers name is the operator's choice.
    @Option(help: "What runs deployed containers: process (local processes; also 'on'), container (their image, through the Docker or Podman engine of DOCKER_HOST), auto (the engine when one answers, else processes) or off (env SCW_MOCK_RUNTIME). Functions run as processes. Default process.")
    var runtime: String?
    @Option(help: "Who checks tokens of private containers: edge (the gateway) or container (the process) (env SCW_MOCK_PRIVATE_AUTH).")
    var privateAuth: String?
    @Option(help: "Seconds a process has to listen on PORT before its deploy ends in error (env SCW_MOCK_READY_TIMEOUT). Default 30.")
    var readyTimeout: Double?
    @Option(help: "Seconds a connection may stay idle, take to send a request, or leave a response unread before it is closed (env SCW_MOCK_IDLE_TIMEOUT). Default 60.")
    var idleTimeout: Double?
    @Option(help: "Suffix of generated endpoints instead of functions.fnc.<region>.scw.cloud, e.g. localtest.me (env SCW_MOCK_PUBLIC_DOMAIN).")
    var publicDomain: String?
    @Option(help: "Stop min_scale 0 containers and functions after this many idle seconds; the next call starts them again (env SCW_MOCK_SCALE_TO_ZERO).")
    var scaleToZero: Double?
    @Option(name: .customLong("allowed-host"), help: "A host name that may name this server in Host and Origin, besides loopback names, IP addresses and --host; repeatable; a leading dot allows subdomains (env SCW_MOCK_ALLOWED_HOSTS, comma-separated).")
    var allowedHosts: [String] = []
    @Option(help: "Require this value in X-Mock-Token on every /_mock route but health (env SCW_MOCK_CONTROL_TOKEN).")
    var controlToken: String?
    @Flag(help: "Let POST /_mock/seed carry command mappings, working_directory and file paths (code, key_file, token_file): anyone who can reach the port can then run commands and read or write files as this user (env SCW_MOCK_TRUST_POSTED_SEEDS=1).")
    var trustPostedSeeds = false
    @Option(help: "Multiply Scaleway's documented quotas (namespaces, containers, functions, domains); 0 turns them off (env SCW_MOCK_QUOTA_MULTIPLIER). Default 1.")
    var quotaMultiplier: Int?
    @Option(help: "Argon2id cost of secret hashes: scaleway (Scaleway's parameters) or fast (cheaper, still verifiable) (env SCW_MOCK_SECRET_HASH_COST). Default scaleway.")
    var secretHashCost: String?
    // The clock and id flags are operator settings (command line, trusted); /_mock/clock keeps the /_mock protections.
    @Option(help: "Start the mock's clock at this RFC 3339 instant, past included, e.g. 2024-01-01T00:00:00Z (env SCW_MOCK_CLOCK). Default: the system's time.")
    var clock: String?
    @Flag(help: "Keep the mock's clock still at its start until POST /_mock/clock moves it or unfreezes it (env SCW_MOCK_FREEZE_CLOCK=1).")
    var freezeClock = false
    @Flag(help: "Make ids, generated names, secret salts and request ids from counters, and give namespaces the built-in public development keys in turn, so the same client script gets the same answers (env SCW_MOCK_DETERMINISTIC_IDS=1).")
    var deterministicIds = false
    @Option(help: "Seed of --deterministic-ids (implies it): another seed, other ids, as reproducible (env SCW_MOCK_ID_SEED). Default 0.")
    var idSeed: UInt64?

    func run() async throws {
        let phases = StartPhases()
        // Swift Concurrency's jobs run on the server's NIO event loops instead of a separate thread pool: a request's
        // handler then runs on the thread that read it, with no hand-over between threads (on 2 cores, the hand-overs
        // cost more than the handlers). Blocking work (Argon2id, RSA, key generation) goes to Dispatch (`offload`).
        // NIO finds the runtime's hook with dlsym, so this takes effect only where the Swift runtime is a shared library
        // (`swift run`, the tests); the statically linked release build keeps the default pool (README, Benchmarks).
        if ProcessInfo.processInfo.environment["SCW_MOCK_NIO_EXECUTOR"] != "0" {
            NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
        }
        // Use every descriptor the system allows (the soft limit is often far below the hard one): each connection
        // and each running process needs some.
        var limits = rlimit()
        if getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limits) == 0 && limits.rlim_cur < limits.rlim_max {
            limits.rlim_cur = limits.rlim_max
            _ = setrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limits)
        }
        let env = ProcessInfo.processInfo.environment
        var config = MockConfiguration()
        config.host = host ?? env["SCW_MOCK_HOST"] ?? config.host
        if let raw = port.map(String.init) ?? env["SCW_MOCK_PORT"] {
            guard let value = Int(raw), (0...65535).contains(value) else { throw ValidationError("port must be 0-65535, got \(raw)") }
            config.port = value
        }
        config.databasePath = database ?? env["SCW_MOCK_DATABASE"] ?? config.databasePath
        config.seedPaths = !seed.isEmpty ? seed : (env["SCW_MOCK_SEED"].map { $0.split(separator: ":").map(String.init) } ?? [])
        if let raw = logLevel ?? env["SCW_MOCK_LOG_LEVEL"] {
            guard let level = Logger.Level(rawValue: raw) else { throw ValidationError("unknown log level \(raw)") }
            config.logLevel = level
        }
        if let raw = transitionDelay.map({ String($0) }) ?? env["SCW_MOCK_TRANSITION_DELAY"] {
            guard let value = Double(raw), value >= 0 else { throw ValidationError("transition delay must be >= 0 seconds") }
            config.transitionDelaySeconds = value
        }

        if let raw = keySize.map(String.init) ?? env["SCW_MOCK_KEY_SIZE"] {
            guard let bits = Int(raw), [2048, 3072, 4096].contains(bits) else { throw ValidationError("key size must be 2048, 3072 or 4096") }
            config.keyBits = bits
        }
        if let raw = keyPool.map(String.init) ?? env["SCW_MOCK_KEY_POOL"] {
            guard let size = Int(raw), (0...1000).contains(size) else { throw ValidationError("key pool must be 0-1000") }
            config.keyPoolSize = size
        }

        config.readyFile = readyFile ?? env["SCW_MOCK_READY_FILE"]
        if let raw = runtime ?? env["SCW_MOCK_RUNTIME"] {
            guard raw == "on" || raw == "off" || RuntimeMode(rawValue: raw) != nil else {
                throw ValidationError("runtime must be process, container, auto, on (= process) or off")
            }
            config.runtimeEnabled = raw != "off"
            config.runtimeMode = RuntimeMode(rawValue: raw) ?? .process
        }
        if let raw = privateAuth ?? env["SCW_MOCK_PRIVATE_AUTH"] {
            guard let mode = PrivateAuthMode(rawValue: raw) else { throw ValidationError("private auth must be edge or container") }
            config.privateAuth = mode
        }
        if let raw = publicDomain ?? env["SCW_MOCK_PUBLIC_DOMAIN"] {
            let labels = raw.split(separator: ".", omittingEmptySubsequences: false)
            guard !raw.isEmpty, labels.allSatisfy({ !$0.isEmpty && $0.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" } }) else {
                throw ValidationError("public domain must be a DNS name such as localtest.me")
            }
            config.publicDomain = raw.lowercased()
        }
        if let raw = scaleToZero.map({ String($0) }) ?? env["SCW_MOCK_SCALE_TO_ZERO"] {
            guard let value = Double(raw), value > 0 else { throw ValidationError("scale to zero must be > 0 seconds") }
            config.scaleToZeroSeconds = value
        }
        if let raw = idleTimeout.map({ String($0) }) ?? env["SCW_MOCK_IDLE_TIMEOUT"] {
            guard let value = Double(raw), value > 0 else { throw ValidationError("idle timeout must be > 0 seconds") }
            config.idleTimeoutSeconds = value
        }
        if let raw = readyTimeout.map({ String($0) }) ?? env["SCW_MOCK_READY_TIMEOUT"] {
            guard let value = Double(raw), value > 0 else { throw ValidationError("ready timeout must be > 0 seconds") }
            config.readyTimeoutSeconds = value
        }

        config.allowedHosts = !allowedHosts.isEmpty ? allowedHosts
            : (env["SCW_MOCK_ALLOWED_HOSTS"].map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty } } ?? [])
        for name in config.allowedHosts where name.isEmpty || name.contains(where: { $0 == "/" || $0 == ":" || $0.isWhitespace }) {
            throw ValidationError("allowed host must be a host name without scheme or port, got \(name)")
        }
        config.controlToken = controlToken ?? env["SCW_MOCK_CONTROL_TOKEN"]
        if config.controlToken?.isEmpty == true { throw ValidationError("control token must not be empty") }
        config.trustPostedSeeds = trustPostedSeeds || ["1", "true", "yes"].contains(env["SCW_MOCK_TRUST_POSTED_SEEDS"]?.lowercased() ?? "")
        if let raw = quotaMultiplier.map(String.init) ?? env["SCW_MOCK_QUOTA_MULTIPLIER"] {
            guard let value = Int(raw), (0...1_000_000).contains(value) else { throw ValidationError("quota multiplier must be 0-1000000") }
            config.quotaMultiplier = value
        }
        if let raw = secretHashCost ?? env["SCW_MOCK_SECRET_HASH_COST"] {
            guard let cost = SecretHashCost(rawValue: raw) else { throw ValidationError("secret hash cost must be scaleway or fast") }
            config.secretHashCost = cost
        }
        if let raw = clock ?? env["SCW_MOCK_CLOCK"] {
            guard let start = Timestamp.parseRFC3339(raw) else { throw ValidationError("clock must be an RFC 3339 instant such as 2024-01-01T00:00:00Z, got \(raw)") }
            config.clockStart = start
        }
        let yes = ["1", "true", "yes"]
        config.freezeClock = freezeClock || yes.contains(env["SCW_MOCK_FREEZE_CLOCK"]?.lowercased() ?? "")
        if let raw = idSeed.map(String.init) ?? env["SCW_MOCK_ID_SEED"] {
            guard let seed = UInt64(raw) else { throw ValidationError("id seed must be a whole number 0-\(UInt64.max), got \(raw)") }
            config.deterministicIDSeed = seed
        } else if deterministicIds || yes.contains(env["SCW_MOCK_DETERMINISTIC_IDS"]?.lowercased() ?? "") {
            config.deterministicIDSeed = 0
        }

        let level = config.logLevel
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "scw-mock")
        if let warning = config.exposureWarning { FileHandle.standardError.write(Data((warning + "\n").utf8)) }
        if let warning = config.deterministicKeysWarning { FileHandle.standardError.write(Data((warning + "\n").utf8)) }
        let host = config.host
        do {
            let app = try await buildApplication(config, logger: logger, onServerRunning: { port in
                FileHandle.standardOutput.write(Data((exportLine(host: host, port: port) + "\n").utf8))
                FileHandle.standardError.write(Data("scw-mock: console at \(consoleURL(host: host, port: port))\n".utf8))
            }, phases: phases)
            try await app.runService()
        } catch let error as SeedError {
            FileHandle.standardError.write(Data("scw-mock: the fixtures have problems:\n\(error.description)\n".utf8))
            throw ExitCode(2)
        }
    }
}

/// `scw-mock seed check PATH...`: validates fixtures without starting the server.
struct SeedCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "seed", abstract: "Work with fixture files.", subcommands: [Check.self])

    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Check fixture files or folders; print one line per problem (exit code 2).")

        @Argument(help: "Fixture files or folders.")
        var paths: [String]

        func run() async throws {
            do {
                let check = try await checkSeeds(paths: paths)
                Self.printWarnings(check.warnings)
                print("ok: \(check.files) fixture file(s)")
            } catch let error as SeedError {
                Self.printWarnings(error.warnings)
                FileHandle.standardError.write(Data((error.description + "\n").utf8))
                throw ExitCode(2)
            }
        }

        /// One `warning: file:line: field: message` line on stderr each; warnings are not problems (exit code unchanged).
        static func printWarnings(_ warnings: [SeedProblem]) {
            for warning in warnings { FileHandle.standardError.write(Data("warning: \(warning)\n".utf8)) }
        }
    }
}

/// `scw-mock sample-app`: the built-in workload (see the README): serves `$PORT`, echoes requests and its environment,
/// and validates tokens itself when `SCW_PUBLIC=false`.
struct SampleApp: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "sample-app", abstract: "Run the built-in sample workload on $PORT.")

    func run() async throws { try await runSampleApp() }
}

/// `scw-mock watchdog` (internal, started by `serve`): reads the markers of the processes the server starts, one per
/// line on stdin; when stdin closes (the server exited or was killed, even with SIGKILL) it kills every process still
/// carrying one of them. This is what removes a double-forked daemon that left its process group and outlived the
/// parent-death signal. It ignores the terminal's and the init system's signals, so that it outlives the server.
/// Before its SIGKILL sweep it lets every `run-child` finish stopping its workload (SIGTERM, then up to the grace
/// period and a margin): killing `run-child` first would hand the descendants that cleared their environment (no
/// marker, so no sweep finds them) over to init, out of reach.
struct Watchdog: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "watchdog", abstract: "Internal: sweeps the server's processes when it dies.",
                                                    shouldDisplay: false)

    func run() {
        for sig in [SIGINT, SIGTERM, SIGHUP, SIGQUIT] { signal(sig, SIG_IGN) }
        var markers = Set<String>()
        while let line = readLine(strippingNewline: true) {
            if !line.isEmpty { markers.insert(line) }
        }
        let launchers = ProcessSupervisor.askLaunchersToStop(markers: markers)
        let deadline = ContinuousClock.now + .milliseconds(Int((ProcessSupervisor.launcherGraceSeconds + ProcessSupervisor.launcherMarginSeconds) * 1000))
        while launchers.contains(where: ProcessSupervisor.isLive) && ContinuousClock.now < deadline { usleep(20_000) }
        ProcessSupervisor.sweep(markers: markers)
    }
}

/// `scw-mock run-child -- PROGRAM ARGS…` (internal): how the server starts every container and function process. It
/// starts the program as its own child with a clean slate (empty signal mask and default signal handling, whatever
/// thread of the server spawned it; no inherited descriptor besides stdin, stdout and stderr) and exits as the program
/// exits. Because the program holds none of the server's descriptors, its exit is seen even while a grandchild lives
/// on; because the thread that forked it stays in this command's loop until it is gone, its parent-death signal
/// cannot fire early.
///
/// It owns the whole tree below it: it is the child subreaper of its descendants, so an orphan, even one that called
/// `setsid`, double-forked and cleared its environment (no marker left to sweep), is reparented to it and not to
/// init. Whatever ends the workload, nothing below outlives it:
/// - SIGTERM (the server's stop, or the parent-death signal when the server dies, even by SIGKILL): SIGTERM to every
///   descendant, whatever its session or process group, SIGKILL to those left after the grace period, reap, exit;
/// - the program exits on its own: SIGKILL to every descendant left (as when a container's main process ends), reap,
///   exit with the program's status (re-raising the signal that killed it, so that the server sees what it saw).
/// Only SIGKILL of this process itself escapes that, which is why the server and the watchdog send SIGTERM first and
/// wait for it longer than its grace period.
///
/// The server starts this command with swift-subprocess (process group, output streams, teardown sequence), which has
/// no parent-death signal, no child subreaper and no hook between fork and exec: those are set up here and in the C
/// shim (`CProcessShim`).
struct RunChild: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "run-child", abstract: "Internal: runs one workload process.",
                                                    shouldDisplay: false)

    @Argument(parsing: .captureForPassthrough) var command: [String] = []

    func run() throws {
        // The terminal's signals do not stop a workload; SIGTERM and SIGCHLD wake the loop below through a pipe.
        for sig in [SIGINT, SIGHUP, SIGQUIT] { signal(sig, SIG_IGN) }
        let wakeUp = scw_catch_stop_and_children()
        guard wakeUp >= 0 else { Foundation.exit(126) }
        let parent = getppid()
        _ = scw_set_child_subreaper()
        // A catchable parent-death signal: when the server dies, even by SIGKILL, this process still stops the tree.
        _ = scw_set_parent_death_signal(SIGTERM)
        if getppid() != parent { Foundation.exit(137) }  // the server died meanwhile
        let argv = command.first == "--" ? Array(command.dropFirst()) : command
        guard let path = argv.first else { Foundation.exit(127) }
        var cArguments: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
        let pid = scw_spawn_clean(path, &cArguments)
        guard pid > 0 else {
            FileHandle.standardError.write(Data("cannot start \(path): \(String(cString: strerror(errno)))\n".utf8))
            Foundation.exit(126)
        }
        var tree = Tree(program: pid, wakeUp: wakeUp)
        while tree.programStatus == nil {
            tree.wait(milliseconds: 1000)
            tree.reap()
            // A lost parent-death signal (the server gone all the same) is a stop too.
            if scw_stop_requested() != 0 || getppid() != parent {
                tree.stop(grace: ProcessSupervisor.launcherGraceSeconds)
                break
            }
        }
        tree.killAll()
        guard let status = tree.programStatus else { Foundation.exit(137) }
        let signalNumber = status & 0x7f
        if signalNumber == 0 { Foundation.exit((status >> 8) & 0xff) }
        // Killed by a signal: end the same way, so that the server sees what the program saw.
        signal(signalNumber, SIG_DFL)
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, signalNumber)
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
        kill(getpid(), signalNumber)
        Foundation.exit(128 + signalNumber)
    }

    /// The processes below this one.
    struct Tree {
        let program: pid_t
        /// Read end of the pipe the SIGTERM and SIGCHLD handler writes to.
        let wakeUp: Int32
        /// The program's wait status, once reaped.
        var programStatus: Int32?

        init(program: pid_t, wakeUp: Int32) {
            self.program = program
            self.wakeUp = wakeUp
        }

        /// Sleeps until a signal arrives (or the time is up), then empties the pipe.
        func wait(milliseconds: Int32) {
            var entry = pollfd(fd: wakeUp, events: Int16(POLLIN), revents: 0)
            _ = poll(&entry, 1, milliseconds)
            var sink = [UInt8](repeating: 0, count: 64)
            while read(wakeUp, &sink, sink.count) > 0 {}
        }

        /// Reaps every child that has exited (the program, and orphans reparented here).
        mutating func reap() {
            var status: Int32 = 0
            while true {
                let child = waitpid(-1, &status, WNOHANG)
                if child > 0 {
                    if child == program { programStatus = status }
                } else if child < 0 && errno == EINTR {
                    continue
                } else {
                    return
                }
            }
        }

        /// Whether any child is left (exited ones are reaped first; the check itself reaps none, so that the
        /// program's status cannot be lost).
        mutating func hasChildren() -> Bool {
            reap()
            var info = siginfo_t()
            return !(waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT) < 0 && errno == ECHILD)
        }

        /// SIGTERM to every descendant, whatever its session or process group (those that appear meanwhile too, once
        /// each), until none is left or the grace period is over.
        mutating func stop(grace: Double) {
            var signalled = Set<pid_t>()
            let deadline = ContinuousClock.now + .milliseconds(Int(grace * 1000))
            while hasChildren() && ContinuousClock.now < deadline {
                for descendant in ProcessSupervisor.descendants(of: getpid()) where signalled.insert(descendant).inserted {
                    kill(descendant, SIGTERM)
                }
                wait(milliseconds: 20)
            }
        }

        /// SIGKILL to every descendant until no child is left (bounded, should one hang in the kernel).
        mutating func killAll() {
            let deadline = ContinuousClock.now + .seconds(10)
            while hasChildren() && ContinuousClock.now < deadline {
                for descendant in ProcessSupervisor.descendants(of: getpid()) { kill(descendant, SIGKILL) }
                wait(milliseconds: 5)
            }
        }
    }
}
