import Foundation
import Logging

/// How long each step of start-up took, printed at debug level once the listener is open (`--log-level debug`):
/// the figures behind the "start to first /_mock/health" benchmark. Time from the process's exec to `main` comes
/// from the kernel's start time of the process, whose unit is the clock tick (10 ms on most systems).
public struct StartPhases: Sendable {
    private var last: ContinuousClock.Instant
    private var phases: [(String, Duration)] = []
    /// Milliseconds from the exec of this process to the first mark, when the kernel tells it.
    private let execToMain: Double?

    /// Starts timing at the first Swift code of the command.
    public init() {
        last = .now
        execToMain = Self.millisecondsSinceExec()
    }

    /// Ends the current phase under `name`.
    public mutating func mark(_ name: String) {
        let now = ContinuousClock.now
        phases.append((name, now - last))
        last = now
    }

    /// Logs the phases (milliseconds) at debug level.
    public func log(to logger: Logger) {
        guard logger.logLevel <= .debug else { return }
        var parts: [String] = []
        var total = 0.0
        if let execToMain {
            parts.append("exec_to_main=\(Self.format(execToMain))")
            total += execToMain
        }
        for (name, duration) in phases {
            let ms = Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
            parts.append("\(name)=\(Self.format(ms))")
            total += ms
        }
        logger.debug("start phases (ms)", metadata: ["phases": "\(parts.joined(separator: " "))", "total": "\(Self.format(total))"])
    }

    private static func format(_ ms: Double) -> String { String(format: "%.1f", ms) }

    /// The process's age: `/proc/self/stat`'s start time (clock ticks since boot) against the boot-time clock.
    static func millisecondsSinceExec() -> Double? {
        guard let stat = try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        // Fields after the command name (which may hold spaces) start at field 3; the start time is field 22.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 19, let ticks = Double(fields[19]) else { return nil }
        let hertz = Double(sysconf(Int32(_SC_CLK_TCK)))
        var now = timespec()
        guard hertz > 0, clock_gettime(CLOCK_BOOTTIME, &now) == 0 else { return nil }
        let bootSeconds = Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
        return max(0, (bootSeconds - ticks / hertz) * 1000)
    }
}
