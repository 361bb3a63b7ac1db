import Foundation
import GRDB
import ScwDomain
import Synchronization

/// Counts committed writes, so that caches above the store (the gateway's routing) know when to look again.
final class ChangeCounter: Sendable {
    let value = Atomic<Int>(0)
    /// Committed writes that may have changed a namespace, container or function row: the row caches' generation.
    /// Token writes leave it alone, so the namespace a token is issued for stays cached while tokens are issued.
    let rows = Atomic<Int>(0)

    /// Records a committed write; `rows`: it may have changed a cached row.
    func note(rows touched: Bool) {
        if touched { rows.add(1, ordering: .releasing) }
        value.add(1, ordering: .releasing)
    }
}

/// Decoded rows of the hot single-row reads (a container, a function, a namespace by id), valid only while the
/// store's row generation has not moved: any committed write that may change such a row empties it. Decoding a row's JSON columns costs more than
/// the rest of a GET, and clients poll the same objects (SDK waiters, test suites).
public final class RowCache<Value: Sendable>: Sendable {
    private let state = Mutex<(generation: Int, values: [String: Value])>((-1, [:]))
    private let capacity: Int

    init(capacity: Int = 2_048) {
        self.capacity = capacity
    }

    /// The cached value of `id`, if it was read at `generation`.
    func value(for id: String, generation: Int) -> Value? {
        state.withLock { $0.generation == generation ? $0.values[id] : nil }
    }

    /// Keeps a value read at `generation` (the generation loaded before the read began).
    func store(_ value: Value, for id: String, generation: Int) {
        state.withLock { state in
            if generation > state.generation {
                state = (generation, [:])
            } else if generation < state.generation {
                return
            }
            if state.values.count >= capacity { state.values.removeAll(keepingCapacity: true) }
            state.values[id] = value
        }
    }
}

/// The store's row caches.
public final class RowCaches: Sendable {
    let containers = RowCache<Container>()
    let functions = RowCache<Function>()
    let namespaces = RowCache<Namespace>()
}

/// Owns the database writer and the migrator (the GRDB demo app's `AppDatabase` pattern). Every method is named after
/// its intent and runs in one transaction, so a response sent after it returns describes committed data.
public struct AppDatabase: Sendable {
    /// The GRDB writer: a `DatabasePool` (WAL) for files, a `DatabaseQueue` for `:memory:`.
    let writer: any DatabaseWriter
    /// Where the data lives (`:memory:` for a throwaway store).
    public let path: String
    private let changes = ChangeCounter()
    let caches = RowCaches()

    /// Grows after every committed write: a value read before a lookup still equal afterwards means the lookup is
    /// still what the store holds.
    public var generation: Int { changes.value.load(ordering: .acquiring) }
    /// Grows after every committed write that may have changed a namespace, container or function row (not after token
    /// writes): what the row caches are checked against.
    var rowGeneration: Int { changes.rows.load(ordering: .acquiring) }

    /// Opens (creating it and its folder if needed) and migrates the database at `path`.
    public static func open(path: String) throws -> AppDatabase {
        var config = Configuration()
        config.busyMode = .timeout(5)
        config.foreignKeysEnabled = true
        if path == ":memory:" {
            return try AppDatabase(writer: DatabaseQueue(configuration: config), path: path)
        }
        let url = URL(fileURLWithPath: path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        try makePrivate(path)
        let pool = try DatabasePool(path: path, configuration: config)
        return try AppDatabase(writer: pool, path: path)
    }

    /// The store holds every namespace private key, API secret key and secret in clear: its file is created (or, when it
    /// exists, set) owner-only, 0600, before SQLite opens it. SQLite gives its `-wal` and `-shm` files the database
    /// file's mode; those left by an earlier run are set 0600 as well.
    static func makePrivate(_ path: String) throws {
        let fd = Glibc.open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: path]) }
        fchmod(fd, 0o600)
        Glibc.close(fd)
        for suffix in ["-wal", "-shm"] { chmod(path + suffix, 0o600) }
    }

    /// Wraps a writer and applies the migrations.
    init(writer: any DatabaseWriter, path: String) throws {
        self.writer = writer
        self.path = path
        try Self.migrator.migrate(writer)
    }

    /// Closes the database; later calls fail. Used at graceful shutdown so the WAL is checkpointed.
    public func close() throws {
        if let pool = writer as? DatabasePool {
            try? pool.writeWithoutTransaction { try $0.checkpoint(.truncate) }
            try pool.close()
        } else if let queue = writer as? DatabaseQueue {
            try queue.close()
        }
    }

    /// Runs a read, translating SQLite failures at this layer's edge.
    func read<T>(_ body: @Sendable (Database) throws -> T) throws(ScwError) -> T {
        do { return try writer.read(body) } catch { throw Self.translate(error) }
    }

    /// One row by id through `cache`: served from memory when no write committed since it was read.
    func cachedRead<T: Sendable>(_ cache: RowCache<T>, id: String, _ body: @Sendable (Database) throws -> T?) throws(ScwError) -> T? {
        let generation = self.rowGeneration
        if let hit = cache.value(for: id, generation: generation) { return hit }
        let value = try read(body)
        if let value { cache.store(value, for: id, generation: generation) }
        return value
    }

    /// Runs a write transaction, translating SQLite failures at this layer's edge.
    func write<T>(_ body: @Sendable (Database) throws -> T) throws(ScwError) -> T {
        defer { changes.note(rows: true) }
        do { return try writer.write(body) } catch { throw Self.translate(error) }
    }

    /// A write transaction that changes token tables only: the row caches stay valid (a burst of tokens for one
    /// namespace would otherwise read and decode the namespace's row again for every token).
    func writeTokens<T>(_ body: @Sendable (Database) throws -> T) throws(ScwError) -> T {
        defer { changes.note(rows: false) }
        do { return try writer.write(body) } catch { throw Self.translate(error) }
    }

    /// Maps store failures to the domain error; domain errors thrown inside a transaction pass through.
    static func translate(_ error: any Error) -> ScwError {
        if let scw = error as? ScwError { return scw }
        if let db = error as? DatabaseError {
            switch db.resultCode {
            case .SQLITE_BUSY, .SQLITE_LOCKED: return .unavailable("the database is busy, please retry")
            case .SQLITE_FULL: return .insufficientStorage("the mock's database is full (database or disk is full): nothing was written; free some space and retry")
            default: return .unavailable("database error: \(db.resultCode)")
            }
        }
        return .unavailable("storage error")
    }
}

/// A copy of the store in memory (the seeded state that `POST /_mock/reset` returns to).
public struct StoreCopy: Sendable {
    let queue: DatabaseQueue
}

extension AppDatabase {
    /// Copies the whole store into memory (SQLite's online backup).
    public func copy() throws(ScwError) -> StoreCopy {
        do {
            let queue = try DatabaseQueue()
            try writer.backup(to: queue)
            return StoreCopy(queue: queue)
        } catch { throw Self.translate(error) }
    }

    /// Replaces the whole store with a copy, in one step (SQLite's online backup).
    public func restore(_ copy: StoreCopy) throws(ScwError) {
        defer { changes.note(rows: true) }
        do { try copy.queue.backup(to: writer) } catch { throw Self.translate(error) }
    }
}


extension AppDatabase {
    /// The store's size and growth limit, as the writer connection sees them.
    public func storageState() throws(ScwError) -> StorageState {
        do {
            return try writer.writeWithoutTransaction { db in
                StorageState(pageSize: try Int.fetchOne(db, sql: "PRAGMA page_size") ?? 0,
                             pageCount: try Int.fetchOne(db, sql: "PRAGMA page_count") ?? 0,
                             maxPageCount: try Int.fetchOne(db, sql: "PRAGMA max_page_count") ?? 0)
            }
        } catch { throw Self.translate(error) }
    }

    /// Limits how far the store may grow (SQLite's `max_page_count` on the writer connection): writes that need more
    /// pages fail with SQLITE_FULL, as on a full disk. `pages` below the current size means "no growth at all";
    /// nil lifts the limit (SQLite's maximum).
    public func limitGrowth(toPages pages: Int?) throws(ScwError) -> StorageState {
        do {
            try writer.writeWithoutTransaction { db in
                let limit = pages.map { max($0, 1) } ?? 4_294_967_294
                _ = try Int.fetchOne(db, sql: "PRAGMA max_page_count = \(limit)")
            }
        } catch { throw Self.translate(error) }
        return try storageState()
    }
}
