import Net
import PortalCore
import RESP

/// One loop's connection to Redis: a `ClientStream`, a parser and the FIFO of commands awaiting replies.
///
/// States: no stream (and maybe a backoff until `retryAt`), or a stream that is opening (handshake replies
/// outstanding) or ready. Loop thread only; the loop's local storage keeps it.
final class RedisConnection: ClientStreamDelegate {
    private unowned let loop: EventLoop
    private let client: RedisClient
    private var stream: ClientStream?
    private var parser: RESPParser
    private var pending = RedisPendingQueue()
    /// Handshake replies (`AUTH`, `SELECT`) still expected on the current stream.
    private var handshakeLeft = 0
    /// Until the stream is open and its handshake answered: the moment it counts as timed out.
    private var connectDeadline: UInt64 = 0
    private var opened = false
    /// No reconnect before this monotonic instant; and the wait to apply after the next failure.
    private var retryAt: UInt64 = 0
    private var backoff: UInt64
    private var timer: TimerID?
    private let clock = SystemClock()

    init(loop: EventLoop, client: RedisClient) {
        self.loop = loop
        self.client = client
        self.parser = RESPParser()
        self.backoff = client.configuration.reconnectBackoffMinimumNanoseconds
    }

    private var configuration: RedisConfiguration { client.configuration }
    private var ready: Bool { opened && handshakeLeft == 0 }

    func send(_ command: RESPCommand, completion: @escaping RedisCompletion) {
        let now = clock.monotonicNanoseconds()
        if stream == nil {
            // A dead server costs nothing while the backoff runs: refused without I/O.
            guard now >= retryAt else { return completion(.failure(RedisError(.unavailable, detail: "backoff"))) }
            if let error = open(now: now) { return completion(.failure(error)) }
        }
        guard let stream, pending.count < configuration.maxPendingCommands else {
            return completion(.failure(RedisError(.overloaded)))
        }
        let base = ready ? now : connectDeadline
        pending.append(
            RedisPending(
                role: .command, deadline: base &+ configuration.commandTimeoutNanoseconds,
                completion: completion))
        stream.write(command.bytes)
        armTimer(now: now)
    }

    /// Opens a stream and pipelines the handshake; nil on success.
    private func open(now: UInt64) -> RedisError? {
        do {
            stream = try ClientStream.connect(
                to: client.address, tls: configuration.tls, host: configuration.host, on: loop, delegate: self)
        } catch {
            noteFailure(now: now)
            return Self.error(from: error)
        }
        parser = RESPParser()
        opened = false
        connectDeadline = now &+ configuration.connectTimeoutNanoseconds
        if let password = configuration.password {
            var auth = RESPCommand(argumentCount: configuration.username == nil ? 2 : 3)
            auth.append("AUTH")
            if let username = configuration.username { auth.append(username) }
            auth.append(password.bytes)
            handshake(auth, role: .auth)
        }
        if configuration.database != 0 {
            handshake(RESPCommand(["SELECT", String(configuration.database)]), role: .select)
        }
        armTimer(now: now)
        return nil
    }

    private func handshake(_ command: RESPCommand, role: RedisPending.Role) {
        handshakeLeft += 1
        pending.append(RedisPending(role: role, deadline: connectDeadline, completion: nil))
        stream?.write(command.bytes)
    }

    // MARK: Stream events

    func streamDidOpen(_ stream: ClientStream) {
        opened = true
        if handshakeLeft == 0 { backoff = configuration.reconnectBackoffMinimumNanoseconds }
    }

    func stream(_ stream: ClientStream, didReceive bytes: UnsafeRawBufferPointer) {
        parser.feed(bytes)
        while self.stream === stream {
            let value: RESPValue?
            do {
                value = try parser.next()
            } catch {
                return fail(RedisError(.protocolError, detail: error.description))
            }
            guard let value else { return }
            // Out-of-band messages answer no command.
            if case .push = value { continue }
            guard let head = pending.popFirst() else {
                return fail(RedisError(.protocolError, detail: "a reply no command asked for"))
            }
            deliver(value, to: head)
        }
    }

    private func deliver(_ value: RESPValue, to head: RedisPending) {
        if case .error(let text) = value {
            let code = RedisError.code(ofErrorReply: text)
            switch head.role {
            case .auth: return fail(RedisError(.authenticationFailed, code: code))
            case .select: return fail(RedisError(.selectFailed, code: code))
            case .command: head.completion?(.failure(RedisError(.errorReply, code: code)))
            }
            return
        }
        switch head.role {
        case .auth, .select:
            handshakeLeft -= 1
            if ready { backoff = configuration.reconnectBackoffMinimumNanoseconds }
        case .command:
            head.completion?(.success(value))
        }
    }

    func stream(_ stream: ClientStream, didCloseWith error: ClientStreamError) {
        guard self.stream === stream else { return }
        // A server that closes an idle, healthy connection (a restart, a timeout) is met again at once.
        if error.kind == .closedByPeer && pending.isEmpty && ready {
            self.stream = nil
            retryAt = 0
            cancelTimer()
            return
        }
        fail(Self.error(from: error))
    }

    private static func error(from error: ClientStreamError) -> RedisError {
        switch error.kind {
        case .connectRefused, .connectFailed: RedisError(.connectFailed, detail: error.description)
        case .tlsFailed: RedisError(.tlsFailed, detail: error.detail)
        case .closedByPeer, .ioFailed, .writeBufferFull: RedisError(.connectionLost, detail: error.description)
        }
    }

    // MARK: Failure and timeouts

    /// Closes the stream, starts the backoff and fails every waiting command with `error`.
    private func fail(_ error: RedisError) {
        stream?.close()
        stream = nil
        cancelTimer()
        noteFailure(now: clock.monotonicNanoseconds())
        handshakeLeft = 0
        opened = false
        for waiting in pending.removeAll() { waiting.completion?(.failure(error)) }
    }

    private func noteFailure(now: UInt64) {
        retryAt = now &+ backoff
        backoff = min(backoff &* 2, configuration.reconnectBackoffMaximumNanoseconds)
    }

    /// Closes the connection for good (client shutdown).
    func shutdown() {
        stream?.close()
        stream = nil
        cancelTimer()
        for waiting in pending.removeAll() {
            waiting.completion?(.failure(RedisError(.connectionLost, detail: "client closed")))
        }
    }

    /// One timer at a time, for the earliest deadline; it re-arms itself while commands wait.
    private func armTimer(now: UInt64) {
        guard timer == nil, stream != nil else { return }
        var next = pending.earliestDeadline ?? UInt64.max
        if !ready { next = min(next, connectDeadline) }
        guard next != UInt64.max else { return }
        timer = loop.scheduleTimer(afterNanoseconds: next > now ? next - now : 0) { [weak self] in
            self?.checkDeadlines()
        }
    }

    private func checkDeadlines() {
        timer = nil
        let now = clock.monotonicNanoseconds()
        if !ready && now >= connectDeadline {
            return fail(RedisError(.timeout, detail: "connect"))
        }
        if let earliest = pending.earliestDeadline, earliest <= now {
            return fail(RedisError(.timeout, detail: "reply"))
        }
        armTimer(now: now)
    }

    private func cancelTimer() {
        if let timer { loop.cancelTimer(timer) }
        timer = nil
    }
}
