import CLibPQ

#if canImport(Glibc)
    import Glibc
#endif

/// A statement parameter, sent to the server as text apart from the SQL.
enum PostgresValue {
    case null
    case integer(Int64)
    case text(String)

    /// Calls `body` with one C string per value (nil for NULL), alive for the call.
    /// - Throws: `StoreError.invalidText` when a text holds a NUL byte, which PostgreSQL cannot store and
    ///   a C string would silently cut short.
    static func withCStrings<R>(
        _ values: [PostgresValue], _ body: (UnsafeBufferPointer<UnsafePointer<CChar>?>) -> R
    ) throws -> R {
        var copies: [UnsafeMutablePointer<CChar>?] = []
        copies.reserveCapacity(values.count)
        defer { copies.forEach { free($0) } }
        for value in values {
            switch value {
            case .null: copies.append(nil)
            case .integer(let number): copies.append(strdup(String(number)))
            case .text(let text):
                guard !text.utf8.contains(0) else { throw StoreError.invalidText }
                copies.append(strdup(text))
            }
        }
        let pointers = copies.map { $0.map { UnsafePointer($0) } }
        return pointers.withUnsafeBufferPointer { body($0) }
    }
}

/// The rows of a result, copied out of libpq as text (nil for NULL).
struct PostgresRows {
    let values: [[String?]]
    let columnCount: Int

    init(values: [[String?]], columnCount: Int) {
        self.values = values
        self.columnCount = columnCount
    }

    init(_ result: OpaquePointer) {
        let rowCount = Int(PQntuples(result))
        columnCount = Int(PQnfields(result))
        var values: [[String?]] = []
        values.reserveCapacity(rowCount)
        for row in 0..<Int32(rowCount) {
            var fields: [String?] = []
            fields.reserveCapacity(columnCount)
            for column in 0..<Int32(columnCount) {
                guard PQgetisnull(result, row, column) == 0, let value = PQgetvalue(result, row, column) else {
                    fields.append(nil)
                    continue
                }
                let length = Int(PQgetlength(result, row, column))
                let bytes = UnsafeRawPointer(value).assumingMemoryBound(to: UInt8.self)
                fields.append(String(decoding: UnsafeBufferPointer(start: bytes, count: length), as: UTF8.self))
            }
            values.append(fields)
        }
        self.values = values
    }

    var count: Int { values.count }

    /// Column `column` of row `row` as text, or nil when NULL.
    func text(_ row: Int, _ column: Int) -> String? { values[row][column] }

    /// Column `column` of row `row` as an integer.
    /// - Throws: `StoreError.corruptRow` when it is NULL or not a decimal integer.
    func integer(_ row: Int, _ column: Int) throws -> Int64 {
        guard let text = values[row][column], let number = Int64(text) else { throw StoreError.corruptRow }
        return number
    }
}
