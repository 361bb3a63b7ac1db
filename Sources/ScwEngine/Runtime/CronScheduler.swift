import Foundation
import Logging
import ScwDomain
import ScwStore

/// A parsed 5-field cron expression (minute hour day-of-month month day-of-week), standard semantics: when both
/// day fields are restricted, either one matching is enough.
public struct CronSchedule: Sendable, Equatable {
    let minutes, hours, days, months, weekdays: Set<Int>
    let daysRestricted, weekdaysRestricted: Bool

    /// Parses an expression `TriggerRules.isValidSchedule` accepts; nil otherwise.
    public init?(_ expression: String) {
        guard TriggerRules.isValidSchedule(expression) else { return nil }
        let fields = expression.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        let ranges = [0...59, 0...23, 1...31, 1...12, 0...7]
        let names: [[String]] = [[], [], [], ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"],
                                 ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]]
        var sets: [Set<Int>] = []
        for (i, field) in fields.enumerated() {
            var set = Set<Int>()
            for part in field.split(separator: ",") {
                let pieces = part.split(separator: "/")
                let step = pieces.count == 2 ? Int(pieces[1]) ?? 1 : 1
                func value(_ s: Substring) -> Int {
                    if let n = Int(s) { return n }
                    let index = names[i].firstIndex(of: s.uppercased()) ?? 0
                    return i == 3 ? index + 1 : index
                }
                var low = ranges[i].lowerBound, high = ranges[i].upperBound
                if pieces[0] != "*" {
                    let bounds = pieces[0].split(separator: "-")
                    low = value(bounds[0])
                    high = bounds.count == 2 ? value(bounds[1]) : (pieces.count == 2 ? ranges[i].upperBound : low)
                }
                for v in stride(from: low, through: high, by: step) { set.insert(i == 4 && v == 7 ? 0 : v) }
            }
            sets.append(set)
        }
        (minutes, hours, days, months, weekdays) = (sets[0], sets[1], sets[2], sets[3], sets[4])
        daysRestricted = fields[2] != "*"
        weekdaysRestricted = fields[4] != "*"
    }

    /// Whether the schedule fires at the minute starting at `date` in `timeZone`.
    public func matches(_ date: Date, in timeZone: TimeZone) -> Bool {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let c = calendar.dateComponents([.minute, .hour, .day, .month, .weekday], from: date)
        guard let minute = c.minute, let hour = c.hour, let day = c.day, let month = c.month, let weekday = c.weekday else { return false }
        guard minutes.contains(minute), hours.contains(hour), months.contains(month) else { return false }
        let dayMatch = days.contains(day), weekdayMatch = weekdays.contains(weekday - 1)
        if daysRestricted && weekdaysRestricted { return dayMatch || weekdayMatch }
        return dayMatch && weekdayMatch
    }
}

/// Fires crons (v1beta1) and cron triggers (v1) on their schedule, by the mock's clock (UTC unless a time zone is
/// given): each run sends the trigger's body with its method and path to the application's process, and is logged
/// with the application's output (`/_mock/{containers|functions}/{id}/logs`).
public actor CronScheduler {
    let database: AppDatabase
    let clock: any WallClock
    let runtime: RuntimeCoordinator
    let logger: Logger
    private var lastMinute: Int64?
    private var task: Task<Void, Never>?

    /// Creates the scheduler.
    public init(database: AppDatabase, clock: any WallClock, runtime: RuntimeCoordinator, logger: Logger) {
        self.database = database
        self.clock = clock
        self.runtime = runtime
        self.logger = logger
    }

    /// Starts ticking every quarter second until `stop()`.
    public func start() {
        guard task == nil else { return }
        task = Task {
            while !Task.isCancelled {
                await self.tick()
                try? await Task.sleep(for: .milliseconds(250))
            }
        }
    }

    /// Stops ticking.
    public func stop() {
        task?.cancel()
        task = nil
    }

    /// Fires every cron due in the minutes since the last tick (at most a day's worth after a clock jump).
    func tick() async {
        let minute = clock.now().unixSeconds / 60
        guard let last = lastMinute else { lastMinute = minute; return }
        guard minute > last else { lastMinute = minute; return }  // a clock set back counts on from where it now is
        lastMinute = minute
        guard let crons = try? database.cronTriggers(), !crons.isEmpty else { return }
        for m in max(last + 1, minute - 1440)...minute {
            let date = Date(timeIntervalSince1970: TimeInterval(m * 60))
            for trigger in crons {
                guard case .cron(let expression, let zone, let body, let headers) = trigger.source,
                      let schedule = CronSchedule(expression), schedule.matches(date, in: TimeZone(identifier: zone) ?? TimeZone(identifier: "UTC")!)
                else { continue }
                await fire(trigger, body: body, headers: headers)
            }
        }
    }

    private func fire(_ trigger: Trigger, body: String, headers: [String: String]) async {
        let app = trigger.application.rawValue
        guard let port = await runtime.port(of: app, timeout: 0) else {
            await runtime.note(app, "cron \(trigger.id) (\(trigger.name)) not delivered: the application is not running")
            return
        }
        let status = await Self.deliver(port: port, method: trigger.httpMethod.uppercased(), path: trigger.httpPath, headers: headers, body: body)
        await runtime.note(app, "cron \(trigger.id) (\(trigger.name)) fired: \(trigger.httpMethod.uppercased()) \(trigger.httpPath) → \(status.map(String.init) ?? "no answer")")
    }

    /// Sends one HTTP/1.0 request to the process (on SwiftNIO's event loops, waiting at most 5 s for the answer) and
    /// returns its status code. Header lines carrying CR or LF are left out.
    static func deliver(port: Int, method: String, path: String, headers: [String: String], body: String) async -> Int? {
        let payload = Array(body.utf8)
        var lines: [(String, String)] = [("Content-Length", String(payload.count)), ("User-Agent", "scw-mock-cron")]
        if headers["Content-Type"] == nil && headers["content-type"] == nil { lines.append(("Content-Type", "application/json")) }
        for (name, value) in headers where !name.contains("\r") && !value.contains("\r") && !name.contains("\n") && !value.contains("\n") {
            lines.append((name, value))
        }
        return await LoopbackClient.status(port: port, method: method, path: path, headers: lines, body: payload, timeout: .seconds(5))
    }
}
