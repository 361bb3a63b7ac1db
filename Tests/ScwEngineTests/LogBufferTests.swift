import Foundation
import ScwDomain
import Testing

@testable import ScwEngine

/// A process's log as `GET /_mock/containers/{id}/logs` and the console show it: the newest lines in order, the oldest
/// dropped (and counted) once the buffer is full, whether lines come from the process's output or from the gateway.
@Suite struct LogBufferTests {
    @Test func aFullBufferKeepsTheNewestLinesInOrderAndCountsTheDropped() {
        let logs = LogBuffer(capacity: 3)
        for i in 1...7 { logs.append(Data("line \(i)\n".utf8), stream: "stdout", time: "t\(i)") }
        let (lines, dropped) = logs.snapshot()
        #expect(lines.map(\.line) == ["line 5", "line 6", "line 7"])
        #expect(lines.map(\.time) == ["t5", "t6", "t7"])
        #expect(dropped == 4)
    }

    /// The gateway's line about a call is made only when the log is read, with the instant it was added, and is cut at
    /// the longest line kept like any other.
    @Test func gatewayLinesAreWrittenOutWhenReadInTheirPlace() {
        let logs = LogBuffer(capacity: 4)
        logs.append(Data("started\n".utf8), stream: "stdout", time: "t0")
        let at = Timestamp(nanoseconds: 1_700_000_000_123_456_000)
        logs.add(stream: "gateway", at: at) { "GET / → 200 in 0.4 ms (request r1)" }
        logs.add(stream: "gateway", at: at) { String(repeating: "x", count: 5000) }
        logs.append(Data("partial".utf8), stream: "stderr", time: "t1")
        let (lines, dropped) = logs.snapshot()
        #expect(lines.map(\.stream) == ["stdout", "gateway", "gateway", "stderr"])
        #expect(lines[1].line == "GET / → 200 in 0.4 ms (request r1)")
        #expect(lines[1].time == at.rfc3339(fractionDigits: 6))
        #expect(lines[2].line.utf8.count == 4096)
        #expect(lines[3].line == "partial")
        #expect(dropped == 0)
        // Past the capacity, gateway lines push out the oldest like output lines do.
        for i in 1...3 { logs.add(stream: "gateway", at: at) { "call \(i)" } }
        let after = logs.snapshot()
        #expect(after.lines.map(\.line).first?.hasPrefix("xxx") == true)
        #expect(after.lines.filter { $0.stream == "gateway" }.map(\.line).suffix(3) == ["call 1", "call 2", "call 3"])
        #expect(after.dropped == 2)
    }
}
