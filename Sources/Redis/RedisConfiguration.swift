import Net

/// A password or ACL user's password for `AUTH`; printing it shows `<redacted>`.
public struct RedisPassword: Sendable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    let bytes: [UInt8]

    /// Wraps the password's text.
    public init(_ text: String) {
        bytes = Array(text.utf8)
    }

    public var description: String { "<redacted>" }
    public var debugDescription: String { "<redacted>" }
    public var customMirror: Mirror { Mirror(self, children: [], displayStyle: .struct) }
}

/// Where the Redis server is and how to talk to it; validated settings, built once.
public struct RedisConfiguration: Sendable {
    /// Host name or IP literal; with TLS, the server's certificate must name it.
    public var host: String
    /// TCP port; default 6379.
    public var port: Int
    /// ACL user for `AUTH user password`; nil sends `AUTH password` (the default user).
    public var username: String?
    /// Password for `AUTH`; nil sends no `AUTH`.
    public var password: RedisPassword?
    /// Database index for `SELECT`, 0 through 15 on a default server; 0 sends no `SELECT`.
    public var database: Int
    /// TLS with server verification (`rediss://`); nil for plain TCP.
    public var tls: TLSClientContext?
    /// How long connecting, the TLS handshake and `AUTH`/`SELECT` may take, in nanoseconds; default 2 s.
    public var connectTimeoutNanoseconds: UInt64
    /// How long a command may wait for its reply on an open connection, in nanoseconds; default 500 ms.
    /// Past it the connection is taken for stuck: it closes and every waiting command fails with `.timeout`.
    public var commandTimeoutNanoseconds: UInt64
    /// Commands that may wait for replies on one loop's connection; beyond it `.overloaded`; default 10,000.
    public var maxPendingCommands: Int
    /// First wait before reconnecting after a failure, in nanoseconds; doubled per failure; default 50 ms.
    public var reconnectBackoffMinimumNanoseconds: UInt64
    /// Longest wait before reconnecting, in nanoseconds; default 1 s.
    public var reconnectBackoffMaximumNanoseconds: UInt64

    /// A configuration with the documented defaults, each overridable.
    public init(
        host: String, port: Int = 6379, username: String? = nil, password: RedisPassword? = nil, database: Int = 0,
        tls: TLSClientContext? = nil, connectTimeoutNanoseconds: UInt64 = 2_000_000_000,
        commandTimeoutNanoseconds: UInt64 = 500_000_000, maxPendingCommands: Int = 10_000,
        reconnectBackoffMinimumNanoseconds: UInt64 = 50_000_000,
        reconnectBackoffMaximumNanoseconds: UInt64 = 1_000_000_000
    ) {
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.database = database
        self.tls = tls
        self.connectTimeoutNanoseconds = connectTimeoutNanoseconds
        self.commandTimeoutNanoseconds = commandTimeoutNanoseconds
        self.maxPendingCommands = maxPendingCommands
        self.reconnectBackoffMinimumNanoseconds = reconnectBackoffMinimumNanoseconds
        self.reconnectBackoffMaximumNanoseconds = reconnectBackoffMaximumNanoseconds
    }
}
