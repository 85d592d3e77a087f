/// `REDIS_URL`: `redis://[[user]:password@]host[:port][/db]`, or `rediss://` for TLS.
///
/// User and password are percent-decoded; an IPv6 host is written in brackets. Nothing else is accepted
/// (no query, no fragment, no path past the database). Errors never quote the URL: it may hold a password.
enum RedisURL {
    static func parse(_ text: String) throws(ConfigError) -> RedisSettings {
        let tls: Bool
        var rest: Substring
        if text.hasPrefix("redis://") {
            tls = false
            rest = text.dropFirst(8)
        } else if text.hasPrefix("rediss://") {
            tls = true
            rest = text.dropFirst(9)
        } else {
            throw bad("a redis:// or rediss:// URL")
        }
        guard !rest.contains("?"), !rest.contains("#") else { throw bad("no query or fragment in the URL") }

        // Credentials end at the last '@' (a raw '@' in a password is then still read correctly).
        var username: String?
        var password: SecretValue?
        if let at = rest.lastIndex(of: "@") {
            let userInfo = rest[..<at]
            rest = rest[rest.index(after: at)...]
            let colon = userInfo.firstIndex(of: ":")
            let user = try decode(colon.map { userInfo[..<$0] } ?? userInfo)
            if !user.isEmpty { username = user }
            if let colon {
                let secret = try decode(userInfo[userInfo.index(after: colon)...])
                guard !secret.isEmpty else { throw bad("a non-empty password after ':' in the URL") }
                password = SecretValue(secret)
            }
        }

        // Database: one path segment of digits.
        var database = 0
        if let slash = rest.firstIndex(of: "/") {
            let path = rest[rest.index(after: slash)...]
            rest = rest[..<slash]
            if !path.isEmpty {
                guard path.count <= 4, path.allSatisfy(\.isASCIIDigit), let number = Int(path) else {
                    throw bad("a database number from 0 to 9999 after the host")
                }
                database = number
            }
        }
        let (host, port) = try hostAndPort(rest)
        return RedisSettings(
            host: host, port: port, username: username, password: password, database: database, tls: tls)
    }

    private static func hostAndPort(_ text: Substring) throws(ConfigError) -> (String, Int) {
        var host = text
        var portText: Substring?
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { throw bad("a closing ] after an IPv6 host") }
            host = text[text.index(after: text.startIndex)..<close]
            let after = text[text.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw bad("host[:port] in the URL") }
                portText = after.dropFirst()
            }
        } else if let colon = text.lastIndex(of: ":") {
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
        }
        guard !host.isEmpty, HostName.isValid(String(host)) else { throw bad("a host name or IP address in the URL") }
        var port = 6379
        if let portText {
            guard !portText.isEmpty, portText.count <= 5, portText.allSatisfy(\.isASCIIDigit),
                let number = Int(portText),
                (1...65535).contains(number)
            else { throw bad("a port from 1 to 65535 in the URL") }
            port = number
        }
        return (String(host), port)
    }

    /// Percent-decodes user info; a bad escape or a control byte is refused.
    private static func decode(_ text: Substring) throws(ConfigError) -> String {
        var bytes: [UInt8] = []
        var iterator = Array(text.utf8).makeIterator()
        while let byte = iterator.next() {
            guard byte == UInt8(ascii: "%") else {
                bytes.append(byte)
                continue
            }
            guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue) else {
                throw bad("valid %XX escapes in the URL's user and password")
            }
            bytes.append(high << 4 | low)
        }
        guard bytes.allSatisfy({ $0 >= 0x20 && $0 != 0x7F }), let decoded = String(validating: bytes, as: UTF8.self)
        else { throw bad("printable UTF-8 in the URL's user and password") }
        return decoded
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 48...57: byte - 48
        case 65...70: byte - 55
        case 97...102: byte - 87
        default: nil
        }
    }

    private static func bad(_ expected: String) -> ConfigError {
        ConfigError.invalidValue("REDIS_URL", expected: expected, got: "")
    }
}
