import Foundation
import ScwDomain
import Testing

@testable import ScwAPI

/// The wire encoder must give Foundation's bytes (`[.sortedKeys, .withoutEscapingSlashes]`) for every value, through
/// its own fast path for the shapes the wire uses and through Foundation for the rest.
@Suite struct WireJSONEncoderTests {
    struct Inner: Encodable {
        var zeta = 1
        var alpha: String? = nil
        var list: [Int?] = [1, nil, 3]
    }

    /// Members declared out of key order, optionals both ways, nesting, arrays and maps.
    struct Outer: Encodable {
        var name = "n"
        var id = "2f1c"
        var organization_id = "o"
        var absent: String? = nil
        var present: String? = "here"
        var explicitNull: String? = nil
        var inner = Inner()
        var inners = [Inner(), Inner(zeta: -7, alpha: "a", list: [])]
        var map: [String: String] = ["b": "2", "a": "1", "B": "upper", "a_b": "x", "ab": "y", "é": "accent", "": "empty"]
        var empty: [String: Int] = [:]
        var nothing: [String] = []
        var flag = true
        var off = false

        enum CodingKeys: String, CodingKey {
            case name, id, organization_id, absent, present, explicitNull, inner, inners, map, empty, nothing, flag, off
        }

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(name, forKey: .name)
            try c.encode(id, forKey: .id)
            try c.encode(organization_id, forKey: .organization_id)
            try c.encodeIfPresent(absent, forKey: .absent)
            try c.encodeIfPresent(present, forKey: .present)
            try c.encode(explicitNull, forKey: .explicitNull)
            try c.encode(inner, forKey: .inner)
            try c.encode(inners, forKey: .inners)
            try c.encode(map, forKey: .map)
            try c.encode(empty, forKey: .empty)
            try c.encode(nothing, forKey: .nothing)
            try c.encode(flag, forKey: .flag)
            try c.encode(off, forKey: .off)
        }
    }

    struct Numbers: Encodable {
        var ints: [Int] = [0, 1, -1, 42, Int.max, Int.min]
        var small: [Int8] = [Int8.min, Int8.max]
        var unsigned: [UInt64] = [0, UInt64.max]
        var doubles: [Double] = [0, -0.0, 1, -2.5, 1.5, 0.1, 1e20, 1e-7, 123_456_789.123, 5e-324, Double.greatestFiniteMagnitude, 1e16, 12_345_678_901_234_567_890]
        var floats: [Float] = [0.1, 3, 1e10]
    }

    struct Nested: Encodable {
        enum Keys: String, CodingKey { case outer, inner }
        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: Keys.self)
            var n = c.nestedContainer(keyedBy: Keys.self, forKey: .outer)
            try n.encode(1, forKey: .inner)
        }
    }

    struct Dated: Encodable {
        var when = Date(timeIntervalSince1970: 1_700_000_000)
        var bytes = Data([1, 2, 3])
    }

    struct Nothing: Encodable {
        func encode(to encoder: any Encoder) throws {}
    }

    static var allCharacters: String {
        var s = (0..<0x20).map { String(UnicodeScalar(UInt8($0))) }.joined()
        s += "\"\\/\u{7F} plain é € 𝄞 \u{2028}\u{2029} <script>"
        return s
    }

    func expectSame<T: Encodable>(_ value: T, fast: Bool, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let ours = try WireJSON.encoder.encode(value)
        let reference = try WireJSON.foundationEncoder.encode(value)
        #expect(String(decoding: ours, as: UTF8.self) == String(decoding: reference, as: UTF8.self), sourceLocation: sourceLocation)
        let usedFastPath = (try? WireJSONEncoder.fastBytes(value)) != nil
        #expect(usedFastPath == fast, "fast path used", sourceLocation: sourceLocation)
    }

    @Test func objectsAreSortedAndOptionalsFollowFoundation() throws {
        try expectSame(Outer(), fast: true)
        try expectSame([Outer(), Outer(name: "second")], fast: true)
        try expectSame(["z": Inner(), "a": Inner()], fast: true)
    }

    @Test func stringsAreEscapedAsFoundationDoes() throws {
        try expectSame(Self.allCharacters, fast: true)
        try expectSame(["k\"\\\n/é": Self.allCharacters], fast: true)
        try expectSame([Self.allCharacters, "", "a/b"], fast: true)
    }

    @Test func numbersArePrintedAsFoundationDoes() throws {
        try expectSame(Numbers(), fast: true)
        try expectSame(2.0, fast: true)
        try expectSame(Optional<Int>.none, fast: true)
    }

    @Test func theWireDocumentTypeTakesTheFastPath() throws {
        let document = JSONDocument.object(["b": .array([.number(1), .number(1.5), .null, .bool(true)]), "a": .string("x/y"), "c": .object([:])])
        try expectSame(document, fast: true)
    }

    @Test func duplicateKeysKeepTheLastValue() throws {
        struct Twice: Encodable {
            enum K: String, CodingKey { case b, a }
            func encode(to encoder: any Encoder) throws {
                var c = encoder.container(keyedBy: K.self)
                try c.encode(1, forKey: .b)
                try c.encode(2, forKey: .a)
                try c.encode(3, forKey: .b)
            }
        }
        try expectSame(Twice(), fast: true)
    }

    @Test func otherShapesGoThroughFoundation() throws {
        try expectSame(Nested(), fast: false)
        try expectSame(Dated(), fast: false)
        try expectSame([Nothing()], fast: true)
        #expect(throws: EncodingError.self) { try WireJSON.encoder.encode(Nothing()) }
        #expect(throws: (any Error).self) { try WireJSON.encoder.encode([Double.nan]) }
    }
}
