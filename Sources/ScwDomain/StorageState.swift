/// How big the store is and how far it may grow (`GET|PUT /_mock/storage`, the disk-full test hook).
public struct StorageState: Sendable, Equatable {
    public var pageSize: Int
    public var pageCount: Int
    public var maxPageCount: Int

    /// Creates a state.
    public init(pageSize: Int, pageCount: Int, maxPageCount: Int) {
        self.pageSize = pageSize
        self.pageCount = pageCount
        self.maxPageCount = maxPageCount
    }
}
