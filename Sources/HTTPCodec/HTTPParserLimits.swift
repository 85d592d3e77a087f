/// Size limits that the parsers enforce while bytes arrive, before anything is buffered past them.
public struct HTTPParserLimits: Sendable, Equatable {
    /// Largest field section (all field lines, without the start line), in bytes; default 16 KiB. Past it: 431.
    public var maxHeaderBytes: Int
    /// Most field lines in a head or trailer section; default 100. Past it: 431.
    public var maxHeaderFields: Int
    /// Longest request-target, in bytes; default 8 KiB. Past it: 414.
    public var maxTargetBytes: Int
    /// Largest body after de-chunking, in bytes; default 1 MiB (`MAX_BODY_SIZE`). Past it: 413.
    public var maxBodyBytes: Int
    /// Longest chunk-size line including extensions, in bytes; default 4 KiB. Past it: 400.
    public var maxChunkLineBytes: Int

    /// Limits with the documented defaults, each overridable.
    public init(
        maxHeaderBytes: Int = 16 * 1024,
        maxHeaderFields: Int = 100,
        maxTargetBytes: Int = 8 * 1024,
        maxBodyBytes: Int = 1024 * 1024,
        maxChunkLineBytes: Int = 4 * 1024
    ) {
        precondition(maxHeaderBytes > 0 && maxHeaderFields > 0 && maxTargetBytes > 0, "limits must be positive")
        precondition(maxBodyBytes >= 0 && maxChunkLineBytes >= 16, "limits must be positive")
        self.maxHeaderBytes = maxHeaderBytes
        self.maxHeaderFields = maxHeaderFields
        self.maxTargetBytes = maxTargetBytes
        self.maxBodyBytes = maxBodyBytes
        self.maxChunkLineBytes = maxChunkLineBytes
    }
}
