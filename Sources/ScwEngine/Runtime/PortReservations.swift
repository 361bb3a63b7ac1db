/// The host ports handed to workloads (processes, engine containers) that have not bound them yet. A port comes from
/// binding port 0 and closing the socket, so the kernel may hand it out again until the workload binds it; launches
/// interleave at their awaits, and two workloads deployed together (a seed, a fixture) could get the same port, the
/// second then failing with "Address already in use". A supervisor holds each port from its launch to the launch's
/// end (ready, failed or stopped): a listening port is never handed out again.
struct PortReservations {
    private var held: Set<Int> = []

    /// A port from `source` that no launch in progress holds, held until `release`; nil when `source` keeps giving
    /// held ones.
    mutating func reserve(from source: () throws -> Int) rethrows -> Int? {
        for _ in 0..<32 {
            let port = try source()
            if held.insert(port).inserted { return port }
        }
        return nil
    }

    mutating func release(_ port: Int) { held.remove(port) }
}
