import Dispatch

/// Runs CPU-heavy work (Argon2id hashing, later RSA) on a Dispatch queue so it does not hold a
/// cooperative-pool thread that request handling needs.
func offload<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { continuation in
        DispatchQueue.global(qos: .userInitiated).async { continuation.resume(returning: work()) }
    }
}
