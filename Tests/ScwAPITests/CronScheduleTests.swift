import Foundation
import ScwEngine
import Testing

/// Cron expression semantics used by the scheduler.
@Suite struct CronScheduleTests {
    static let utc = TimeZone(identifier: "UTC")!
    static func at(_ text: String) -> Date { ISO8601DateFormatter().date(from: text)! }

    @Test func matchesFieldsStepsRangesAndNames() throws {
        let daily = try #require(CronSchedule("5 4 * * *"))
        #expect(daily.matches(Self.at("2026-05-05T04:05:00Z"), in: Self.utc))
        #expect(!daily.matches(Self.at("2026-05-05T04:06:00Z"), in: Self.utc))
        let steps = try #require(CronSchedule("*/15 9-17 * JAN-MAR MON-FRI"))
        #expect(steps.matches(Self.at("2026-01-05T09:45:00Z"), in: Self.utc))  // a Monday
        #expect(!steps.matches(Self.at("2026-01-04T09:45:00Z"), in: Self.utc))  // a Sunday
        #expect(!steps.matches(Self.at("2026-04-06T09:45:00Z"), in: Self.utc))  // April
        #expect(!steps.matches(Self.at("2026-01-05T09:44:00Z"), in: Self.utc))
        // Day-of-month OR day-of-week when both are restricted; 7 is Sunday.
        let either = try #require(CronSchedule("0 0 13 * 7"))
        #expect(either.matches(Self.at("2026-05-13T00:00:00Z"), in: Self.utc))
        #expect(either.matches(Self.at("2026-05-10T00:00:00Z"), in: Self.utc))
        #expect(!either.matches(Self.at("2026-05-11T00:00:00Z"), in: Self.utc))
    }

    @Test func usesTheTriggersTimeZone() throws {
        let paris = try #require(CronSchedule("5 4 * * *"))
        // 04:05 in Paris (UTC+2 in May) is 02:05 UTC.
        #expect(paris.matches(Self.at("2026-05-05T02:05:00Z"), in: TimeZone(identifier: "Europe/Paris")!))
        #expect(!paris.matches(Self.at("2026-05-05T04:05:00Z"), in: TimeZone(identifier: "Europe/Paris")!))
    }

    @Test func refusesInvalidExpressions() {
        for bad in ["", "* * * *", "61 * * * *", "* 24 * * *", "* * 0 * *", "* * * 13 *", "a b c d e", "5-1 * * * *"] {
            #expect(CronSchedule(bad) == nil, "\(bad)")
        }
    }
}
