import HTTPCodec

/// One client's idle connections on one loop, per upstream. Loop thread only.
final class UpstreamPool {
    let loop: EventLoop
    let configuration: UpstreamClient.Configuration
    let limits: HTTPParserLimits
    private var idle: [UpstreamAddress: [UpstreamConnection]] = [:]
    /// One read buffer for every connection of this pool: reads never overlap on one thread.
    var readBuffer = [UInt8](repeating: 0, count: 64 * 1024)
    /// Response body bytes on their way from a parser to a delegate; taken while in use.
    var bodyScratch: [UInt8] = []

    init(loop: EventLoop, configuration: UpstreamClient.Configuration, limits: HTTPParserLimits) {
        self.loop = loop
        self.configuration = configuration
        self.limits = limits
    }

    /// Sends `exchange` on the most recently idled connection, or on a new one.
    func run(_ exchange: UpstreamStream, allowReuse: Bool) {
        if allowReuse, let connection = idle[exchange.address]?.popLast() {
            connection.begin(exchange, reused: true)
            return
        }
        do {
            let connection = try UpstreamConnection.connect(to: exchange.address, pool: self)
            connection.begin(exchange, reused: false)
        } catch {
            exchange.fail(error)
        }
    }

    /// Keeps `connection` for reuse if there is room, else closes it.
    ///
    /// Appends through the dictionary's storage in place: reading the list out and writing it back would copy
    /// it on every release, because the dictionary still holds a reference while the copy is mutated.
    func release(_ connection: UpstreamConnection) {
        let kept = idle[connection.address]?.count ?? 0
        guard kept < configuration.maxIdlePerUpstream else {
            connection.close()
            return
        }
        idle[connection.address, default: []].append(connection)
        connection.becomeIdle(timeoutNanoseconds: configuration.idleTimeoutNanoseconds)
    }

    /// Forgets an idle connection that closed or timed out.
    func remove(_ connection: UpstreamConnection) {
        idle[connection.address]?.removeAll { $0 === connection }
    }
}
