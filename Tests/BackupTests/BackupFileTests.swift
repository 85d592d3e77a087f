import Backup
import Crypto
import Foundation
import Testing

/// The file format alone: parts through a real file, and each way of damaging it.
@Suite("Backup file")
struct BackupFileTests {
    static let secret = SecureRandom.bytes(count: 32)

    static func key() throws -> BackupKey { try BackupKey(secret: secret) }

    /// Collects what the reader hands out.
    final class Collector: BackupPartSink {
        var parts: [(name: String, bytes: [UInt8])] = []
        func beginPart(_ name: String) throws { parts.append((name, [])) }
        func write(_ bytes: UnsafeRawBufferPointer) throws { parts[parts.count - 1].bytes += bytes }
        func endPart(_ name: String) throws {}
    }

    /// A backup of three parts (one empty, one spanning many chunks) with a small chunk size; returns its path.
    static func makeFile(in directory: String, chunkSize: UInt32 = 4096) throws -> (String, [[UInt8]]) {
        let path = directory + "/test.bak"
        let contents: [[UInt8]] = [
            Array("first part\n".utf8), [], (0..<50_000).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 3) },
        ]
        let writer = try BackupWriter(path: path, key: key(), chunkSize: chunkSize)
        var manifest = BackupManifest(store: "sqlite", createdAtMicroseconds: 1, schemaVersions: [], parts: [])
        for (index, bytes) in contents.enumerated() {
            try writer.beginPart("part\(index).db")
            try writer.write(bytes)
            let digest = writer.endPart()
            manifest.parts.append(
                .init(
                    name: "part\(index).db", kind: "sqlite-database", byteCount: digest.byteCount, sha256: digest.sha256
                ))
        }
        try writer.finish(manifest: manifest)
        return (path, contents)
    }

    /// The byte offsets at which each chunk starts, walking the frames after the 80-byte header.
    static func chunkOffsets(_ bytes: [UInt8]) -> [Int] {
        var offsets: [Int] = []
        var offset = 80
        while offset < bytes.count {
            offsets.append(offset)
            let length = bytes[(offset + 1)..<(offset + 5)].reduce(0) { $0 << 8 | Int($1) }
            offset += 5 + length + 16
        }
        return offsets
    }

    static func temporaryDirectory() -> String {
        let path = NSTemporaryDirectory() + "backup-file-" + UUID().uuidString
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// Writes `bytes` as a file and reads it back, returning the error's kind and text.
    static func refusal(_ bytes: [UInt8], key: BackupKey? = nil, in directory: String) -> BackupError? {
        let path = directory + "/damaged-\(UUID().uuidString).bak"
        _ = FileManager.default.createFile(atPath: path, contents: Data(bytes))
        do {
            _ = try BackupReader.read(path: path, key: key ?? Self.key())
            return nil
        } catch let error as BackupError {
            return error
        } catch {
            return nil
        }
    }

    @Test("parts come back byte for byte, the file is mode 0600, and no temporary file is left")
    func roundTrip() throws {
        let directory = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (path, contents) = try Self.makeFile(in: directory)
        let collector = Collector()
        let manifest = try BackupReader.read(path: path, key: try Self.key(), into: collector)
        #expect(collector.parts.map(\.name) == ["part0.db", "part1.db", "part2.db"])
        #expect(collector.parts.map(\.bytes) == contents)
        #expect(manifest.parts.map(\.byteCount) == contents.map { Int64($0.count) })
        #expect(manifest.parts[2].sha256 == Digest.hex(Digest.sha256(contents[2])))
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == ["test.bak"])
        // The plaintext is nowhere in the file.
        let file = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        #expect(!String(decoding: file, as: UTF8.self).contains("first part"))
        #expect(Self.chunkOffsets(file).count > 10)
    }

    @Test("a wrong key is named as such, before any chunk is tried")
    func wrongKey() throws {
        let directory = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (path, _) = try Self.makeFile(in: directory)
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        let other = try BackupKey(secret: SecureRandom.bytes(count: 32))
        #expect(Self.refusal(bytes, key: other, in: directory)?.kind == .wrongKey)
        // An altered salt or key check reads as a key that does not open the file.
        for offset in [20, 60] {
            var damaged = bytes
            damaged[offset] ^= 0x01
            #expect(Self.refusal(damaged, in: directory)?.kind == .wrongKey, "offset \(offset)")
        }
        #expect(throws: BackupError.self) { try BackupKey(secret: Array(repeating: 1, count: 31)) }
    }

    @Test("one flipped bit in any chunk's flag, length, ciphertext or tag names that chunk")
    func tamperedByte() throws {
        let directory = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (path, _) = try Self.makeFile(in: directory)
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        let offsets = Self.chunkOffsets(bytes)
        for (index, start) in offsets.enumerated() where index % 3 == 0 || index == offsets.count - 1 {
            let end = index + 1 < offsets.count ? offsets[index + 1] : bytes.count
            for offset in [start, start + 4, start + 5, (start + end) / 2, end - 1] {
                var damaged = bytes
                damaged[offset] ^= 0x10
                let error = Self.refusal(damaged, in: directory)
                #expect(error?.kind == .tamperedChunk || error?.kind == .truncated, "chunk \(index), offset \(offset)")
                if offset != start + 4 {
                    #expect(error?.description.contains("chunk \(index) ") == true, "\(String(describing: error))")
                }
            }
        }
        // The version and chunk-size fields are covered by the key check.
        var damaged = bytes
        damaged[13] ^= 0x01
        #expect(Self.refusal(damaged, in: directory)?.kind == .wrongKey)
    }

    @Test("swapped or repeated chunks fail at the first chunk out of place")
    func reordered() throws {
        let directory = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (path, _) = try Self.makeFile(in: directory)
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        let offsets = Self.chunkOffsets(bytes)
        // Full chunks have equal lengths, so chunks 2 and 3 can change places without changing any offset.
        let chunk2 = Array(bytes[offsets[2]..<offsets[3]]), chunk3 = Array(bytes[offsets[3]..<offsets[4]])
        #expect(chunk2.count == chunk3.count)
        let swapped = Array(bytes[..<offsets[2]]) + chunk3 + chunk2 + Array(bytes[offsets[4]...])
        let error = Self.refusal(swapped, in: directory)
        #expect(error?.kind == .tamperedChunk)
        #expect(error?.description.hasPrefix("chunk 2 ") == true)
        let repeated = Array(bytes[..<offsets[3]]) + chunk2 + Array(bytes[offsets[3]...])
        #expect(Self.refusal(repeated, in: directory)?.description.hasPrefix("chunk 3 ") == true)
    }

    @Test("a file cut anywhere, or without its final chunk, is truncated; bytes after the end are refused")
    func truncatedAndAppended() throws {
        let directory = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (path, _) = try Self.makeFile(in: directory)
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        let offsets = Self.chunkOffsets(bytes)
        // At a chunk boundary: every chunk present is intact, only the end is missing.
        let atBoundary = Self.refusal(Array(bytes[..<offsets.last!]), in: directory)
        #expect(atBoundary?.kind == .truncated)
        #expect(atBoundary?.description.contains("without the final chunk") == true)
        for cut in [40, 80, 83, offsets[1] + 100, bytes.count - 1] {
            #expect(Self.refusal(Array(bytes[..<cut]), in: directory)?.kind == .truncated, "cut at \(cut)")
        }
        #expect(Self.refusal(bytes + [0], in: directory)?.kind == .trailingData)
        // A final chunk from another file (same key) does not fit this one.
        try FileManager.default.createDirectory(atPath: directory + "/other", withIntermediateDirectories: true)
        let (otherPath, _) = try Self.makeFile(in: directory + "/other", chunkSize: 4096)
        let other = try [UInt8](Data(contentsOf: URL(fileURLWithPath: otherPath)))
        let spliced = Array(bytes[..<offsets.last!]) + Array(other[Self.chunkOffsets(other).last!...])
        #expect(Self.refusal(spliced, in: directory)?.kind == .tamperedChunk)
        #expect(Self.refusal(Array("hello".utf8), in: directory)?.kind == .notABackup)
    }

    @Test("a manifest that does not describe the stream is refused, naming the part and what differs")
    func manifestMismatch() throws {
        let directory = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let rows = Array("1\tone\n2\ttwo\n".utf8)
        // Each case: how the manifest is falsified, and what the refusal must name.
        let cases: [(String, (inout BackupManifest.Part) -> Void, String)] = [
            ("name", { $0.name = "other" }, "the manifest lists"),
            ("bytes", { $0.byteCount += 1 }, "12 bytes, the manifest says 13"),
            ("sha256", { $0.sha256 = String(repeating: "0", count: 64) }, "SHA-256 differs"),
            ("rows", { $0.tables = [.init(name: "t", rows: 3)] }, "2 rows, the manifest says 3"),
        ]
        for (name, falsify, message) in cases {
            let path = directory + "/\(name).bak"
            let writer = try BackupWriter(path: path, key: try Self.key())
            try writer.beginPart("mcp_documents.t")
            try writer.write(rows)
            let digest = writer.endPart()
            var part = BackupManifest.Part(
                name: "mcp_documents.t", kind: "postgres-table", byteCount: digest.byteCount, sha256: digest.sha256,
                tables: [.init(name: "t", rows: 2)], columns: ["n", "word"])
            falsify(&part)
            try writer.finish(
                manifest: BackupManifest(
                    store: "postgresql", createdAtMicroseconds: 1, schemaVersions: [], parts: [part]))
            let error = #expect(throws: BackupError.self, "\(name)") {
                try BackupReader.read(path: path, key: try Self.key())
            }
            #expect(error?.kind == .manifestMismatch, "\(name)")
            #expect(error?.description.contains(message) == true, "\(name): \(String(describing: error))")
        }
    }
}
