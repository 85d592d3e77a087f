#if canImport(Glibc)
    import Glibc
#endif

/// Reads an audit file's sealed lines in order, from any sequence on, as the writer appends them.
///
/// Only whole lines (ending in a newline) are read; a line being written is left for the next call. The
/// position moves only when the caller says a batch was stored (`advance(to:)`), so a batch that failed
/// to ship is read again, byte for byte, on the next try.
///
/// Not thread-safe: the shipper's thread alone uses it.
final class AuditFileFollower {
    private let path: String
    private var descriptor: Int32 = -1
    /// Offset of the first line not yet stored, and that line's sequence.
    private(set) var offset: UInt64 = 0
    private(set) var nextSequence: UInt64 = 1
    /// Take the first record of the file, whatever its sequence, as where reading starts: for a reader that may
    /// start in a file begun by a rotation (the background verifier), not for the shipper, for which a file that
    /// does not start where the store stands is an error.
    var acceptsAnyStart = false

    /// How an error from opening the file begins: a reader may wait and retry (a rotation may be between its
    /// rename and the next file).
    static let openFailure = "cannot open the audit file"

    /// The bytes before a line's sequence digits: `{"time":"<27 bytes>","sequence":`.
    private static let sequenceOffset = 9 + 27 + 13

    init(path: String) {
        self.path = path
    }

    deinit { if descriptor >= 0 { close(descriptor) } }

    /// Moves to the first line after sequence `stored`, scanning from the start of the file.
    /// - Throws: `AuditShipError` (`file`) when the file cannot be read or holds a line that is not a record.
    func seek(after stored: UInt64) throws(AuditShipError) {
        offset = 0
        nextSequence = 1
        // No file yet (a rotation retired the last one and nothing came since): nothing to skip; read it once
        // it exists.
        guard access(path, F_OK) == 0 else {
            if descriptor >= 0 { close(descriptor) }
            descriptor = -1
            return
        }
        try reopen()
        while nextSequence <= stored {
            let lines = try read(from: offset, maxLines: 4096, maxBytes: 4 << 20)
            guard !lines.isEmpty else { break }
            for (sequence, line) in lines {
                // A file begun by a rotation starts past 1: where it starts is where it continues the chain.
                guard sequence <= stored else {
                    if offset == 0 { nextSequence = sequence }
                    return
                }
                offset += UInt64(line.count + 1)
                nextSequence = sequence + 1
            }
        }
    }

    /// Up to `maxRecords` lines (and about `maxBytes`) from the position on, with sequences up to `durable`.
    /// - Returns: the lines without newlines, and the offset just past the last of them.
    /// - Throws: `AuditShipError` (`file`) when the file cannot be read, a line is not a record, or the
    ///   sequences do not continue from `nextSequence`.
    func batch(upTo durable: UInt64, maxRecords: Int, maxBytes: Int) throws(AuditShipError) -> (
        lines: [[UInt8]], endOffset: UInt64
    ) {
        try reopenIfReplaced()
        var found = try read(from: offset, maxLines: maxRecords, maxBytes: maxBytes)
        // The old file is read to its end and another has its name: the writer rotated; go on in the new one.
        if found.isEmpty && isRotated() {
            // The position first: should the open fail, the next try starts the new file from its beginning.
            offset = 0
            try reopen()
            found = try read(from: 0, maxLines: maxRecords, maxBytes: maxBytes)
        }
        var lines: [[UInt8]] = []
        var end = offset
        if acceptsAnyStart, offset == 0, let first = found.first?.0, first > nextSequence {
            nextSequence = first
        }
        var expected = nextSequence
        for (sequence, line) in found {
            guard sequence <= durable else { break }
            guard sequence == expected else { throw AuditShipError(.file, detail: "sequence \(expected) missing") }
            lines.append(line)
            end += UInt64(line.count + 1)
            expected += 1
        }
        return (lines, end)
    }

    /// Records that the lines up to `endOffset` are stored, the last of them with sequence `lastSequence`.
    func advance(to endOffset: UInt64, lastSequence: UInt64) {
        offset = endOffset
        nextSequence = lastSequence + 1
    }

    /// Whole lines from `start`: each with its sequence, read with `pread` in chunks.
    private func read(from start: UInt64, maxLines: Int, maxBytes: Int) throws(AuditShipError) -> [(
        UInt64, [UInt8]
    )] {
        var result: [(UInt64, [UInt8])] = []
        var position = start
        var pending: [UInt8] = []
        var total = 0
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while result.count < maxLines && total < maxBytes {
            let count = chunk.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, $0.count, off_t(position)) }
            if count < 0 {
                if errno == EINTR { continue }
                throw AuditShipError(.file, detail: "read failed: errno \(errno)")
            }
            if count == 0 { break }
            position += UInt64(count)
            var lineStart = 0
            for index in 0..<count where chunk[index] == UInt8(ascii: "\n") {
                var line = pending
                line.append(contentsOf: chunk[lineStart..<index])
                pending.removeAll(keepingCapacity: true)
                lineStart = index + 1
                guard let sequence = Self.sequence(of: line) else {
                    throw AuditShipError(.file, detail: "a line is not a sealed record")
                }
                total += line.count
                result.append((sequence, line))
                if result.count == maxLines || total >= maxBytes { return result }
            }
            pending.append(contentsOf: chunk[lineStart..<count])
        }
        return result
    }

    /// The sequence number of a sealed line, read from its fixed place after the time.
    static func sequence(of line: [UInt8]) -> UInt64? {
        let prefix = Array("{\"time\":\"".utf8)
        let middle = Array("\",\"sequence\":".utf8)
        guard line.count > sequenceOffset, line.starts(with: prefix),
            line[(sequenceOffset - middle.count)..<sequenceOffset].elementsEqual(middle)
        else { return nil }
        var value: UInt64 = 0
        var index = sequenceOffset
        while index < line.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(line[index]) {
            let (product, overflow) = value.multipliedReportingOverflow(by: 10)
            guard !overflow else { return nil }
            value = product + UInt64(line[index] - UInt8(ascii: "0"))
            index += 1
        }
        guard index > sequenceOffset, index < line.count, line[index] == UInt8(ascii: ",") else { return nil }
        return value
    }

    private func reopen() throws(AuditShipError) {
        if descriptor >= 0 { close(descriptor) }
        descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw AuditShipError(.file, detail: Self.openFailure + ": errno \(errno)") }
    }

    /// Whether the path now names another file than the one open (a rotation renamed the open one away).
    private func isRotated() -> Bool {
        var opened = stat()
        var named = stat()
        guard descriptor >= 0, fstat(descriptor, &opened) == 0, stat(path, &named) == 0 else { return false }
        return opened.st_ino != named.st_ino || opened.st_dev != named.st_dev
    }

    /// A file shorter than the position was replaced or cut: the caller must seek again.
    private func reopenIfReplaced() throws(AuditShipError) {
        if descriptor < 0 { try reopen() }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { throw AuditShipError(.file, detail: "fstat failed") }
        guard UInt64(status.st_size) >= offset else {
            throw AuditShipError(.file, detail: "the audit file is shorter than what was shipped")
        }
    }
}
