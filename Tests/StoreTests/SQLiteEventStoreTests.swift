import Store
import Testing

@Suite("SQLiteEventStore")
struct SQLiteEventStoreTests {
    @Test("WAL, synchronous=FULL, foreign keys and the busy timeout are really applied")
    func durabilitySettings() throws {
        let store = try SQLiteEventStore(directory: makeTemporaryDirectory(), busyTimeoutMilliseconds: 1234)
        let settings = try store.settings()
        #expect(settings.journalMode == "wal")
        #expect(settings.synchronous == 2)
        #expect(settings.foreignKeys)
        #expect(settings.busyTimeoutMilliseconds == 1234)
    }
}
