import CEpoll
import HTTPCodec

#if canImport(Glibc)
    import Glibc
#endif

/// One server's listener and connections on one loop. Loop thread only.
final class ServerListener: EventLoopSelectable {
    let fd: Int32
    let server: HTTPServer
    let loop: EventLoop
    var connections: [Int32: ServerConnection] = [:]
    var listening = true
    /// One read buffer for every connection of this listener: reads never overlap on one thread.
    var readBuffer = [UInt8](repeating: 0, count: 64 * 1024)
    /// TLS only: plaintext decrypted from one read, or serialized answers before encryption; emptied after use.
    var tlsScratch: [UInt8] = []
    /// Streamed request body bytes on their way from the parser to a handler; taken while in use.
    var bodyScratch: [UInt8] = []

    private init(fd: Int32, server: HTTPServer, loop: EventLoop) {
        self.fd = fd
        self.server = server
        self.loop = loop
    }

    static func start(fd: Int32, server: HTTPServer, loop: EventLoop) {
        let listener = ServerListener(fd: fd, server: server, loop: loop)
        do {
            try loop.register(fd, listener, events: EPOLLIN.rawValue)
            loop.storage[server.id] = listener
        } catch {
            Syscall.close(fd)
            _ = server.openListeners.wrappingSubtract(1, ordering: .releasing)
        }
    }

    func handleEvents(_ events: UInt32) {
        // Accept a bounded batch so one busy listener cannot starve the loop's connections.
        for _ in 0..<64 where listening {
            let (result, peer) = SocketAddress.filling { address, length in
                accept4(fd, address, length, Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue))
            }
            guard result >= 0 else { return }
            let (remoteHost, remotePort) = peer.hostAndPort
            // Past a connection cap the connection is closed before any byte of it is read.
            if server.admit(address: remoteHost) != nil {
                Syscall.close(result)
                continue
            }
            let (_, localAddress) = SocketAddress.filling { getsockname(result, $0, $1) }
            Socket.setNoDelay(result)
            let info = ConnectionInfo(
                remoteAddress: remoteHost, remotePort: remotePort,
                localPort: localAddress.hostAndPort.1, isTLS: server.tls != nil)
            var session: TLSSession?
            if let context = server.tls {
                do {
                    session = try context.makeSession()
                } catch {
                    Syscall.close(result)
                    server.release(address: remoteHost)
                    continue
                }
            }
            let connection = ServerConnection(fd: result, info: info, listener: self, tls: session)
            do {
                try loop.register(result, connection, events: EPOLLIN.rawValue | EPOLLRDHUP.rawValue)
            } catch {
                Syscall.close(result)
                server.release(address: remoteHost)
                continue
            }
            connections[result] = connection
            connection.start()
        }
    }

    func connectionClosed(_ fd: Int32) {
        if let connection = connections.removeValue(forKey: fd) {
            server.release(address: connection.info.remoteAddress)
        }
    }

    static func beginShutdown(server: HTTPServer, loop: EventLoop, graceNanoseconds: UInt64) {
        guard let listener = loop.storage[server.id] as? ServerListener else { return }
        if listener.listening {
            listener.listening = false
            loop.closeDescriptor(listener.fd)
            _ = server.openListeners.wrappingSubtract(1, ordering: .releasing)
        }
        for connection in Array(listener.connections.values) { connection.beginShutdown() }
        loop.scheduleTimer(afterNanoseconds: graceNanoseconds) {
            for connection in Array(listener.connections.values) { connection.close() }
            loop.storage[server.id] = nil
        }
    }
}
