import Foundation
import Logging
import ScwDomain
import ScwKeys
import ScwStore
import Synchronization

/// Generates RSA keys in the background: first for namespaces that were created while the pool was empty, then
/// to keep `poolTarget` pre-generated keys in the store. RSA-4096 generation takes about a second here, so no
/// request ever waits for it unless it needs that namespace's key.
///
/// Namespaces from fixtures are keyed on first use instead (`makeKey(for:)`): the background queue only ever holds
/// namespaces created through the API, which quotas bound, plus the pool; a fixture of 20,000 namespaces queues
/// nothing (reliability catalog C13).
public actor KeyForge {
    let database: AppDatabase
    /// Bits of every key the forge makes (4096 like Scaleway; 2048 for speed).
    public nonisolated let bits: Int
    /// How many keys the pool keeps.
    public nonisolated let poolTarget: Int
    let logger: Logger
    private var worker: Task<Void, Never>?
    private var stopped = false
    /// Keys being made on first use, so that concurrent callers for one namespace share one generation.
    private var firstUse: [NamespaceID: Task<Void, Never>] = [:]

    /// Keys handed out in turn instead of generated ones (`--deterministic-ids`: `DeterministicKeys`), with their sizes;
    /// empty: keys are generated.
    public nonisolated let fixedKeys: [(pem: String, bits: Int)]

    /// Creates the forge; call `kick()` to start work. `fixedKeys` (PEMs, trusted: built in or from the operator)
    /// replace generation for new namespaces (see `fixedKey(_:)`).
    public init(database: AppDatabase, bits: Int, poolTarget: Int, logger: Logger, fixedKeys: [String] = []) {
        self.database = database
        self.bits = bits
        self.poolTarget = poolTarget
        self.logger = logger
        self.fixedKeys = fixedKeys.compactMap { pem in (try? NamespaceKey(pem: pem)).map { (pem, $0.publicKey.bits) } }
    }

    /// The `index`-th fixed key (cycling through them), as a namespace's key source; nil when keys are generated.
    public nonisolated func fixedKey(_ index: Int) -> KeySource? {
        guard !fixedKeys.isEmpty else { return nil }
        let key = fixedKeys[index % fixedKeys.count]
        return .provided(pem: key.pem, bits: key.bits)
    }

    /// Starts a worker if none is running.
    public func kick() {
        guard worker == nil, !stopped else { return }
        worker = Task { await self.work() }
    }

    /// Stops at once (graceful shutdown): a key being generated is dropped rather than waited for.
    public func stop() {
        stopped = true
        worker?.cancel()
    }

    private func work() async {
        defer { worker = nil }
        // Generate on every core at once: keyless namespaces first, then the pool.
        let parallelism = max(1, ProcessInfo.processInfo.activeProcessorCount)
        while !Task.isCancelled && !stopped {
            do {
                let waiting = try database.keylessNamespaces(limit: parallelism)
                let poolNeed = max(0, poolTarget - (try database.poolSize(bits: bits)))
                let batch = min(parallelism, waiting.count + poolNeed)
                if batch == 0 { return }
                let bits = self.bits
                let pems = try await withThrowingTaskGroup(of: String.self) { group in
                    for _ in 0..<batch { group.addTask { try await Self.generate(bits: bits) } }
                    var made: [String] = []
                    for try await pem in group { made.append(pem) }
                    return made
                }
                if stopped || Task.isCancelled { return }
                var remaining = pems[...]
                for id in waiting {
                    guard let pem = remaining.popFirst() else { break }
                    if try database.assignKey(id, pem: pem, bits: bits) {
                        logger.debug("key assigned", metadata: ["namespace_id": "\(id)"])
                    } else {
                        remaining.append(pem)
                    }
                }
                for pem in remaining { try database.addPooledKey(pem: pem, bits: bits) }
            } catch {
                logger.error("key generation failed", metadata: ["error": "\(error)"])
                try? await Task.sleep(for: .seconds(1))
            }
        }
    }

    /// Makes the key of a namespace that has none now, for a caller that needs it: a pre-generated key from the pool
    /// when one is ready (the worker then refills the pool), else a fresh one. Returns once the store holds a key for
    /// it, or the attempt failed (the caller reads the store again).
    public func makeKey(for id: NamespaceID) async {
        if let running = firstUse[id] { return await running.value }
        guard !stopped else { return }
        let task = Task { await self.keyNow(id) }
        firstUse[id] = task
        await task.value
        firstUse[id] = nil
    }

    private func keyNow(_ id: NamespaceID) async {
        do {
            if try database.assignPooledKey(id, bits: bits) {
                logger.debug("pooled key assigned on first use", metadata: ["namespace_id": "\(id)"])
                kick()
                return
            }
            let pem = try await Self.generate(bits: bits)
            if stopped { return }  // shutting down: the store may be closing
            if try database.assignKey(id, pem: pem, bits: bits) {
                logger.debug("key generated on first use", metadata: ["namespace_id": "\(id)"])
            } else {
                // Keyed meanwhile (or deleted): the key is not wasted.
                try database.addPooledKey(pem: pem, bits: bits)
            }
        } catch {
            logger.error("key generation failed", metadata: ["error": "\(error)"])
        }
    }

    private static func generate(bits: Int) async throws -> String {
        let result: Result<String, any Error> = await offload {
            Result { try NamespaceKey.generate(bits: bits).privatePEM }
        }
        return try result.get()
    }
}

/// Parsed namespace keys, cached so each signature does not re-parse a PEM; waits (bounded) for a key that the
/// forge has not made yet.
public final class KeyRing: Sendable {
    let database: AppDatabase
    let forge: KeyForge
    private let cache = Mutex<[NamespaceID: NamespaceKey]>([:])

    /// Creates the ring.
    public init(database: AppDatabase, forge: KeyForge) {
        self.database = database
        self.forge = forge
    }

    /// The key of a namespace, waiting up to `timeout` seconds for the forge (or making it now, for a namespace keyed
    /// on first use); nil if it never came.
    public func key(for id: NamespaceID, timeout: Double = 30) async throws(ScwError) -> NamespaceKey? {
        if let key = cache.withLock({ $0[id] }) { return key }
        let deadline = ContinuousClock.now + .milliseconds(Int(timeout * 1000))
        while true {
            if let pem = try database.namespaceKeyPEM(id) {
                guard let key = try? NamespaceKey(pem: pem) else { return nil }
                cache.withLock { $0[id] = key }
                return key
            }
            guard ContinuousClock.now < deadline else { return nil }
            if try database.namespace(id: id)?.keyReady == true {
                // Keyed on first use (a fixture's namespace): made now, for this caller, not queued behind others.
                await forge.makeKey(for: id)
                if try database.namespaceKeyPEM(id) != nil { continue }
            } else {
                await forge.kick()
            }
            try? await Task.sleep(for: .milliseconds(20))
        }
    }

    /// The key of a namespace if it is already loaded (no waiting, no store access).
    public func cachedKey(for id: NamespaceID) -> NamespaceKey? { cache.withLock { $0[id] } }

    /// Key size, keys waiting in the pool, and the pool's target size.
    public func poolStatus() throws(ScwError) -> (bits: Int, ready: Int, target: Int) {
        (forge.bits, try database.poolSize(bits: forge.bits), forge.poolTarget)
    }

    /// Forgets every cached key (after a reset).
    public func forgetAll() { cache.withLock { $0.removeAll() } }

    /// Forgets a deleted namespace's key.
    public func forget(_ id: NamespaceID) {
        _ = cache.withLock { $0.removeValue(forKey: id) }
    }
}
