import HTTPCodec
import PortalCore
import Store

/// The audit routes: where gateways ship the records of their audit files.
///
/// - `POST /api/v1/audit-records` with `{"source","records":[lines]}` → 200
///   `{"source","inserted","duplicates","last_sequence"}`. Idempotent by (source, sequence): a batch sent
///   again after a lost answer inserts nothing twice. 409 `E9351` when records before the batch are missing
///   (the shipper then asks for the head and resends from there), 409 `E9352` when the batch contradicts what
///   is stored. Validation failures are 400 naming `records[i].<member>`.
/// - `GET /api/v1/audit-records/head?source=ID` → 200 `{"source","last_sequence","last_hash"}` (0 and null
///   when nothing is stored): where a shipper resumes after a restart.
extension DataLayerRouter {
    func routeAudit(_ request: HTTPRequest) throws -> HTTPResponse {
        guard let auditRecords else { throw DataLayerError.notFound }
        if request.path == Self.auditPath {
            guard request.method == "POST" else { throw DataLayerError.methodNotAllowed("POST") }
            return try appendAudit(request, to: auditRecords)
        }
        guard request.path == Self.auditPath + "/head" else { throw DataLayerError.notFound }
        guard request.method == "GET" else { throw DataLayerError.methodNotAllowed("GET") }
        return try head(request, in: auditRecords)
    }

    private func appendAudit(_ request: HTTPRequest, to auditRecords: any AuditRecordStore) throws -> HTTPResponse {
        if let name = try QueryParameters(request.query).pairs.first?.name {
            throw DataLayerError.unknownParameter(name)
        }
        guard Self.isJSONContentType(request.headers.all("Content-Type")) else {
            throw DataLayerError.unsupportedMediaType
        }
        guard request.body.count <= configuration.maxBodyBytes else { throw DataLayerError.bodyTooLarge }
        let batch = try AuditBatchValidator.validate(request.body)
        let result = try auditRecords.appendAuditRecords(batch)
        var body: [UInt8] = Array("{\"source\":".utf8)
        JSONEscaping.appendQuoted(batch.source, to: &body)
        body += Array(",\"inserted\":\(result.inserted),\"duplicates\":\(result.duplicates),".utf8)
        body += Array("\"last_sequence\":\(result.lastSequence)}".utf8)
        return .json(status: 200, body: body)
    }

    private func head(_ request: HTTPRequest, in auditRecords: any AuditRecordStore) throws -> HTTPResponse {
        var source: String?
        for (name, value) in try QueryParameters(request.query).pairs {
            guard name == "source" else { throw DataLayerError.unknownParameter(name) }
            source = value
        }
        guard let source else { throw DataLayerError.invalidParameter("source", "is required") }
        guard AuditBatchValidator.isValidSource(source) else {
            throw DataLayerError.invalidParameter("source", "must be 1-64 of [A-Za-z0-9._:-]")
        }
        let head = try auditRecords.auditHead(source: source)
        var body: [UInt8] = Array("{\"source\":".utf8)
        JSONEscaping.appendQuoted(source, to: &body)
        body += Array(",\"last_sequence\":\(head?.sequence ?? 0),\"last_hash\":".utf8)
        if let hash = head?.hash { JSONEscaping.appendQuoted(hash, to: &body) } else { body += Array("null".utf8) }
        body.append(UInt8(ascii: "}"))
        return .json(status: 200, body: body)
    }
}
