import Backup
import Config
import Store

/// `portal backup create | verify | restore`: encrypted backups of the store (docs/backup-format.md).
enum BackupCommand {
    static let usage = """
        Usage: portal backup create --out FILE
               portal backup verify FILE
               portal backup restore FILE [--force]

        create   Takes a consistent snapshot of the store and writes it encrypted (AES-256-GCM) to FILE, mode
                 0600, atomically: on SQLite every database of PORTAL_DATA_DIR (events and audit records,
                 credentials, and any other *.db) with SQLite's online backup API, while portal serve runs;
                 on PostgreSQL (DATABASE_URL or POSTGRES_HOST) every table of schema mcp_documents in one
                 REPEATABLE READ transaction (run it with the schema owner's URL, as `portal db init`).
        verify   Decrypts and checks the whole file without writing anything: the key, every chunk, the end of
                 the file, and every part against the manifest. Names what is wrong; exit status 1.
        restore  Verifies the whole file, then writes it: on SQLite into PORTAL_DATA_DIR (refused while a portal
                 process holds the directory, and when it already holds the backup's databases unless --force);
                 on PostgreSQL into an empty schema mcp_documents, or with --force replacing its rows, in one
                 transaction (run it with the schema owner's URL, as for `portal db init`).

        The key is BACKUP_KEY or BACKUP_KEY_FILE: a secret of at least 32 bytes (openssl rand -base64 32).
        Production refuses to run without it. In development, without it, create generates one into
        $PORTAL_DATA_DIR/backup_key (mode 0600); keep a copy elsewhere, or the backup cannot be opened without
        that data directory.

        Errors: E9981 wrong key, E9982 altered chunk, E9983 truncated or appended file, E9984 not a backup or
        manifest mismatch, E9985 refused by the store, E9986 storage failure.
        """

    static func run(_ raw: [String]) throws -> Int32 {
        let args = try Arguments(raw, valued: ["out"], flags: ["force"])
        if args.wantsHelp || args.positionals.isEmpty {
            PortalCLI.printOut(usage)
            return args.wantsHelp ? 0 : 2
        }
        let env = try Environment.load()
        let context = try BackupContext(env)
        switch args.positionals[0] {
        case "create":
            guard args.positionals.count == 1, let out = args.options["out"], !out.isEmpty else {
                throw UsageError("backup create needs --out FILE")
            }
            if let refusal = context.refusal(ofOutput: out) {
                PortalCLI.printError("portal: backup create: E9989 --out \(out): \(refusal)")
                return 1
            }
            return report("backup create", out) {
                let manifest = try StoreBackup.create(
                    from: context.store, to: out, key: try context.key(creating: true))
                PortalCLI.printOut("ok: wrote \(out): " + BackupSummary.describe(manifest))
            }
        case "verify":
            guard args.positionals.count == 2 else { throw UsageError("backup verify needs FILE") }
            let file = args.positionals[1]
            return report("backup verify", file) {
                let manifest = try BackupReader.read(path: file, key: try context.key(creating: false))
                PortalCLI.printOut("ok: \(file): " + BackupSummary.describe(manifest))
            }
        case "restore":
            guard args.positionals.count == 2 else { throw UsageError("backup restore needs FILE") }
            let file = args.positionals[1]
            return report("backup restore", file) {
                let manifest = try StoreRestore.restore(
                    file, key: try context.key(creating: false), into: context.store,
                    force: args.flags.contains("force"),
                    beforeWriting: context.prepareRestore)
                PortalCLI.printOut("ok: restored \(file): " + BackupSummary.describe(manifest))
            }
        default:
            throw UsageError("unknown backup command; run `portal backup --help`")
        }
    }

    /// Runs `body`; a failure is one line on stderr with its E998x code, and exit status 1.
    private static func report(_ command: String, _ file: String, _ body: () throws -> Void) -> Int32 {
        do {
            try body()
            return 0
        } catch {
            PortalCLI.printError("portal: \(command): \(file): \(BackupSummary.coded(error))")
            return 1
        }
    }
}
