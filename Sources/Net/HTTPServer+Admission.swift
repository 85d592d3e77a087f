extension HTTPServer {
    /// Takes a place for a new connection from `address`, or says which cap refuses it (and counts it).
    ///
    /// The total is reserved with one atomic add, so loops accepting at once can never overshoot the cap; the
    /// per-address count is kept under a lock, taken once per accept and once per close, never per request.
    func admit(address: String) -> ConnectionRefusal? {
        let before = openConnections.wrappingAdd(1, ordering: .acquiringAndReleasing).oldValue
        guard before < connectionLimits.maxConnections else {
            _ = openConnections.wrappingSubtract(1, ordering: .releasing)
            return refuse(.serverFull)
        }
        let perAddress = connectionLimits.maxConnectionsPerAddress
        let admitted = connectionsPerAddress.withLock { counts -> Bool in
            let open = counts[address, default: 0]
            guard open < perAddress else { return false }
            counts[address] = open + 1
            return true
        }
        guard admitted else {
            _ = openConnections.wrappingSubtract(1, ordering: .releasing)
            return refuse(.addressFull)
        }
        return nil
    }

    /// Gives back the place `admit(address:)` took for a connection that closed.
    func release(address: String) {
        connectionsPerAddress.withLock { counts in
            let open = counts[address, default: 0]
            if open <= 1 { counts[address] = nil } else { counts[address] = open - 1 }
        }
        _ = openConnections.wrappingSubtract(1, ordering: .releasing)
    }

    private func refuse(_ reason: ConnectionRefusal) -> ConnectionRefusal {
        refused.add(1, ordering: .relaxed)
        onConnectionRefused(reason)
        return reason
    }
}
