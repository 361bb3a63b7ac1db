import Foundation
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
    private struct State {
        var lines: [LogLine] = []
        var partial: [String: [UInt8]] = [:]
        var dropped = 0
    }

    private let state = Mutex(State())
    private let capacity: Int
    private let maxLineBytes = 4096

    /// Creates a buffer keeping at most `capacity` lines.
    public init(capacity: Int = 2000) { self.capacity = capacity }

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
                    s.lines.append(LogLine(time: time, stream: stream, line: String(decoding: pending, as: UTF8.self)))
                    pending.removeAll(keepingCapacity: true)
                } else if pending.count < maxLineBytes {
                    pending.append(byte)
                }
            }
            s.partial[stream] = pending
            if s.lines.count > capacity {
                s.dropped += s.lines.count - capacity
                s.lines.removeFirst(s.lines.count - capacity)
            }
        }
    }

    /// Lines kept, oldest first, and how many were dropped.
    public func snapshot() -> (lines: [LogLine], dropped: Int) {
        state.withLock { s in
            var lines = s.lines
            for (stream, pending) in s.partial where !pending.isEmpty {
                lines.append(LogLine(time: "", stream: stream, line: String(decoding: pending, as: UTF8.self)))
            }
            return (lines, s.dropped)
        }
    }

    /// The last `count` stderr lines (for error messages).
    public func lastErrorLines(_ count: Int) -> [String] {
        snapshot().lines.filter { $0.stream == "stderr" }.suffix(count).map(\.line)
    }

    /// Appends one whole line of `stream` (the gateway's account of a call), cut at the longest line kept.
    public func add(_ text: String, stream: String, time: String) {
        let line = text.utf8.count > maxLineBytes ? String(decoding: text.utf8.prefix(maxLineBytes), as: UTF8.self) : text
        state.withLock { s in
            s.lines.append(LogLine(time: time, stream: stream, line: line))
            if s.lines.count > capacity {
                s.dropped += s.lines.count - capacity
                s.lines.removeFirst(s.lines.count - capacity)
            }
        }
    }

    /// Records a line written by the mock itself (starts, exits, restarts).
    public func note(_ text: String, time: String) {
        append(Data((text + "\n").utf8), stream: "mock", time: time)
    }
}
