/// The newest `capacity` elements of an unbounded stream (the request log, a process's log lines): once full, each new
/// element overwrites the oldest, so keeping a bounded history costs the same for the millionth element as for the
/// first (an array trimmed from the front moved the whole history on every append).
public struct BoundedRing<Element> {
    public let capacity: Int
    private var storage: [Element] = []
    /// Where the oldest element is once the ring is full (and where the next one goes).
    private var oldest = 0

    /// An empty ring keeping at most `capacity` elements (at least one).
    public init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    /// Adds an element; returns whether the oldest one was dropped to make room.
    @discardableResult
    public mutating func append(_ element: Element) -> Bool {
        if storage.count < capacity {
            storage.append(element)
            return false
        }
        storage[oldest] = element
        oldest = (oldest + 1) % capacity
        return true
    }

    /// The elements kept, oldest first.
    public var elements: [Element] { oldest == 0 ? storage : Array(storage[oldest...] + storage[..<oldest]) }

    public var count: Int { storage.count }

    /// Forgets every element.
    public mutating func removeAll() {
        storage.removeAll()
        oldest = 0
    }
}

extension BoundedRing: Sendable where Element: Sendable {}
