/// Limits of the L01 API, with safe defaults.
public struct DataLayerConfiguration: Sendable {
    /// What an event body may hold.
    public var eventLimits: EventInputLimits
    /// The most bytes a request body may have before it is parsed: default 512 KiB (answered 413).
    public var maxBodyBytes: Int
    /// Events per page when `limit` is absent: default 100.
    public var defaultPageSize: Int
    /// The largest `limit` accepted: default 1000. A larger one is refused with 400, not clamped,
    /// so a caller never silently gets fewer events per page than asked for.
    public var maxPageSize: Int

    /// - Precondition: `1 <= defaultPageSize <= maxPageSize`.
    public init(
        eventLimits: EventInputLimits = EventInputLimits(), maxBodyBytes: Int = 512 * 1024,
        defaultPageSize: Int = 100, maxPageSize: Int = 1000
    ) {
        precondition(defaultPageSize >= 1 && defaultPageSize <= maxPageSize, "page sizes are 1...maxPageSize")
        self.eventLimits = eventLimits
        self.maxBodyBytes = maxBodyBytes
        self.defaultPageSize = defaultPageSize
        self.maxPageSize = maxPageSize
    }
}
