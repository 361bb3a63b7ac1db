import ScwDomain
import Testing

/// The history behind `GET /_mock/requests` and the process logs: the newest elements, oldest first, the rest dropped.
@Suite struct BoundedRingTests {
    @Test func keepsTheNewestInOrderAndSaysWhenItDrops() {
        var ring = BoundedRing<Int>(capacity: 3)
        #expect(ring.append(1) == false)
        #expect(ring.append(2) == false)
        #expect(ring.append(3) == false)
        #expect(ring.elements == [1, 2, 3])
        #expect(ring.append(4) == true)
        #expect(ring.elements == [2, 3, 4])
        for i in 5...10 { ring.append(i) }
        #expect(ring.elements == [8, 9, 10])
        #expect(ring.count == 3)
        ring.removeAll()
        #expect(ring.elements.isEmpty)
        ring.append(11)
        #expect(ring.elements == [11])
    }

    @Test func aCapacityBelowOneKeepsOne() {
        var ring = BoundedRing<String>(capacity: 0)
        ring.append("a")
        ring.append("b")
        #expect(ring.elements == ["b"])
    }
}
