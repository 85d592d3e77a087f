import PortalCore
import Store

/// Writes stored events as the L01 API's JSON, straight to bytes.
enum EventJSON {
    /// `{"id","event_type","aggregate_type","aggregate_id","payload","metadata","created_at","version"}`, and
    /// `"erased":true` (payload and metadata `null`) for an event whose subject was erased.
    ///
    /// Payload and metadata are embedded as stored (opened when sealed): the API wrote them from a parsed document.
    static func append(_ event: StoredEvent, to out: inout [UInt8]) {
        out.append(contentsOf: Array("{\"id\":".utf8))
        JSONEscaping.appendQuoted(event.id, to: &out)
        out.append(contentsOf: Array(",\"event_type\":".utf8))
        JSONEscaping.appendQuoted(event.eventType, to: &out)
        out.append(contentsOf: Array(",\"aggregate_type\":".utf8))
        JSONEscaping.appendQuoted(event.aggregateType, to: &out)
        out.append(contentsOf: Array(",\"aggregate_id\":".utf8))
        JSONEscaping.appendQuoted(event.aggregateID, to: &out)
        out.append(contentsOf: Array(",\"payload\":".utf8))
        out.append(contentsOf: Array(event.payloadJSON.utf8))
        out.append(contentsOf: Array(",\"metadata\":".utf8))
        out.append(contentsOf: Array(event.metadataJSON.utf8))
        out.append(contentsOf: Array(",\"created_at\":".utf8))
        JSONEscaping.appendQuoted(RFC3339.format(unixMicroseconds: event.createdAtMicroseconds), to: &out)
        out.append(contentsOf: Array(",\"version\":\(event.version)".utf8))
        if event.erased { out.append(contentsOf: Array(",\"erased\":true".utf8)) }
        out.append(UInt8(ascii: "}"))
    }

    /// One event as a JSON document.
    static func encode(_ event: StoredEvent) -> [UInt8] {
        var out: [UInt8] = []
        append(event, to: &out)
        return out
    }

    /// `{"events":[...],"next_after":"<cursor>"|null}`.
    static func encode(_ page: EventPage) -> [UInt8] {
        var out: [UInt8] = Array("{\"events\":[".utf8)
        for (index, event) in page.events.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            append(event, to: &out)
        }
        out.append(contentsOf: Array("],\"next_after\":".utf8))
        if let next = page.nextAfterSequence {
            JSONEscaping.appendQuoted(PageCursor.encode(next), to: &out)
        } else {
            out.append(contentsOf: Array("null".utf8))
        }
        out.append(UInt8(ascii: "}"))
        return out
    }
}

/// The `after` cursor of event listing: opaque to callers, today the decimal sequence number.
enum PageCursor {
    static func encode(_ sequence: Int64) -> String { String(sequence) }

    /// The sequence in a cursor: 1 to 18 digits, so it always fits an `Int64`.
    static func decode(_ text: String) -> Int64? {
        let bytes = Array(text.utf8)
        guard (1...18).contains(bytes.count), bytes.allSatisfy({ (0x30...0x39).contains($0) }) else { return nil }
        return Int64(text)
    }
}
