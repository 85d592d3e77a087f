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

        Errors: E9991 the store cannot be opened (or PORTAL_DATA_DIR holds none), E9992 the rotation stopped
        (batches already done stay done; run it again), E9993 the store holds keys of a master key that is neither.
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
        // A missing SQLite store is refused rather than created empty: a mistyped PORTAL_DATA_DIR would otherwise
        // report nothing left to move.
        if settings.postgres == nil, !FilePath.exists(settings.portalDataDirectory + "/events.db") {
            PortalCLI.printError(
                "portal: master-key rotate: E9991 PORTAL_DATA_DIR \(settings.portalDataDirectory) holds no store "
                    + "(events.db)")
            return 1
        }
        let store: any EventStore
        do {
            store = try PortalRuntime.makeStore(settings, encryption: encryption).store
        } catch {
            PortalCLI.printError("portal: master-key rotate: E9991 cannot open the store: \(error)")
            return 1
        }
        // Keys of a third master key would stay behind, unreadable once the previous key is removed.
        do {
            try MasterKeySetup.refuseForeignDataKeys(store, encryption: encryption, generatedPath: nil)
        } catch {
            PortalCLI.printError("portal: master-key rotate: E9993 \(error)")
            return 1
        }
        do {
            let rotation = try store.rewrapKeys(batchSize: batchSize)
            PortalCLI.printOut(summary(rotation, encryption))
            return 0
        } catch {
            PortalCLI.printError(
                "portal: master-key rotate: E9992 the rotation stopped: \(error); the batches done before stay "
                    + "re-wrapped, run it again")
            return 1
        }
    }

    /// The one line printed: what moved, from which key to which, and what is left under the previous key.
    static func summary(_ rotation: MasterKeyRotation, _ encryption: EventEncryption) -> String {
        let previous = encryption.previousMasterKey?.id ?? "-"
        var line =
            "ok: re-wrapped \(rotation.rewrappedKeys) key(s) in \(rotation.batches) batch(es) from master key "
            + "\(previous) to \(encryption.masterKey.id); \(rotation.currentKeys) live key(s) under the current "
            + "key, \(rotation.previousKeys) left under the previous one"
        if rotation.previousKeys == 0 { line += "; PORTAL_MASTER_KEY_PREVIOUS can be removed" }
        return line
    }

    /// `--batch-size`: a decimal from 1 to 10000.
    private static func batchSize(_ text: String) throws -> Int {
        guard let size = Int(text), (1...10_000).contains(size) else {
            throw UsageError("--batch-size: expected an integer from 1 to 10000")
        }
        return size
    }
}
