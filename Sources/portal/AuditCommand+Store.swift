import Audit
import Config
import Foundation
import Store

extension AuditCommand {
    /// `portal audit verify --in store`: the chain of one gateway as the data layer's store holds it.
    static func verifyStore(
        _ verifier: AuditVerifier, args: Arguments, settings: PortalSettings, from: UInt64
    ) throws -> Int32 {
        let source = try args.options["source"] ?? instanceID(settings)
        let (store, _) = try PortalRuntime.makeStore(settings)
        // Read in pages, in sequence order, from the record before `from`.
        var lines: [[UInt8]] = []
        var after = Int64(from) - 1
        while true {
            let page = try store.auditRecords(source: source, afterSequence: after, limit: 10_000)
            lines += page.map { Array($0.line.utf8) }
            guard let last = page.last, page.count == 10_000 else { break }
            after = last.sequence
        }
        let path = args.options["file"] ?? settings.auditLogDestination
        let checkpoints = AuditLog.checkpointPath(for: path)
        do {
            let report = try verifier.verify(storedLines: lines, checkpointPath: checkpoints, from: from)
            let range = report.firstSequence.map { "records \($0)-\(report.lastSequence ?? $0)" } ?? "no records"
            PortalCLI.printOut(
                "ok: store, source \(source): \(report.records) records (\(range)), \(report.checkpoints) checkpoints")
            return 0
        } catch {
            PortalCLI.printError("portal: audit verify: store, source \(source): \(error.description)")
            return 1
        }
    }

    /// Why the file cannot be whole when the data layer's store holds this gateway's chain further than the file
    /// reaches: records were cut off its end, perhaps with the checkpoints that would have named them. Nil when
    /// the store agrees, or there is no store here to ask (none is created for the question).
    static func storeReachesPastFile(_ lastSequence: UInt64?, settings: PortalSettings) -> String? {
        let sqlite = settings.portalDataDirectory + "/events.db"
        guard settings.postgres != nil || FileManager.default.fileExists(atPath: sqlite),
            let source = try? instanceID(settings),
            let store = try? PortalRuntime.makeStore(settings).store,
            let head = try? store.auditHead(source: source)
        else { return nil }
        let fileEnd = Int64(lastSequence ?? 0)
        guard head.sequence > fileEnd else { return nil }
        return "truncated: the store holds this gateway's records up to \(head.sequence) but the file ends at "
            + (fileEnd == 0 ? "no record" : "record \(fileEnd)")
    }

    /// This data directory's gateway instance id, without creating one.
    private static func instanceID(_ settings: PortalSettings) throws -> String {
        let path = settings.portalDataDirectory + "/instance_id"
        guard let data = FileManager.default.contents(atPath: path) else {
            throw UsageError("--source: no instance_id in PORTAL_DATA_DIR; name the gateway with --source ID")
        }
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
