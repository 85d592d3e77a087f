import Config
import Foundation
import PortalCore
import Store

extension AuditCommand {
    /// `portal audit search`: records the store holds that match every filter, as JSON lines.
    static func search(_ raw: [String]) throws -> Int32 {
        let args = try Arguments(
            raw, valued: ["type", "subject", "outcome", "since", "until", "source", "limit"])
        if args.wantsHelp {
            PortalCLI.printOut(usage)
            return 0
        }
        guard args.positionals.isEmpty else { throw UsageError("audit search takes no positional arguments") }
        var limit = 1000
        if let text = args.options["limit"] {
            guard let value = Int(text), (1...1_000_000).contains(value) else {
                throw UsageError("--limit: expected 1 to 1000000")
            }
            limit = value
        }
        var query = AuditQuery(limit: min(limit, 1000))
        query.type = args.options["type"]
        query.subject = args.options["subject"]
        query.source = args.options["source"]
        if let outcome = args.options["outcome"] {
            guard ["success", "failure", "denied"].contains(outcome) else {
                throw UsageError("--outcome: expected success, failure or denied")
            }
            query.outcome = outcome
        }
        for name in ["since", "until"] {
            guard let text = args.options[name] else { continue }
            guard let micros = AuditQuery.parseTime(text) else {
                throw UsageError("--\(name): expected RFC 3339 UTC, e.g. 2026-12-04T16:00:00Z")
            }
            if name == "since" { query.sinceMicroseconds = micros } else { query.untilMicroseconds = micros }
        }

        // Page through the store until the limit or the last page.
        let settings = try PortalSettings.load(from: Environment.load())
        let (store, _) = try PortalRuntime.makeStore(settings)
        var printed = 0
        while printed < limit {
            query.limit = min(1000, limit - printed)
            let page = try store.searchAuditRecords(query)
            var out = ""
            for found in page.records {
                var line: [UInt8] = Array("{\"source\":".utf8)
                JSONEscaping.appendQuoted(found.source, to: &line)
                out += String(decoding: line, as: UTF8.self) + ",\"record\":" + found.record.line + "}\n"
            }
            if !out.isEmpty { PortalCLI.printOut(String(out.dropLast())) }
            printed += page.records.count
            guard let next = page.next else { break }
            query.after = next
        }
        return 0
    }
}
