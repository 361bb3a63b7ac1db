import Foundation
import ScwDomain
import Synchronization

/// One captured line of a process's output.
public struct LogLine: Sendable, Codable {
    public var time: String
    public var stream: String
    public var line: String
}

/// A bounded buffer of output lines: a flood of output drops the oldest lines (and counts them) instead of
/// growing without limit or blocking the process.
public final class LogBuffer: Sendable {
    /// One kept line; the gateway's lines keep their instant and their text as a closure, both written out only when
    /// read (they are added on every call, read rarely).
    private struct Entry {
        enum Time {
            case text(String)
            case instant(Timestamp)
        }

        enum Text {
            case text(String)
            case deferred(@Sendable () -> String)
        }
        var time: Time
        var stream: String
        var text: Text

        init(time: Time, stream: String, line: String) {
            self.time = time
            self.stream = stream
            self.text = .text(line)
        }

        init(at: Timestamp, stream: String, deferred: @escaping @Sendable () -> String) {
            self.time = .instant(at)
            self.stream = stream
            self.text = .deferred(deferred)
        }

        func logLine(maxBytes: Int) -> LogLine {
            let time = switch time {
            case .text(let text): text
            case .instant(let at): at.rfc3339(fractionDigits: 6)
            }
            switch text {
            case .text(let line): return LogLine(time: time, stream: stream, line: line)
            case .deferred(let make):
                let line = make()
                return LogLine(time: time, stream: stream,
                               line: line.utf8.count > maxBytes ? String(decoding: line.utf8.prefix(maxBytes), as: UTF8.self) : line)
            }
        }
    }

    private struct State {
        /// The newest `capacity` lines.
        var ring: BoundedRing<Entry>
        var partial: [String: [UInt8]] = [:]
        var dropped = 0

        mutating func push(_ entry: Entry) {
            if ring.append(entry) { dropped += 1 }
        }
    }

    private let state: Mutex<State>
    private let maxLineBytes = 4096

    /// Creates a buffer keeping at most `capacity` lines.
    public init(capacity: Int = 2000) { state = Mutex(State(ring: BoundedRing(capacity: capacity))) }

    /// Appends raw bytes read from `stream` (`stdout`/`stderr`), splitting them into lines.
    public func append(_ data: Data, stream: String, time: String) {
        data.withUnsafeBytes { append($0, stream: stream, time: time) }
    }

    /// Appends raw bytes read from `stream` (`stdout`/`stderr`), splitting them into lines.
    public func append(_ data: UnsafeRawBufferPointer, stream: String, time: String) {
        state.withLock { s in
            var pending = s.partial[stream] ?? []
            for byte in data {
                if byte == 10 {
                    s.push(Entry(time: .text(time), stream: stream, line: String(decoding: pending, as: UTF8.self)))
                    pending.removeAll(keepingCapacity: true)
                } else if pending.count < maxLineBytes {
                    pending.append(byte)
                }
            }
            s.partial[stream] = pending
        }
    }

    /// Lines kept, oldest first, and how many were dropped.
    public func snapshot() -> (lines: [LogLine], dropped: Int) {
        let (entries, partial, dropped) = state.withLock { s in (s.ring.elements, s.partial, s.dropped) }
        var lines = entries.map { $0.logLine(maxBytes: maxLineBytes) }
        for (stream, pending) in partial where !pending.isEmpty {
            lines.append(LogLine(time: "", stream: stream, line: String(decoding: pending, as: UTF8.self)))
        }
        return (lines, dropped)
    }

    /// The last `count` stderr lines (for error messages).
    public func lastErrorLines(_ count: Int) -> [String] {
        snapshot().lines.filter { $0.stream == "stderr" }.suffix(count).map(\.line)
    }

    /// Appends one whole line of `stream` (the gateway's account of a call) written at `at`, its text made when the log
    /// is read (cut then at the longest line kept).
    public func add(stream: String, at: Timestamp, _ text: @escaping @Sendable () -> String) {
        state.withLock { s in s.push(Entry(at: at, stream: stream, deferred: text)) }
    }

    /// Records a line written by the mock itself (starts, exits, restarts).
    public func note(_ text: String, time: String) {
        append(Data((text + "\n").utf8), stream: "mock", time: time)
    }
}
