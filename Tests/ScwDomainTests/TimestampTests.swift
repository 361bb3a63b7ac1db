import ScwDomain
import Testing

@Suite struct TimestampTests {
    @Test func rendersTheThreePrecisionsScalewayUses() {
        let t = Timestamp(nanoseconds: 1_777_992_190_670_343_416)
        #expect(t.rfc3339(fractionDigits: 9) == "2026-05-05T14:43:10.670343416Z")
        #expect(t.rfc3339(fractionDigits: 6) == "2026-05-05T14:43:10.670343Z")
        #expect(t.rfc3339(fractionDigits: 0) == "2026-05-05T14:43:10Z")
        #expect(t.roundedToMicroseconds.rfc3339(fractionDigits: 6) == "2026-05-05T14:43:10.670343Z")
        // .206272634 rounds up to .206273 as a GET shows it.
        #expect(Timestamp(nanoseconds: 1_761_928_302_206_272_634).roundedToMicroseconds.rfc3339(fractionDigits: 6) == "2025-10-31T16:31:42.206273Z")
    }

    @Test func parsesOffsetsAndNormalisesToUTC() throws {
        let t = try #require(Timestamp.parseRFC3339("2026-05-06T16:42:11+02:00"))
        #expect(t.rfc3339(fractionDigits: 0) == "2026-05-06T14:42:11Z")
        #expect(Timestamp.parseRFC3339("2022-01-02T00:00:00Z")?.unixSeconds == 1_641_081_600)
        #expect(Timestamp.parseRFC3339("2025-10-31T16:31:42.670464416Z")?.nanoseconds == 1_761_928_302_670_464_416)
    }

    @Test(arguments: ["", "2030-13-01T00:00:00Z", "2026-02-30T00:00:00Z", "2026-01-01T00:00:00", "2026-01-01 00:00:00Z",
                      "2026-01-01T24:00:00Z", "2026-01-01T00:00:60Z", "2026-01-01T00:00:00.Z", "2026-01-01T00:00:00.1234567891Z",
                      "1700000000", "2026-01-01T00:00:00+2:00", "2026-01-01T00:00:00Zjunk",
                      // Past Int64 nanoseconds (April 2262): refused, not a trap (found by the JWT catalog suite, J14).
                      "2300-01-01T00:00:00Z", "9999-12-31T23:59:59Z"])
    func refusesMalformedTimestamps(_ text: String) {
        #expect(Timestamp.parseRFC3339(text) == nil)
    }
}
