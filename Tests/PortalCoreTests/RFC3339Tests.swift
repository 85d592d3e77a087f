import PortalCore
import Testing

@Suite("RFC3339")
struct RFC3339Tests {
    @Test(
        "RFC 3339 formatting across the epoch, leap days and negative times",
        arguments: [
            (Int64(0), "1970-01-01T00:00:00.000000Z"),
            (951_782_400_000_001, "2000-02-29T00:00:00.000001Z"),
            (4_107_542_399_999_999, "2100-02-28T23:59:59.999999Z"),
            (-1, "1969-12-31T23:59:59.999999Z"),
            (1_767_225_600_000_000, "2026-01-01T00:00:00.000000Z"),
            (-62_135_596_800_000_000, "0001-01-01T00:00:00.000000Z"),
            (253_402_300_799_999_999, "9999-12-31T23:59:59.999999Z"),
            (-86_400_000_001, "1969-12-30T23:59:59.999999Z"),
        ])
    func rfc3339(micros: Int64, expected: String) {
        #expect(RFC3339.format(unixMicroseconds: micros) == expected)
        #expect(RFC3339.parse(expected) == micros)
    }

    @Test(
        "parsing refuses every other form and impossible dates",
        arguments: [
            "2026-01-01T00:00:00Z", "2026-01-01T00:00:00.000000+00:00", "2026-01-01 00:00:00.000000Z",
            "2026-02-30T00:00:00.000000Z", "2026-13-01T00:00:00.000000Z", "2026-04-31T00:00:00.000000Z",
            "2026-01-01T24:00:00.000000Z", "2026-01-01T00:60:00.000000Z", "2026-01-01T00:00:60.000000Z",
            "2026-01-01T00:00:00.00000aZ", "2026-01-01T00:00:00.000000z", "", "+026-01-01T00:00:00.000000Z",
            "2025-02-29T00:00:00.000000Z",
        ])
    func parseRefuses(text: String) {
        #expect(RFC3339.parse(text) == nil)
    }
}
