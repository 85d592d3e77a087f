/// An event to append; the store assigns its id, time, version and sequence.
public struct NewEvent: Sendable, Equatable {
    public var eventType: String
    public var aggregateType: String
    public var aggregateID: String
    /// The payload as JSON text; the caller has validated that it is a JSON object.
    public var payloadJSON: String
    /// The metadata as JSON text; the caller has validated that it is a JSON object.
    public var metadataJSON: String

    /// - Parameters:
    ///   - metadataJSON: defaults to the empty object `{}`.
    public init(
        eventType: String, aggregateType: String, aggregateID: String, payloadJSON: String,
        metadataJSON: String = "{}"
    ) {
        self.eventType = eventType
        self.aggregateType = aggregateType
        self.aggregateID = aggregateID
        self.payloadJSON = payloadJSON
        self.metadataJSON = metadataJSON
    }
}

/// An event as the store keeps it.
public struct StoredEvent: Sendable, Equatable {
    /// A random (version 4) UUID in lower-case text form.
    public var id: String
    public var eventType: String
    public var aggregateType: String
    public var aggregateID: String
    public var payloadJSON: String
    public var metadataJSON: String
    /// When the store appended it, in microseconds since the Unix epoch.
    public var createdAtMicroseconds: Int64
    /// 1 for an aggregate's first event, then one more than the highest before it.
    public var version: Int64
    /// Store-wide, strictly increasing; the key for pagination.
    public var sequence: Int64
    /// Whether its subject was erased: the data key is destroyed, payload and metadata read as JSON `null`,
    /// and the aggregate id no longer names the subject (`erased:<event id>`).
    public var erased: Bool

    /// An event exactly as read back from a store.
    public init(
        id: String, eventType: String, aggregateType: String, aggregateID: String, payloadJSON: String,
        metadataJSON: String, createdAtMicroseconds: Int64, version: Int64, sequence: Int64, erased: Bool = false
    ) {
        self.id = id
        self.eventType = eventType
        self.aggregateType = aggregateType
        self.aggregateID = aggregateID
        self.payloadJSON = payloadJSON
        self.metadataJSON = metadataJSON
        self.createdAtMicroseconds = createdAtMicroseconds
        self.version = version
        self.sequence = sequence
        self.erased = erased
    }
}

/// Which events to list, and where to resume.
public struct EventQuery: Sendable, Equatable {
    /// Only events of this aggregate, when set.
    public var aggregateID: String?
    /// Only events of this type, when set.
    public var eventType: String?
    /// Only events whose sequence is greater than this, when set (keyset pagination).
    public var afterSequence: Int64?
    /// At most this many events; must be at least 1. Default 100.
    public var limit: Int

    /// - Precondition: `limit` is at least 1.
    public init(aggregateID: String? = nil, eventType: String? = nil, afterSequence: Int64? = nil, limit: Int = 100) {
        precondition(limit >= 1, "an event query asks for at least one event")
        self.aggregateID = aggregateID
        self.eventType = eventType
        self.afterSequence = afterSequence
        self.limit = limit
    }
}

/// One page of events in sequence order.
public struct EventPage: Sendable, Equatable {
    public var events: [StoredEvent]
    /// The sequence to pass as `afterSequence` for the next page, or nil when no later event matched.
    public var nextAfterSequence: Int64?

    /// A page and the cursor that follows it.
    public init(events: [StoredEvent], nextAfterSequence: Int64?) {
        self.events = events
        self.nextAfterSequence = nextAfterSequence
    }
}
