import Config
import Store

/// `portal master-key rotate`: moves every live key from the previous master key to the current one.
enum MasterKeyCommand {
    static let usage = """
        Usage: portal master-key rotate [--batch-size N]

        Master-key rotation (docs/encryption-at-rest.md). Re-wraps every live data key that
        PORTAL_MASTER_KEY_PREVIOUS wrapped, and the store's subject-hash key, under PORTAL_MASTER_KEY, N keys per
        transaction (default 500, at most 10000). The data keys themselves, the events and the subject hashes do
        not change, so nothing else is rewritten. Safe to interrupt and to run again: each batch commits whole,
        and a run with nothing left to move changes nothing. Prints one line: what it moved, and what is left.

        Procedure:
          1. Make a new key (openssl rand -base64 48). Set PORTAL_MASTER_KEY(_FILE) to it and
             PORTAL_MASTER_KEY_PREVIOUS(_FILE) to the old one, and restart every data layer with both: they
             read keys wrapped by either and wrap new ones under the new key.
          2. Run portal master-key rotate with the same settings, beside the running data layers (SQLite or
             PostgreSQL): each batch is one transaction, serialised with their appends and erasures.
          3. Once it reports 0 left under the previous key, remove PORTAL_MASTER_KEY_PREVIOUS and (re)start.
             Keep the old key as long as backups taken before the rotation: restoring one needs it as the
             previous key, and another rotation.

        Settings: the store as for portal serve (PORTAL_DATA_DIR for SQLite, or DATABASE_URL / POSTGRES_HOST),
        PORTAL_MASTER_KEY(_FILE) (in development, $PORTAL_DATA_DIR/master_key), and
        PORTAL_MASTER_KEY_PREVIOUS(_FILE), which is required.

        Errors (exit status 1): E9991 the store cannot be opened, or holds no store (PORTAL_DATA_DIR without
        events.db, a PostgreSQL database without the schema mcp_documents: nothing is created), E9992 the rotation
        stopped (batches already done stay done; run it again), E9993 the store holds keys of a master key that is
        neither, E9994 some keys do not open under the previous key (their ids are printed; everything else moved;
        keep PORTAL_MASTER_KEY_PREVIOUS), E9995 the PostgreSQL role may not read or update the data keys.
        """

    static func run(_ raw: [String]) throws -> Int32 {
        let args = try Arguments(raw, valued: ["batch-size"])
        if args.wantsHelp || args.positionals.isEmpty {
            PortalCLI.printOut(usage)
            return args.wantsHelp ? 0 : 2
        }
        guard args.positionals == ["rotate"] else {
            throw UsageError("unknown master-key command; run `portal master-key --help`")
        }
        let batchSize = try args.options["batch-size"].map(batchSize) ?? 500
        let settings = try MasterKeySetup.storeSettings(try Environment.load())
        guard settings.portalMasterKeyPrevious != nil else {
            throw UsageError(
                "PORTAL_MASTER_KEY_PREVIOUS: is required to rotate: set it (or PORTAL_MASTER_KEY_PREVIOUS_FILE) to "
                    + "the master key being rotated away from, and PORTAL_MASTER_KEY to the new one")
        }
        let encryption = try MasterKeySetup.encryption(settings, creating: false).encryption
        // A missing store is refused rather than created empty: a mistyped PORTAL_DATA_DIR or database name would
        // otherwise report nothing left to move.
        if let missing = try missingStore(settings) {
            fail("E9991 \(missing)")
            return 1
        }
        let store: any EventStore
        do {
            store = try PortalRuntime.makeStore(settings, encryption: encryption).store
        } catch {
            fail("E9991 cannot open the store: \(error)")
            return 1
        }
        // Keys of a third master key would stay behind, unreadable once the previous key is removed.
        do {
            _ = try store.masterKeyIDsInUse()
        } catch {
            fail(notPermitted(error, settings) ?? "E9991 cannot read the store's data keys: \(error)")
            return 1
        }
        do {
            try MasterKeySetup.refuseForeignDataKeys(store, encryption: encryption, generatedPath: nil)
        } catch {
            fail("E9993 \(error)")
            return 1
        }
        let rotation: MasterKeyRotation
        do {
            rotation = try store.rewrapKeys(batchSize: batchSize)
        } catch {
            fail(
                notPermitted(error, settings)
                    ?? "E9992 the rotation stopped: \(error); the batches done before stay re-wrapped, run it again")
            return 1
        }
        PortalCLI.printOut(summary(rotation, encryption))
        guard rotation.skippedKeyIDs.isEmpty else {
            fail(skipped(rotation.skippedKeyIDs))
            return 1
        }
        return 0
    }

    /// Why the configured store is not there, or nil when it is: checked before opening it, since opening creates
    /// (SQLite) or migrates (PostgreSQL) a store.
    private static func missingStore(_ settings: PortalSettings) throws -> String? {
        guard let postgres = settings.postgres else {
            guard !FilePath.exists(settings.portalDataDirectory + "/events.db") else { return nil }
            return "PORTAL_DATA_DIR \(settings.portalDataDirectory) holds no store (events.db)"
        }
        let variable = postgres.url != nil ? "DATABASE_URL" : "POSTGRES_HOST"
        let pool = PostgresConnectionPool(options: try PortalRuntime.postgresOptions(postgres), size: 1)
        defer { pool.close() }
        do {
            guard try !PostgresEventStore.holdsStore(pool) else { return nil }
        } catch {
            return "cannot open the store: \(variable): \(error)"
        }
        return "\(variable): the database holds no store (no schema mcp_documents with its tables); point it at the "
            + "portal's database"
    }

    /// The line for a role without the privileges (SQLSTATE 42501), or nil for any other failure.
    private static func notPermitted(_ error: any Error, _ settings: PortalSettings) -> String? {
        guard let error = error as? StoreError, error.sqlState == "42501" else { return nil }
        let variable = settings.postgres?.url != nil ? "DATABASE_URL" : "POSTGRES_HOST"
        return "E9995 \(variable): this role may not read or update the store's data keys (subject_keys); run "
            + "`portal master-key rotate` as the data layer's role (l01_service) or with the owner's connection "
            + "(the one given to `portal db init`)"
    }

    /// The line for keys that do not open under the previous master key: at most 20 ids, then how many more.
    private static func skipped(_ keyIDs: [String]) -> String {
        let shown = keyIDs.prefix(20).joined(separator: ", ")
        let more = keyIDs.count > 20 ? " and \(keyIDs.count - 20) more" : ""
        return "E9994 \(keyIDs.count) key(s) do not open under PORTAL_MASTER_KEY_PREVIOUS and stay under it: "
            + "\(shown)\(more) (damaged rows, or keys of a third master key filed under its id); every other key "
            + "moved; keep PORTAL_MASTER_KEY_PREVIOUS until they are repaired (then run this again) or their subjects "
            + "erased"
    }

    private static func fail(_ text: String) {
        PortalCLI.printError("portal: master-key rotate: " + text)
    }

    /// The one line printed: what moved, from which key to which, and what is left under the previous key.
    static func summary(_ rotation: MasterKeyRotation, _ encryption: EventEncryption) -> String {
        if rotation.rewrappedKeys == 0, rotation.currentKeys == 0, rotation.previousKeys == 0 {
            return "ok: the store holds no data keys, so there is nothing to re-wrap and nothing was changed; "
                + "PORTAL_MASTER_KEY_PREVIOUS can be removed"
        }
        let previous = encryption.previousMasterKey?.id ?? "-"
        var line =
            "ok: re-wrapped \(rotation.rewrappedKeys) key(s) in \(rotation.batches) batch(es) from master key "
            + "\(previous) to \(encryption.masterKey.id); \(rotation.currentKeys) live key(s) under the current "
            + "key, \(rotation.previousKeys) left under the previous one"
        if rotation.previousKeys == 0 { line += "; PORTAL_MASTER_KEY_PREVIOUS can be removed" }
        return line
    }

    /// `--batch-size`: a decimal from 1 to 10000, in digits only (no sign, no spaces).
    private static func batchSize(_ text: String) throws -> Int {
        guard text.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }), let size = Int(text),
            (1...10_000).contains(size)
        else {
            throw UsageError("--batch-size: expected an integer from 1 to 10000")
        }
        return size
    }
}
