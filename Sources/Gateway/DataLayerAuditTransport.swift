import Audit
import Dispatch
import HTTPCodec
import Net
import PortalCore
import Synchronization

/// Ships audit records to the data layer's `POST /api/v1/audit-records`, presenting the gateway's service key.
///
/// Blocking: each call sends one request through the pooled `UpstreamClient` on `loop` and waits for the
/// answer on the calling thread (the shipper's own, never an event loop), at most `timeoutNanoseconds`.
public final class DataLayerAuditTransport: AuditBatchTransport {
    private let address: UpstreamAddress
    private let serviceKey: String
    private let client: UpstreamClient
    private let loop: EventLoop
    private let timeoutNanoseconds: UInt64

    /// - Parameters:
    ///   - address: the data layer (`DATA_LAYER_HOST:DATA_LAYER_PORT`).
    ///   - serviceKey: sent as `X-Service-Key` (`GATEWAY_L01_API_KEY`).
    ///   - timeoutNanoseconds: the whole exchange; default 10 s.
    public init(
        address: UpstreamAddress, serviceKey: String, client: UpstreamClient, loop: EventLoop,
        timeoutNanoseconds: UInt64 = 10_000_000_000
    ) {
        self.address = address
        self.serviceKey = serviceKey
        self.client = client
        self.loop = loop
        self.timeoutNanoseconds = timeoutNanoseconds
    }

    public func head(source: String) throws(AuditShipError) -> UInt64 {
        let target = "/api/v1/audit-records/head?source=" + source
        let response = try exchange(HTTPRequest(method: "GET", target: target, headers: headers(json: false)))
        return try lastSequence(in: response)
    }

    public func send(source: String, lines: [[UInt8]]) throws(AuditShipError) -> UInt64 {
        var body: [UInt8] = Array("{\"source\":".utf8)
        JSONEscaping.appendQuoted(source, to: &body)
        body += Array(",\"records\":[".utf8)
        for (index, line) in lines.enumerated() {
            if index > 0 { body.append(UInt8(ascii: ",")) }
            JSONEscaping.appendQuoted(String(decoding: line, as: UTF8.self), to: &body)
        }
        body += Array("]}".utf8)
        let request = HTTPRequest(
            method: "POST", target: "/api/v1/audit-records", headers: headers(json: true), body: body)
        return try lastSequence(in: try exchange(request))
    }

    private func headers(json: Bool) -> HTTPHeaders {
        var headers = HTTPHeaders()
        headers.add("Host", address.description)
        headers.add("X-Service-Key", serviceKey)
        if json { headers.add("Content-Type", "application/json") }
        return headers
    }

    /// Sends `request` and waits for the answer; maps failures to the shipper's kinds.
    private func exchange(_ request: HTTPRequest) throws(AuditShipError) -> HTTPResponse {
        let outcome = Mutex<Result<HTTPResponse, UpstreamError>?>(nil)
        let done = DispatchSemaphore(value: 0)
        client.execute(request, to: address, on: loop, timeoutNanoseconds: timeoutNanoseconds) { result in
            outcome.withLock { $0 = result }
            done.signal()
        }
        // The client's own timer ends the exchange; this wait only guards against a stopped loop.
        guard done.wait(timeout: .now() + .nanoseconds(Int(timeoutNanoseconds) + 1_000_000_000)) == .success,
            let result = outcome.withLock({ $0 })
        else { throw AuditShipError(.unavailable, detail: "no answer") }
        switch result {
        case .failure(let error): throw AuditShipError(.unavailable, detail: error.label)
        case .success(let response): return response
        }
    }

    /// `last_sequence` from a 200 answer, or the error its status and code mean.
    private func lastSequence(in response: HTTPResponse) throws(AuditShipError) -> UInt64 {
        let document = try? JSONParser(maximumDepth: 4).parse(response.body)
        guard response.status == 200 else {
            let code = document?["error"]?["code"]?.stringValue ?? ""
            let detail = "HTTP \(response.status) \(code)"
            switch (response.status, code) {
            case (409, "E9351"): throw AuditShipError(.gap, detail: detail)
            case (409, _): throw AuditShipError(.conflict, detail: detail)
            case (500..., _): throw AuditShipError(.unavailable, detail: detail)
            default: throw AuditShipError(.rejected, detail: detail)
            }
        }
        guard let text = document?["last_sequence"]?.numberValue?.text, let sequence = UInt64(text) else {
            throw AuditShipError(.rejected, detail: "an answer without last_sequence")
        }
        return sequence
    }
}
