import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// The wire's JSON encoder: the bytes Foundation's `JSONEncoder` gives with `[.sortedKeys, .withoutEscapingSlashes]`,
/// written straight into one buffer.
///
/// Written by hand because encoding was a fifth of a read's CPU: Foundation builds a tree of boxed values, looks up
/// generic metadata and casts dynamically for every field, then sorts. Here each object's members are written in
/// the order the type encodes them and moved into key order (UTF-8 byte order, as Foundation sorts) only when the
/// type's order differs. A type this encoder does not handle (nested containers, `superEncoder`, `Date`, `Data`,
/// `URL`, `Decimal`, non-finite numbers) is encoded by Foundation instead, so the output is always Foundation's;
/// `WireJSONEncoderTests` compares the two.
public struct WireJSONEncoder: Sendable {
    /// Foundation's encoder, for what the fast path does not handle.
    let foundation: JSONEncoder

    /// The JSON bytes of `value`.
    public func encode<T: Encodable>(_ value: T) throws -> Data {
        if let bytes = try? Self.fastBytes(value) { return Data(bytes) }
        return try foundation.encode(value)
    }

    /// The JSON bytes of `value` from the fast path, or `Unsupported` when Foundation must encode it.
    static func fastBytes<T: Encodable>(_ value: T) throws -> [UInt8] {
        let writer = JSONByteWriter()
        writer.bytes.reserveCapacity(1024)
        try writer.write(value)
        return writer.bytes
    }

    /// What the fast path refuses; the caller falls back to Foundation.
    struct Unsupported: Error {}
}

extension WireJSONEncoder: ResponseEncoder {
    /// Built (and its value checked) once.
    private static let contentType = HTTPField(name: .contentType, value: "application/json; charset=utf-8")

    public func encode(_ value: some Encodable, from request: Request, context: some RequestContext) throws -> Response {
        let buffer: ByteBuffer
        if let bytes = try? Self.fastBytes(value) {
            buffer = ByteBuffer(bytes: bytes)
        } else {
            buffer = ByteBuffer(bytes: try foundation.encode(value))
        }
        var headers = HTTPFields()
        headers.reserveCapacity(8)
        headers.append(Self.contentType)
        headers.append(HTTPField(name: .contentLength, value: String(buffer.readableBytes)))
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: buffer))
    }
}

/// The shared output of one encoding, and the `Encoder` every value of it is written through.
final class JSONByteWriter: Encoder {
    /// Unchecked: one writer is only ever used by the one encoding that made it, on one thread, and the run-time
    /// exclusivity checks on every append were a tenth of an encoding.
    @exclusivity(unchecked) var bytes: [UInt8] = []
    var codingPath: [any CodingKey] { [] }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    /// The container the value being written opened, closed by `write` once its `encode(to:)` returns.
    @exclusivity(unchecked) fileprivate var open: OpenContainer = .none

    fileprivate enum OpenContainer {
        case none
        case single
        case keyed(KeyedState)
        case unkeyed(count: Int)
    }

    /// Writes one value: scalars directly, anything else through its `encode(to:)`.
    func write<T: Encodable>(_ value: T) throws {
        if T.self == Date.self || T.self == Data.self || T.self == URL.self || T.self == Decimal.self {
            throw WireJSONEncoder.Unsupported()
        }
        let outer = open
        open = .none
        try value.encode(to: self)
        switch open {
        case .none:
            // Foundation writes an empty object for a nested value that encodes nothing, and refuses it at the top.
            if bytes.isEmpty { throw WireJSONEncoder.Unsupported() }
            bytes.append(contentsOf: [UInt8(ascii: "{"), UInt8(ascii: "}")])
        case .single:
            break
        case .keyed(let state):
            state.close(into: &bytes)
        case .unkeyed:
            bytes.append(UInt8(ascii: "]"))
        }
        open = outer
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        switch open {
        case .keyed(let state):
            return KeyedEncodingContainer(KeyedWriter<Key>(writer: self, state: state))
        case .none:
            let state = KeyedState(start: bytes.count)
            bytes.append(UInt8(ascii: "{"))
            open = .keyed(state)
            return KeyedEncodingContainer(KeyedWriter<Key>(writer: self, state: state))
        default:
            return KeyedEncodingContainer(KeyedWriter<Key>(writer: self, state: nil))
        }
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        switch open {
        case .none:
            bytes.append(UInt8(ascii: "["))
            open = .unkeyed(count: 0)
            return UnkeyedWriter(writer: self, usable: true)
        default:
            return UnkeyedWriter(writer: self, usable: false)
        }
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        let usable: Bool
        if case .none = open { usable = true } else { usable = false }
        return SingleWriter(writer: self, usable: usable)
    }

    // MARK: Scalars

    func writeNull() { bytes.append(contentsOf: [0x6E, 0x75, 0x6C, 0x6C]) }

    func writeBool(_ value: Bool) {
        if value { bytes.append(contentsOf: [0x74, 0x72, 0x75, 0x65]) } else { bytes.append(contentsOf: [0x66, 0x61, 0x6C, 0x73, 0x65]) }
    }

    func writeInteger<I: BinaryInteger>(_ value: I) {
        if value == 0 {
            bytes.append(UInt8(ascii: "0"))
            return
        }
        var magnitude = value.magnitude
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                     UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var count = 0
        withUnsafeMutableBytes(of: &digits) { buffer in
            while magnitude > 0 {
                buffer[19 - count] = UInt8(truncatingIfNeeded: magnitude % 10) + UInt8(ascii: "0")
                magnitude /= 10
                count += 1
            }
        }
        if value < 0 { bytes.append(UInt8(ascii: "-")) }
        withUnsafeBytes(of: &digits) { buffer in
            bytes.append(contentsOf: buffer[(20 - count)...])
        }
    }

    /// Foundation prints a finite floating-point number as its `description` without a trailing `.0`.
    func writeFloatingPoint<F: BinaryFloatingPoint & LosslessStringConvertible>(_ value: F) throws {
        guard value.isFinite else { throw WireJSONEncoder.Unsupported() }
        var text = value.description
        if text.hasSuffix(".0") { text.removeLast(2) }
        bytes.append(contentsOf: text.utf8)
    }

    /// A JSON string: `"` and `\` escaped, the control characters as `\b \f \n \r \t` or `\u00XX`, `/` and every
    /// other character as they are.
    func writeString(_ value: String) {
        var value = value
        value.withUTF8 { utf8 in
            // Most strings need no escape: one copy.
            guard utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) else {
                bytes.append(UInt8(ascii: "\""))
                bytes.append(contentsOf: utf8)
                bytes.append(UInt8(ascii: "\""))
                return
            }
            bytes.append(UInt8(ascii: "\""))
            var runStart = 0
            for (i, b) in utf8.enumerated() where b < 0x20 || b == UInt8(ascii: "\"") || b == UInt8(ascii: "\\") {
                if runStart < i { bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<i])) }
                runStart = i + 1
                bytes.append(UInt8(ascii: "\\"))
                switch b {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"): bytes.append(b)
                case 0x08: bytes.append(UInt8(ascii: "b"))
                case 0x0C: bytes.append(UInt8(ascii: "f"))
                case 0x0A: bytes.append(UInt8(ascii: "n"))
                case 0x0D: bytes.append(UInt8(ascii: "r"))
                case 0x09: bytes.append(UInt8(ascii: "t"))
                default:
                    let hex = Array("0123456789abcdef".utf8)
                    bytes.append(contentsOf: [UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"), hex[Int(b >> 4)], hex[Int(b & 0x0F)]])
                }
            }
            if runStart < utf8.count { bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart...])) }
            bytes.append(UInt8(ascii: "\""))
        }
    }
}

/// Foundation's key order: UTF-8 bytes compared one by one (not `String`'s `<`, which orders by Unicode scalars
/// after normalisation).
func utf8Precedes(_ a: String, _ b: String) -> Bool {
    var a = a, b = b
    return a.withUTF8 { x in
        b.withUTF8 { y in
            let n = min(x.count, y.count)
            for i in 0..<n where x[i] != y[i] { return x[i] < y[i] }
            return x.count < y.count
        }
    }
}

/// The members written so far into one object: where each `"key":value` lies in the buffer, to sort them at the end.
final class KeyedState {
    /// One `"key":value` of the object: where it lies, and its key's first eight bytes as a number, so that most
    /// comparisons of the sort are one integer comparison.
    struct Member {
        let prefix: UInt64
        let key: String
        var range: Range<Int>

        /// Foundation's order: UTF-8 bytes, one by one.
        func precedes(_ other: Member) -> Bool {
            prefix != other.prefix ? prefix < other.prefix : utf8Precedes(key, other.key)
        }
    }

    let start: Int
    /// Unchecked, as `JSONByteWriter.bytes`: one object of one encoding, on one thread.
    @exclusivity(unchecked) var members: [Member] = []
    @exclusivity(unchecked) var sorted = true

    init(start: Int) { self.start = start }

    /// Opens a member (the separator and the key) and returns it, to be completed by `end`.
    func begin(_ key: String, in writer: JSONByteWriter) -> Member {
        var key = key
        let prefix = key.withUTF8 { utf8 in
            var value: UInt64 = 0
            for i in 0..<8 { value = value << 8 | UInt64(i < utf8.count ? utf8[i] : 0) }
            return value
        }
        if !members.isEmpty { writer.bytes.append(UInt8(ascii: ",")) }
        let at = writer.bytes.count
        let member = Member(prefix: prefix, key: key, range: at..<at)
        if sorted, let last = members.last, !last.precedes(member) { sorted = false }
        writer.writeString(key)
        writer.bytes.append(UInt8(ascii: ":"))
        return member
    }

    func end(_ member: Member, in writer: JSONByteWriter) {
        var member = member
        member.range = member.range.lowerBound..<writer.bytes.count
        members.append(member)
    }

    /// Closes the object, rewriting its members in key order when they were written out of order (the last of
    /// duplicate keys wins, as in Foundation).
    func close(into bytes: inout [UInt8]) {
        if !sorted {
            let members = self.members
            var order = Array(members.indices)
            order.sort { a, b in
                let (x, y) = (members[a], members[b])
                return x.prefix == y.prefix && x.key == y.key ? a < b : x.precedes(y)
            }
            let body = Array(bytes[(start + 1)...])
            bytes.removeSubrange((start + 1)...)
            var written = 0
            for (n, index) in order.enumerated() {
                if n + 1 < order.count, members[order[n + 1]].key == members[index].key { continue }
                if written > 0 { bytes.append(UInt8(ascii: ",")) }
                let range = members[index].range
                bytes.append(contentsOf: body[(range.lowerBound - start - 1)..<(range.upperBound - start - 1)])
                written += 1
            }
        }
        bytes.append(UInt8(ascii: "}"))
    }
}

struct KeyedWriter<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let writer: JSONByteWriter
    /// Nil when the container was asked for at a place the fast path does not handle.
    let state: KeyedState?
    var codingPath: [any CodingKey] { [] }

    private func member(_ key: Key, _ body: () throws -> Void) throws {
        guard let state else { throw WireJSONEncoder.Unsupported() }
        let member = state.begin(key.stringValue, in: writer)
        try body()
        state.end(member, in: writer)
    }

    mutating func encodeNil(forKey key: Key) throws { try member(key) { writer.writeNull() } }
    mutating func encode(_ value: Bool, forKey key: Key) throws { try member(key) { writer.writeBool(value) } }
    mutating func encode(_ value: String, forKey key: Key) throws { try member(key) { writer.writeString(value) } }
    mutating func encode(_ value: Double, forKey key: Key) throws { try member(key) { try writer.writeFloatingPoint(value) } }
    mutating func encode(_ value: Float, forKey key: Key) throws { try member(key) { try writer.writeFloatingPoint(value) } }
    mutating func encode(_ value: Int, forKey key: Key) throws { try member(key) { writer.writeInteger(value) } }
    mutating func encode(_ value: Int8, forKey key: Key) throws { try member(key) { writer.writeInteger(value) } }
    mutating func encode(_ value: Int16, forKey key: Key) throws { try member(key) { writer.writeInteger(value) } }
    mutating func encode(_ value: Int32, forKey key: Key) throws { try member(key) { writer.writeInteger(value) } }
    mutating func encode(_ value: Int64, forKey key: Key) throws { try member(key) { writer.writeInteger(value) } }
    mutating func encode(_ value: UInt, forKey key: Key) throws { try member(key) { writer.writeInteger(value) } }
    mutating func encode(_ value: UInt8, forKey key: Key) throws { try member(key) { writer.writeInteger(value) } }
    mutating func encode(_ value: UInt16, forKey key: Key) throws { try member(key) { writer.writeInteger(value) } }
    mutating func encode(_ value: UInt32, forKey key: Key) throws { try member(key) { writer.writeInteger(value) } }
    mutating func encode(_ value: UInt64, forKey key: Key) throws { try member(key) { writer.writeInteger(value) } }
    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws { try member(key) { try writer.write(value) } }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
        KeyedEncodingContainer(KeyedWriter<NestedKey>(writer: writer, state: nil))
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        UnkeyedWriter(writer: writer, usable: false)
    }

    mutating func superEncoder() -> any Encoder { UnsupportedEncoder() }
    mutating func superEncoder(forKey key: Key) -> any Encoder { UnsupportedEncoder() }
}

struct UnkeyedWriter: UnkeyedEncodingContainer {
    let writer: JSONByteWriter
    /// False when the container was asked for at a place the fast path does not handle.
    let usable: Bool
    var codingPath: [any CodingKey] { [] }
    var count: Int {
        if case .unkeyed(let count) = writer.open { return count }
        return 0
    }

    private func element(_ body: () throws -> Void) throws {
        guard usable, case .unkeyed(let count) = writer.open else { throw WireJSONEncoder.Unsupported() }
        if count > 0 { writer.bytes.append(UInt8(ascii: ",")) }
        try body()
        writer.open = .unkeyed(count: count + 1)
    }

    mutating func encodeNil() throws { try element { writer.writeNull() } }
    mutating func encode(_ value: Bool) throws { try element { writer.writeBool(value) } }
    mutating func encode(_ value: String) throws { try element { writer.writeString(value) } }
    mutating func encode(_ value: Double) throws { try element { try writer.writeFloatingPoint(value) } }
    mutating func encode(_ value: Float) throws { try element { try writer.writeFloatingPoint(value) } }
    mutating func encode(_ value: Int) throws { try element { writer.writeInteger(value) } }
    mutating func encode(_ value: Int8) throws { try element { writer.writeInteger(value) } }
    mutating func encode(_ value: Int16) throws { try element { writer.writeInteger(value) } }
    mutating func encode(_ value: Int32) throws { try element { writer.writeInteger(value) } }
    mutating func encode(_ value: Int64) throws { try element { writer.writeInteger(value) } }
    mutating func encode(_ value: UInt) throws { try element { writer.writeInteger(value) } }
    mutating func encode(_ value: UInt8) throws { try element { writer.writeInteger(value) } }
    mutating func encode(_ value: UInt16) throws { try element { writer.writeInteger(value) } }
    mutating func encode(_ value: UInt32) throws { try element { writer.writeInteger(value) } }
    mutating func encode(_ value: UInt64) throws { try element { writer.writeInteger(value) } }
    mutating func encode<T: Encodable>(_ value: T) throws { try element { try writer.write(value) } }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        KeyedEncodingContainer(KeyedWriter<NestedKey>(writer: writer, state: nil))
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer { UnkeyedWriter(writer: writer, usable: false) }
    mutating func superEncoder() -> any Encoder { UnsupportedEncoder() }
}

struct SingleWriter: SingleValueEncodingContainer {
    let writer: JSONByteWriter
    /// False when a value was already written at this place (Foundation refuses that too).
    let usable: Bool
    var codingPath: [any CodingKey] { [] }

    private func value(_ body: () throws -> Void) throws {
        guard usable, case .none = writer.open else { throw WireJSONEncoder.Unsupported() }
        writer.open = .single
        try body()
    }

    mutating func encodeNil() throws { try value { writer.writeNull() } }
    mutating func encode(_ value: Bool) throws { try self.value { writer.writeBool(value) } }
    mutating func encode(_ value: String) throws { try self.value { writer.writeString(value) } }
    mutating func encode(_ value: Double) throws { try self.value { try writer.writeFloatingPoint(value) } }
    mutating func encode(_ value: Float) throws { try self.value { try writer.writeFloatingPoint(value) } }
    mutating func encode(_ value: Int) throws { try self.value { writer.writeInteger(value) } }
    mutating func encode(_ value: Int8) throws { try self.value { writer.writeInteger(value) } }
    mutating func encode(_ value: Int16) throws { try self.value { writer.writeInteger(value) } }
    mutating func encode(_ value: Int32) throws { try self.value { writer.writeInteger(value) } }
    mutating func encode(_ value: Int64) throws { try self.value { writer.writeInteger(value) } }
    mutating func encode(_ value: UInt) throws { try self.value { writer.writeInteger(value) } }
    mutating func encode(_ value: UInt8) throws { try self.value { writer.writeInteger(value) } }
    mutating func encode(_ value: UInt16) throws { try self.value { writer.writeInteger(value) } }
    mutating func encode(_ value: UInt32) throws { try self.value { writer.writeInteger(value) } }
    mutating func encode(_ value: UInt64) throws { try self.value { writer.writeInteger(value) } }
    mutating func encode<T: Encodable>(_ value: T) throws {
        // The value writes itself in this place: its container becomes this place's container.
        guard usable, case .none = writer.open else { throw WireJSONEncoder.Unsupported() }
        try writer.write(value)
        writer.open = .single
    }
}

/// The encoder `superEncoder` returns: any use sends the whole value to Foundation.
struct UnsupportedEncoder: Encoder {
    var codingPath: [any CodingKey] { [] }
    var userInfo: [CodingUserInfoKey: Any] { [:] }
    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        KeyedEncodingContainer(KeyedWriter<Key>(writer: JSONByteWriter(), state: nil))
    }
    func unkeyedContainer() -> any UnkeyedEncodingContainer { UnkeyedWriter(writer: JSONByteWriter(), usable: false) }
    func singleValueContainer() -> any SingleValueEncodingContainer { SingleWriter(writer: JSONByteWriter(), usable: false) }
}
