import Config
import Store

/// `portal erase --subject ID`: the right to erasure from the command line, on SQLite or PostgreSQL.
enum EraseCommand {
    static let usage = """
        Usage: portal erase --subject ID

        Erases a data subject (crypto-shredding; docs/encryption-at-rest.md). The subject is the aggregate id of
        its events. In one transaction: destroys the subject's data keys, overwrites the payload and metadata of
        its events with null and replaces their aggregate id with erased:<event id>, and appends a
        subject.erased event that names the subject only by its keyed hash. Idempotent: running it again erases
        nothing more. Safe while portal serve runs.

        Settings: the store as for portal serve (PORTAL_DATA_DIR for SQLite, or DATABASE_URL / POSTGRES_HOST),
        and the same PORTAL_MASTER_KEY(_FILE) as the data layer (in development, $PORTAL_DATA_DIR/master_key);
        during a master-key rotation, PORTAL_MASTER_KEY_PREVIOUS(_FILE) as well.

        Errors: E9971 the store cannot be opened, E9972 the erasure failed (nothing was changed), E9973 the store
        holds data keys of a master key that is not configured.
        """

    static func run(_ raw: [String]) throws -> Int32 {
        let args = try Arguments(raw, valued: ["subject"])
        if args.wantsHelp {
            PortalCLI.printOut(usage)
            return 0
        }
        guard args.positionals.isEmpty, let subject = args.options["subject"] else {
            throw UsageError("erase needs --subject ID; run `portal erase --help`")
        }
        guard isSubjectID(subject), !SubjectErasure.isReserved(aggregateID: subject) else {
            throw UsageError("--subject: expected 1-128 of [A-Za-z0-9._:-], not starting with erased: or subject:")
        }
        let env = try Environment.load()
        let settings = try MasterKeySetup.storeSettings(env)
        let encryption = try MasterKeySetup.encryption(settings, creating: false).encryption
        let store: any EventStore
        do {
            store = try PortalRuntime.makeStore(settings, encryption: encryption).store
        } catch {
            PortalCLI.printError("portal: erase: E9971 cannot open the store: \(error)")
            return 1
        }
        // A wrong key would find none of the subject's data keys and leave them live while reporting success.
        do {
            try MasterKeySetup.refuseForeignDataKeys(store, encryption: encryption, generatedPath: nil)
        } catch {
            PortalCLI.printError("portal: erase: E9973 \(error)")
            return 1
        }
        let actor = try env.string("USER").map { "cli:" + $0 } ?? "cli"
        do {
            let erasure = try store.eraseSubject(subject, actor: actor)
            PortalCLI.printOut(
                "ok: erased subject \(subject): destroyed \(erasure.destroyedKeys) data key(s), overwrote "
                    + "\(erasure.erasedEvents) event(s); recorded as subject.erased \(erasure.recordID) "
                    + "(subject_hash \(erasure.subjectHash))")
            return 0
        } catch {
            PortalCLI.printError("portal: erase: E9972 the erasure failed, nothing was changed: \(error)")
            return 1
        }
    }

    /// The shape of aggregate ids: 1 to 128 bytes of `[A-Za-z0-9._:-]`.
    static func isSubjectID(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        return (1...128).contains(bytes.count)
            && bytes.allSatisfy { byte in
                (0x61...0x7A).contains(byte) || (0x41...0x5A).contains(byte) || (0x30...0x39).contains(byte)
                    || byte == UInt8(ascii: "_") || byte == UInt8(ascii: ".") || byte == UInt8(ascii: ":")
                    || byte == UInt8(ascii: "-")
            }
    }
}
