import Config

#if canImport(Glibc)
    import Glibc
#endif

/// Dispatches `portal <command>`; every failure is one line on stderr and a non-zero exit status.
enum PortalCLI {
    static let usage = """
        Usage: portal <command> [options]

        Story Portal: the security-hardened gateway (L09) and data layer (L01).

        Commands:
          serve            Run the gateway, the data layer and the admin listener in one process.
          gateway          Run the gateway and the admin listener only (the data layer runs elsewhere).
          data-layer       Run the data layer only.
          token issue      Print a signed access token (HS256, key from JWT_SECRET).
          user             Add, list, disable users and change passwords (argon2id).
          key              Create, rotate, revoke and list API keys of services.
          cert self-signed Write a development key and certificate (EC P-256, SAN) for TLS.
          audit verify     Check the audit trail's chain and signed checkpoints; name the first broken record.
          audit tail       Print the last audit records, and with -f the new ones as they are written.
          audit search     Find audit records the store holds by type, subject, outcome, time or gateway.
          db init          Prepare a PostgreSQL database: schema, roles l01_service/l09_service, grants.
          backup           Create, verify and restore encrypted backups of the store (AES-256-GCM).
          erase            Erase a data subject: destroy its data keys, overwrite its events (right to erasure).
          master-key rotate
                           Re-wrap the data keys of PORTAL_MASTER_KEY_PREVIOUS under PORTAL_MASTER_KEY.
          help             Show this text.

        Settings come from the environment and an optional .env file; see README.md.
        Run `portal <command> --help` for a command's options.
        """

    /// Runs the command in `arguments` and returns the process exit status.
    static func run(_ arguments: [String]) -> Int32 {
        guard let command = arguments.first else {
            printError(usage)
            return 2
        }
        let rest = Array(arguments.dropFirst())
        // Every file any command creates (stores, secrets, keys, audit trail, backups) is its user's alone;
        // a file meant for others (a certificate) is widened explicitly.
        umask(0o077)
        do {
            switch command {
            case "serve": return try ServeCommand.run(rest, parts: .all)
            case "gateway": return try ServeCommand.run(rest, parts: .gatewayOnly)
            case "data-layer": return try ServeCommand.run(rest, parts: .dataLayerOnly)
            case "token": return try TokenCommand.run(rest)
            case "user": return try UserCommand.run(rest)
            case "key": return try KeyCommand.run(rest)
            case "cert": return try CertCommand.run(rest)
            case "audit": return try AuditCommand.run(rest)
            case "db": return try DBCommand.run(rest)
            case "backup": return try BackupCommand.run(rest)
            case "erase": return try EraseCommand.run(rest)
            case "master-key": return try MasterKeyCommand.run(rest)
            case "help", "--help", "-h":
                printOut(usage)
                return 0
            default:
                throw UsageError("unknown command '\(command)'; run `portal --help`")
            }
        } catch let error as UsageError {
            printError("portal: \(error.description)")
            return 2
        } catch let error as ConfigError {
            printError("portal: \(error.description)")
            return 2
        } catch let error as PortalRuntime.StartError where error.badSetting {
            printError("portal: \(error.description)")
            return 2
        } catch let error as SigningSecret.Failure where error.badSetting {
            printError("portal: \(error.description)")
            return 2
        } catch {
            printError("portal: \(error)")
            return 1
        }
    }

    /// Writes `text` and a newline to standard output.
    static func printOut(_ text: String) {
        writeAll(1, text + "\n")
    }

    /// Writes `text` and a newline to standard error (fd 2: Swift 6 cannot touch C's `stderr`).
    static func printError(_ text: String) {
        writeAll(2, text + "\n")
    }

    /// Writes `text` to standard error without a newline (a prompt).
    static func writeError(_ text: String) {
        writeAll(2, text)
    }

    private static func writeAll(_ fd: Int32, _ text: String) {
        var bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeMutableBytes { write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { return }
            offset += n
        }
    }
}
