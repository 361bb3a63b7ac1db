import Foundation
import Synchronization

/// A point in time with nanosecond precision, rendered in the precisions Scaleway uses.
public struct Timestamp: Hashable, Sendable, Comparable {
    /// Nanoseconds since the Unix epoch.
    public let nanoseconds: Int64

    /// Wraps a nanosecond count.
    public init(nanoseconds: Int64) { self.nanoseconds = nanoseconds }

    /// Converts a Foundation date.
    public init(_ date: Date) {
        self.nanoseconds = Int64((date.timeIntervalSince1970 * 1_000_000_000).rounded())
    }

    /// Whole seconds since the epoch (JWT `iat`, `exp`).
    public var unixSeconds: Int64 { nanoseconds >= 0 ? nanoseconds / 1_000_000_000 : (nanoseconds - 999_999_999) / 1_000_000_000 }

    /// This instant rounded to the microsecond, as Scaleway stores it (a GET shows 6 digits).
    public var roundedToMicroseconds: Timestamp {
        Timestamp(nanoseconds: ((nanoseconds + 500) / 1000) * 1000)
    }

    /// This instant cut to its whole second (v1 `updated_at` after an asynchronous transition).
    public var floorSecond: Timestamp { Timestamp(nanoseconds: unixSeconds * 1_000_000_000) }

    /// Adds a duration in nanoseconds.
    public func adding(nanoseconds delta: Int64) -> Timestamp { Timestamp(nanoseconds: nanoseconds + delta) }

    /// RFC 3339 in UTC with `digits` fractional digits (0, 6 or 9), e.g. `2026-05-05T14:43:10.670343Z`.
    public func rfc3339(fractionDigits digits: Int) -> String {
        let seconds = unixSeconds
        let nanos = nanoseconds - seconds * 1_000_000_000
        // Civil from days (Howard Hinnant's algorithm): no locale, no formatter, on every response's hot path.
        let days = seconds >= 0 ? seconds / 86400 : (seconds - 86399) / 86400
        let secondOfDay = seconds - days * 86400
        let z = days + 719468
        let era = (z >= 0 ? z : z - 146096) / 146097
        let doe = z - era * 146097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yoe + era * 400 + (month <= 2 ? 1 : 0)
        let length = 20 + (digits == 9 ? 10 : digits == 6 ? 7 : 0)
        // Written in place: this runs two or three times for every resource a response shows.
        return String(unsafeUninitializedCapacity: length) { out in
            var at = 0
            func put(_ value: Int64, width: Int) {
                var v = value
                for i in stride(from: at + width - 1, through: at, by: -1) {
                    out[i] = UInt8(truncatingIfNeeded: 48 + v % 10)
                    v /= 10
                }
                at += width
            }
            func mark(_ byte: UInt8) {
                out[at] = byte
                at += 1
            }
            put(year, width: 4); mark(45); put(month, width: 2); mark(45); put(day, width: 2); mark(84)
            put(secondOfDay / 3600, width: 2); mark(58); put(secondOfDay / 60 % 60, width: 2); mark(58); put(secondOfDay % 60, width: 2)
            switch digits {
            case 9: mark(46); put(nanos, width: 9)
            case 6: mark(46); put(nanos / 1000, width: 6)
            default: break
            }
            mark(90)
            return at
        }
    }

    /// Parses RFC 3339 with any offset and up to 9 fractional digits; nil when malformed.
    public static func parseRFC3339(_ text: String) -> Timestamp? {
        // Shape: YYYY-MM-DDTHH:MM:SS(.f{1,9})?(Z|±HH:MM)
        let bytes = Array(text.utf8)
        func digits(_ from: Int, _ count: Int) -> Int? {
            guard from + count <= bytes.count else { return nil }
            var v = 0
            for b in bytes[from..<(from + count)] {
                guard b >= 48, b <= 57 else { return nil }
                v = v * 10 + Int(b - 48)
            }
            return v
        }
        guard bytes.count >= 20,
              let year = digits(0, 4), bytes[4] == UInt8(ascii: "-"),
              let month = digits(5, 2), bytes[7] == UInt8(ascii: "-"),
              let day = digits(8, 2), bytes[10] == UInt8(ascii: "T") || bytes[10] == UInt8(ascii: "t"),
              let hour = digits(11, 2), bytes[13] == UInt8(ascii: ":"),
              let minute = digits(14, 2), bytes[16] == UInt8(ascii: ":"),
              let second = digits(17, 2)
        else { return nil }
        guard (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 60 else { return nil }
        var index = 19
        var nanos: Int64 = 0
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            var count = 0
            while index < bytes.count, bytes[index] >= 48, bytes[index] <= 57 {
                guard count < 9 else { return nil }
                nanos = nanos * 10 + Int64(bytes[index] - 48)
                count += 1
                index += 1
            }
            guard count > 0 else { return nil }
            for _ in count..<9 { nanos *= 10 }
        }
        guard index < bytes.count else { return nil }
        var offsetSeconds = 0
        switch bytes[index] {
        case UInt8(ascii: "Z"), UInt8(ascii: "z"):
            index += 1
        case UInt8(ascii: "+"), UInt8(ascii: "-"):
            let sign = bytes[index] == UInt8(ascii: "+") ? 1 : -1
            guard let oh = digits(index + 1, 2), index + 3 < bytes.count, bytes[index + 3] == UInt8(ascii: ":"),
                  let om = digits(index + 4, 2), oh < 24, om < 60 else { return nil }
            offsetSeconds = sign * (oh * 3600 + om * 60)
            index += 6
        default:
            return nil
        }
        guard index == bytes.count else { return nil }
        // Days from civil (Howard Hinnant's algorithm); validates the day against the month length.
        let daysInMonth = [31, (year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        guard day <= daysInMonth[month - 1] else { return nil }
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        let days = Int64(era * 146097 + doe - 719468)
        let secs = days * 86400 + Int64(hour * 3600 + minute * 60 + second) - Int64(offsetSeconds)
        // Int64 nanoseconds end in April 2262: a later instant is not representable (nil, like any invalid input).
        let (scaled, overflow) = secs.multipliedReportingOverflow(by: 1_000_000_000)
        let (total, overflowAgain) = scaled.addingReportingOverflow(nanos)
        guard !overflow, !overflowAgain else { return nil }
        return Timestamp(nanoseconds: total)
    }

    public static func < (lhs: Timestamp, rhs: Timestamp) -> Bool { lhs.nanoseconds < rhs.nanoseconds }
}

/// The mock's clock; injected so that tests (and later `/_mock/clock`) control time.
public protocol WallClock: Sendable {
    /// The current instant.
    func now() -> Timestamp
}

/// The system clock.
public struct SystemClock: WallClock {
    /// Creates the clock.
    public init() {}
    public func now() -> Timestamp {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Timestamp(nanoseconds: Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec))
    }
}

/// The mock's clock: a base clock moved by `POST /_mock/clock`, so tests can make tokens expire and transitions settle
/// without waiting. It starts at the configured instant (`--clock`, any instant, past included; else the base clock's
/// time) and, frozen (`--freeze-clock`, `{"frozen": true}`), stands still: every timestamp, transition and token claim
/// then uses the frozen instant until the clock is moved. A reset returns to the configured start.
public final class MockClock: WallClock {
    private struct State {
        /// Added to the base clock while running.
        var offset: Int64
        /// The instant `now()` returns while frozen.
        var frozenAt: Timestamp?
    }

    private let base: any WallClock
    /// The configured start (`--clock`), nil for the base clock's own time.
    private let start: Timestamp?
    /// Whether the clock starts frozen (`--freeze-clock`).
    private let startsFrozen: Bool
    private let state: Mutex<State>

    /// Wraps a base clock; `start` moves it to that instant now, `frozen` makes it stand still there.
    public init(base: any WallClock, start: Timestamp? = nil, frozen: Bool = false) {
        self.base = base
        self.start = start
        self.startsFrozen = frozen
        self.state = Mutex(Self.initialState(base: base, start: start, frozen: frozen))
    }

    private static func initialState(base: any WallClock, start: Timestamp?, frozen: Bool) -> State {
        let now = base.now()
        let begin = start ?? now
        return State(offset: begin.nanoseconds - now.nanoseconds, frozenAt: frozen ? begin : nil)
    }

    public func now() -> Timestamp {
        state.withLock { s in s.frozenAt ?? base.now().adding(nanoseconds: s.offset) }
    }

    /// How far the clock is from the base clock, in nanoseconds (negative in the past).
    public var offsetNanoseconds: Int64 {
        state.withLock { s in s.frozenAt.map { $0.nanoseconds - base.now().nanoseconds } ?? s.offset }
    }

    /// Whether the clock stands still.
    public var isFrozen: Bool { state.withLock { $0.frozenAt != nil } }

    /// Back to the configured start, frozen or not as configured (`POST /_mock/reset`).
    public func resetOffset() {
        let fresh = Self.initialState(base: base, start: start, frozen: startsFrozen)
        state.withLock { $0 = fresh }
    }

    /// Moves the clock forward by `nanoseconds` (≥ 0); a frozen clock stays frozen at the later instant.
    public func advance(nanoseconds: Int64) {
        precondition(nanoseconds >= 0)
        state.withLock { s in
            if let frozen = s.frozenAt { s.frozenAt = frozen.adding(nanoseconds: nanoseconds) } else { s.offset += nanoseconds }
        }
    }

    /// Sets the clock to `instant`, earlier or later; a frozen clock stays frozen there.
    public func set(to instant: Timestamp) {
        state.withLock { s in
            if s.frozenAt != nil { s.frozenAt = instant } else { s.offset = instant.nanoseconds - base.now().nanoseconds }
        }
    }

    /// Stops the clock at its current instant (`true`), or lets it run on from the instant it stands at (`false`):
    /// no jump either way.
    public func setFrozen(_ frozen: Bool) {
        state.withLock { s in
            if frozen, s.frozenAt == nil {
                s.frozenAt = base.now().adding(nanoseconds: s.offset)
            } else if !frozen, let instant = s.frozenAt {
                s.offset = instant.nanoseconds - base.now().nanoseconds
                s.frozenAt = nil
            }
        }
    }
}
