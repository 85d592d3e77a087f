import Audit
import Config
import Crypto
import Foundation

/// `portal audit verify`: checks the audit file's chain and checkpoints and names the first broken record.
enum AuditCommand {
    static let usage = """
        Usage: portal audit verify [--file PATH] [--from SEQ] [--public-key PEM] [--in file|store] [--source ID]
               portal audit tail [--file PATH] [--lines N] [-f|--follow]
               portal audit search [--type T] [--subject S] [--outcome O] [--since TIME] [--until TIME]
                                   [--source ID] [--limit N]

        Checks every record of the audit file (AUDIT_LOG_DESTINATION, default $PORTAL_DATA_DIR/audit.log):
        its HMAC under AUDIT_HMAC_KEY, its sequence, and its link to the record before; and every signed
        checkpoint in the file beside it (<file>.checkpoints), which also finds records cut off the end.
        Exit status 0 when all is intact, 1 naming the first edited, deleted, reordered or missing record.

        Options:
          --file PATH        The audit file; default AUDIT_LOG_DESTINATION.
          --from SEQ         Start at record SEQ, trusting its link to the record before; default 1.
          --public-key PEM   Verify checkpoints with this public key; default the public half of
                             AUDIT_SIGNING_KEY_FILE (or of the development key in $PORTAL_DATA_DIR).
          --in store         Check the records the data layer's store holds (DATABASE_URL or the SQLite
                             store in PORTAL_DATA_DIR) instead of the file, with the file's checkpoints
                             up to the last stored record.
          --source ID        With --in store: the gateway whose chain to check; default this data
                             directory's instance_id.

        tail prints the last records of the audit file (default 10; from the retired, zlib-compressed files
        too when the current one holds fewer), and with -f the new ones as they are synced. verify walks the
        retired files and the current one in chain order. search prints the records the store holds
        (DATABASE_URL or the SQLite store in PORTAL_DATA_DIR) that match every filter given, as JSON lines
        {"source","record"}, oldest first per gateway, at most --limit (default 1000). TIME is RFC 3339 UTC,
        e.g. 2026-12-04T16:00:00Z; --since is inclusive, --until exclusive; --outcome is success, failure or
        denied.
        """

    static func run(_ raw: [String]) throws -> Int32 {
        switch raw.first {
        case "tail": return try tail(Array(raw.dropFirst()))
        case "search": return try search(Array(raw.dropFirst()))
        default: break
        }
        let args = try Arguments(raw, valued: ["file", "from", "public-key", "in", "source"])
        if args.wantsHelp || args.positionals.isEmpty {
            PortalCLI.printOut(usage)
            return args.wantsHelp ? 0 : 2
        }
        guard args.positionals == ["verify"] else {
            throw UsageError("unknown audit command; run `portal audit --help`")
        }
        var from: UInt64 = 1
        if let text = args.options["from"] {
            guard let value = UInt64(text), value >= 1 else { throw UsageError("--from: expected a sequence from 1") }
            from = value
        }
        let settings = try PortalSettings.load(from: Environment.load())
        let path = args.options["file"] ?? settings.auditLogDestination
        let verifier = AuditVerifier(
            chainKey: try AuditKeys.chainKey(settings), checkpointKey: try checkpointKey(args, settings))
        switch args.options["in"] ?? "file" {
        case "file": break
        case "store": return try verifyStore(verifier, args: args, settings: settings, from: from)
        default: throw UsageError("--in: expected file or store")
        }
        do {
            let report = try verifier.verify(file: path, from: from)
            if args.options["file"] == nil, let cut = storeReachesPastFile(report.lastSequence, settings: settings) {
                PortalCLI.printError("portal: audit verify: \(path): \(cut)")
                return 1
            }
            // The chain's first record must be here unless --from says where to start or retention retired the
            // oldest files: otherwise a cut head (records deleted from the start) would pass unnoticed.
            var retired = ""
            if args.options["from"] == nil, let first = report.firstSequence, first > 1 {
                let missing = first == 2 ? "record 1" : "records 1-\(first - 1)"
                guard settings.audit.retentionDays > 0 else {
                    PortalCLI.printError(
                        "portal: audit verify: \(path): \(missing) missing: the trail starts at record \(first) and "
                            + "AUDIT_RETENTION_DAYS retires no files (check from there with --from \(first))")
                    return 1
                }
                retired = "; \(missing) retired by AUDIT_RETENTION_DAYS"
            }
            let range = report.firstSequence.map { "records \($0)-\(report.lastSequence ?? $0)" } ?? "no records"
            let marks = report.lastCheckpointSequence.map { ", the last at record \($0)" } ?? ""
            PortalCLI.printOut(
                "ok: \(path): \(report.records) records (\(range)), \(report.checkpoints) checkpoints\(marks)\(retired)"
            )
            return 0
        } catch {
            PortalCLI.printError("portal: audit verify: \(path): \(error.description)")
            return 1
        }
    }

    private static func checkpointKey(_ args: Arguments, _ settings: PortalSettings) throws -> AuditCheckpointKey {
        guard let path = args.options["public-key"] else { return try AuditKeys.signer(settings).verificationKey }
        guard let data = FileManager.default.contents(atPath: path),
            let key = try? PublicKey(pem: String(decoding: data, as: UTF8.self))
        else { throw UsageError("--public-key: \(path) is not a readable PEM public key") }
        do {
            return try AuditCheckpointKey(publicKey: key)
        } catch {
            throw UsageError("--public-key: \(error.reason)")
        }
    }
}
