import Foundation
import Logging
import Subprocess
import Synchronization
import Testing

@testable import ScwEngine

/// Processes started with swift-subprocess: output read as async streams into the log, exits reported even while a
/// descendant holds the pipes, teardown reaching the whole process group, and a process that closed its output still
/// stoppable.
@Suite struct ChildProcessTests {
    static let clock: @Sendable () -> String = { "t" }

    static func start(_ script: String, logs: LogBuffer = LogBuffer(), teardown: [TeardownStep] = []) async throws -> ChildProcess {
        try await ChildProcess.start(executable: "/bin/sh", arguments: ["-c", script], environment: ["PATH": "/usr/bin:/bin"],
                                     workingDirectory: nil, teardown: teardown, logs: logs, clock: clock) { _ in }
    }

    static func isLive(_ pid: Int32) -> Bool { ProcessSupervisor.isLive(pid) }

    @Test func outputGoesToTheLogAndTheExitCodeIsReported() async throws {
        let logs = LogBuffer()
        let child = try await Self.start("echo out; echo err >&2; exit 3", logs: logs)
        #expect(await child.waitForExit(timeout: .seconds(10)))
        #expect(child.terminationStatus == 3)
        let lines = logs.snapshot().lines.map { "\($0.stream):\($0.line)" }
        #expect(lines.contains("stdout:out") && lines.contains("stderr:err"), "\(lines)")
    }

    @Test func aSignalIsReportedAsItsNumber() async throws {
        let child = try await Self.start("kill -9 $$")
        #expect(await child.waitForExit(timeout: .seconds(10)))
        #expect(child.terminationStatus == SIGKILL)
    }

    @Test func aDescendantHoldingThePipesDoesNotHideTheExit() async throws {
        let logs = LogBuffer()
        let child = try await Self.start("sleep 30 & echo $!; exit 4", logs: logs)
        let started = ContinuousClock.now
        #expect(await child.waitForExit(timeout: .seconds(10)))
        // Alone this takes well under a second; the bound only has to tell it from waiting out the 30-second teardown
        // wait, with the whole Swift suite sharing two cores (and the cooperative pool) meanwhile.
        #expect(ContinuousClock.now - started < .seconds(20))
        #expect(child.terminationStatus == 4)
        kill(-child.pid, SIGKILL)
    }

    @Test func theTeardownReachesTheWholeGroup() async throws {
        let logs = LogBuffer()
        let child = try await Self.start("sleep 30 & echo $!; wait", logs: logs)
        var sleeper: Int32?
        for _ in 0..<200 where sleeper == nil {
            sleeper = logs.snapshot().lines.first(where: { $0.stream == "stdout" }).flatMap { Int32($0.line) }
            if sleeper == nil { try await Task.sleep(for: .milliseconds(10)) }
        }
        let descendant = try #require(sleeper)
        #expect(child.requestTeardown([.send(signal: .terminate, toProcessGroup: true, allowedDurationToNextStep: .seconds(5))]))
        #expect(await child.waitForExit(timeout: .seconds(10)))
        #expect(child.terminationStatus == SIGTERM)
        for _ in 0..<100 where Self.isLive(descendant) { try await Task.sleep(for: .milliseconds(10)) }
        #expect(!Self.isLive(descendant))
    }

    @Test func aStopDuringTheLastReadinessProbeEndsTheProcess() async throws {
        let events = Mutex<[WorkloadEvent]>([])
        let supervisor = ProcessSupervisor(logger: Logger(label: "test"), graceSeconds: 0.5, now: Self.clock) { _, event in
            events.withLock { $0.append(event) }
        }
        let probed = FileManager.default.temporaryDirectory.appendingPathComponent("probed-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: probed) }
        // Answers its probe path 200, but only 0.8 s after noting that the probe arrived.
        let server = """
            import http.server, os, time
            class H(http.server.BaseHTTPRequestHandler):
                def do_GET(self):
                    if self.path == "/ready":
                        open(os.environ["PROBED"], "w").close()
                        time.sleep(0.8)
                    self.send_response(200)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                def log_message(self, *args):
                    pass
            http.server.HTTPServer(("127.0.0.1", int(os.environ["PORT"])), H).serve_forever()
            """
        await supervisor.deploy(WorkloadSpec(id: "slow-probe", command: ["python3", "-c", server],
                                             environment: ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin", "PROBED": probed],
                                             workingDirectory: nil, readyTimeoutSeconds: 20, httpProbePath: "/ready"))
        for _ in 0..<2000 where !FileManager.default.fileExists(atPath: probed) { try await Task.sleep(for: .milliseconds(10)) }
        try #require(FileManager.default.fileExists(atPath: probed), "the probe never arrived")
        let pid = try #require(await supervisor.logLines(of: "slow-probe")?.lines.compactMap { line -> Int32? in
            guard line.line.hasPrefix("started pid ") else { return nil }
            return Int32(line.line.split(separator: " ")[2])
        }.first)
        // DELETE while the probe is out: the probe then succeeds, but the process must not be published, nor left running.
        await supervisor.stop("slow-probe")
        for _ in 0..<500 where Self.isLive(pid) { try await Task.sleep(for: .milliseconds(10)) }
        #expect(!Self.isLive(pid))
        #expect(await supervisor.port(of: "slow-probe") == nil)
        #expect(!events.withLock { $0.contains { if case .ready = $0 { true } else { false } } })
        await supervisor.stopAll()
    }

    @Test func aProcessThatClosedItsOutputIsStillStopped() async throws {
        let events = Mutex<[WorkloadEvent]>([])
        let supervisor = ProcessSupervisor(logger: Logger(label: "test"), graceSeconds: 0.5, now: Self.clock) { _, event in
            events.withLock { $0.append(event) }
        }
        // Closes stdout and stderr, then listens on PORT: ready, with no output left to read.
        let listener = "exec >/dev/null 2>&1; exec python3 -c \"import os, socket, time; s = socket.socket(); "
            + "s.bind(('127.0.0.1', int(os.environ['PORT']))); s.listen(8); time.sleep(60)\""
        await supervisor.deploy(WorkloadSpec(id: "quiet", command: ["/bin/sh", "-c", listener],
                                             environment: ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"],
                                             workingDirectory: nil, readyTimeoutSeconds: 20))
        for _ in 0..<2000 where events.withLock({ $0.isEmpty }) { try await Task.sleep(for: .milliseconds(10)) }
        guard case .ready = try #require(events.withLock { $0.first }) else {
            Issue.record("not ready: \(events.withLock { $0 })")
            return
        }
        let pid = try #require(await supervisor.logLines(of: "quiet")?.lines.compactMap { line -> Int32? in
            guard line.line.hasPrefix("started pid ") else { return nil }
            return Int32(line.line.split(separator: " ")[2])
        }.first)
        let started = ContinuousClock.now
        await supervisor.stop("quiet")
        // Alone this takes well under a second; the bound only has to tell it from waiting out the 30-second teardown
        // wait, with the whole Swift suite sharing two cores (and the cooperative pool) meanwhile.
        #expect(ContinuousClock.now - started < .seconds(20))
        #expect(!Self.isLive(pid))
        await supervisor.stopAll()
    }

    /// Workloads deployed together each get a port of their own, even where the kernel hands the same free port out
    /// twice before the first process listens on it (nothing holds the port in between, so it may).
    @Test func workloadsDeployedTogetherNeverShareAPort() async throws {
        // The kernel's free ports, each handed out a second time while it is still free.
        let handedOut = Mutex<(last: Int?, repeated: Bool)>((nil, false))
        let freePorts: @Sendable () throws -> Int = {
            try handedOut.withLock { state in
                if let last = state.last, !state.repeated, Self.isFree(last) {
                    state.repeated = true
                    return last
                }
                let port = try ProcessSupervisor.freePort()
                state = (port, false)
                return port
            }
        }
        let events = Mutex<[String: WorkloadEvent]>([:])
        let supervisor = ProcessSupervisor(logger: Logger(label: "test"), graceSeconds: 0.5, freePorts: freePorts, now: Self.clock) { id, event in
            events.withLock { $0[id] = event }
        }
        let listener = "import os, socket, time; s = socket.socket(); s.bind(('127.0.0.1', int(os.environ['PORT']))); s.listen(8); time.sleep(60)"
        let ids = (1...6).map { "together-\($0)" }
        for id in ids {
            await supervisor.deploy(WorkloadSpec(id: id, command: ["python3", "-c", listener],
                                                 environment: ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"],
                                                 workingDirectory: nil, readyTimeoutSeconds: 20))
        }
        for _ in 0..<2000 where events.withLock({ $0.count < ids.count }) { try await Task.sleep(for: .milliseconds(10)) }
        var ports: [Int] = []
        for id in ids {
            let event = events.withLock { $0[id] }
            guard case .ready(let port) = event else {
                Issue.record("\(id): \(String(describing: event)); \(await supervisor.logLines(of: id)?.lines.map(\.line) ?? [])")
                continue
            }
            ports.append(port)
        }
        #expect(Set(ports).count == ids.count, "\(ports)")
        await supervisor.stopAll()
    }

    /// Whether nothing is bound to `port` on 127.0.0.1.
    static func isFree(_ port: Int) -> Bool { (try? ProcessSupervisor.bindLoopback(port: port)) != nil }
}
