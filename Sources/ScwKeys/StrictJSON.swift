/// A small strict JSON reader for JWT headers and payloads. Foundation's decoders keep the first of duplicate
/// members and accept UTF-16; RFC 7515/7519 ask for rejection, and the verifier must read exactly what any other
/// verifier reads (reliability catalog J11, J12). No library on the mirror reports duplicate members, hence this.
public indirect enum JSONValue: Equatable, Sendable {
    case object([String: JSONValue])
    case array([JSONValue])
    case string(String)
    /// An integer literal (no fraction, no exponent) that fits in Int64.
    case integer(Int64)
    /// Any other number.
    case number(Double)
    case bool(Bool)
    case null

    /// Errors of the reader.
    public enum ParseError: Error, Equatable {
        case invalid(String)
    }

    /// Parses UTF-8 bytes that must hold exactly one JSON value (no BOM, no trailing bytes, depth ≤ 32).
    public static func parse(_ bytes: [UInt8]) throws(ParseError) -> JSONValue {
        guard String(validating: bytes, as: UTF8.self) != nil else { throw .invalid("not UTF-8") }
        var reader = Reader(bytes: bytes)
        reader.skipSpace()
        let value = try reader.value(depth: 0)
        reader.skipSpace()
        guard reader.index == bytes.count else { throw .invalid("trailing bytes") }
        return value
    }

    /// The members of an object, or nil.
    public var object: [String: JSONValue]? { if case .object(let o) = self { o } else { nil } }
    /// The string, or nil.
    public var string: String? { if case .string(let s) = self { s } else { nil } }
    /// The integer, or nil.
    public var integer: Int64? { if case .integer(let i) = self { i } else { nil } }

    private struct Reader {
        let bytes: [UInt8]
        var index = 0

        mutating func skipSpace() {
            while index < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[index]) { index += 1 }
        }

        mutating func value(depth: Int) throws(ParseError) -> JSONValue {
            guard depth < 32 else { throw .invalid("nested too deeply") }
            guard index < bytes.count else { throw .invalid("unexpected end") }
            switch bytes[index] {
            case UInt8(ascii: "{"):
                index += 1
                var members: [String: JSONValue] = [:]
                skipSpace()
                if index < bytes.count, bytes[index] == UInt8(ascii: "}") { index += 1; return .object(members) }
                while true {
                    skipSpace()
                    guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw .invalid("expected a key") }
                    let key = try string()
                    skipSpace()
                    guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { throw .invalid("expected ':'") }
                    index += 1
                    skipSpace()
                    let member = try value(depth: depth + 1)
                    guard members.updateValue(member, forKey: key) == nil else { throw .invalid("duplicate member \(key)") }
                    skipSpace()
                    guard index < bytes.count else { throw .invalid("unexpected end") }
                    if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
                    if bytes[index] == UInt8(ascii: "}") { index += 1; return .object(members) }
                    throw .invalid("expected ',' or '}'")
                }
            case UInt8(ascii: "["):
                index += 1
                var items: [JSONValue] = []
                skipSpace()
                if index < bytes.count, bytes[index] == UInt8(ascii: "]") { index += 1; return .array(items) }
                while true {
                    skipSpace()
                    items.append(try value(depth: depth + 1))
                    skipSpace()
                    guard index < bytes.count else { throw .invalid("unexpected end") }
                    if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
                    if bytes[index] == UInt8(ascii: "]") { index += 1; return .array(items) }
                    throw .invalid("expected ',' or ']'")
                }
            case UInt8(ascii: "\""):
                return .string(try string())
            case UInt8(ascii: "t"): try literal("true"); return .bool(true)
            case UInt8(ascii: "f"): try literal("false"); return .bool(false)
            case UInt8(ascii: "n"): try literal("null"); return .null
            default:
                return try number()
            }
        }

        mutating func literal(_ word: String) throws(ParseError) {
            let w = Array(word.utf8)
            guard index + w.count <= bytes.count, Array(bytes[index..<(index + w.count)]) == w else { throw .invalid("bad literal") }
            index += w.count
        }

        mutating func number() throws(ParseError) -> JSONValue {
            let start = index
            if index < bytes.count, bytes[index] == UInt8(ascii: "-") { index += 1 }
            func digits() -> Int {
                let s = index
                while index < bytes.count, bytes[index] >= 48, bytes[index] <= 57 { index += 1 }
                return index - s
            }
            let intStart = index
            guard digits() > 0 else { throw .invalid("bad number") }
            if bytes[intStart] == 48, index - intStart > 1 { throw .invalid("leading zero") }
            var integral = true
            if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
                index += 1; integral = false
                guard digits() > 0 else { throw .invalid("bad fraction") }
            }
            if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
                index += 1; integral = false
                if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
                guard digits() > 0 else { throw .invalid("bad exponent") }
            }
            let text = String(decoding: bytes[start..<index], as: UTF8.self)
            if integral, let i = Int64(text) { return .integer(i) }
            guard let d = Double(text), d.isFinite else { throw .invalid("number out of range") }
            return .number(d)
        }

        mutating func string() throws(ParseError) -> String {
            index += 1  // opening quote
            var scalars = String.UnicodeScalarView()
            var raw: [UInt8] = []
            func flush() {
                if !raw.isEmpty { scalars.append(contentsOf: String(decoding: raw, as: UTF8.self).unicodeScalars); raw.removeAll() }
            }
            while true {
                guard index < bytes.count else { throw .invalid("unterminated string") }
                let c = bytes[index]
                index += 1
                switch c {
                case UInt8(ascii: "\""):
                    flush()
                    return String(scalars)
                case UInt8(ascii: "\\"):
                    flush()
                    guard index < bytes.count else { throw .invalid("bad escape") }
                    let e = bytes[index]; index += 1
                    switch e {
                    case UInt8(ascii: "\""): scalars.append("\"")
                    case UInt8(ascii: "\\"): scalars.append("\\")
                    case UInt8(ascii: "/"): scalars.append("/")
                    case UInt8(ascii: "b"): scalars.append("\u{8}")
                    case UInt8(ascii: "f"): scalars.append("\u{C}")
                    case UInt8(ascii: "n"): scalars.append("\n")
                    case UInt8(ascii: "r"): scalars.append("\r")
                    case UInt8(ascii: "t"): scalars.append("\t")
                    case UInt8(ascii: "u"):
                        let high = try hex4()
                        if (0xD800...0xDBFF).contains(high) {
                            guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else {
                                throw .invalid("lone surrogate")
                            }
                            index += 2
                            let low = try hex4()
                            guard (0xDC00...0xDFFF).contains(low) else { throw .invalid("lone surrogate") }
                            scalars.append(Unicode.Scalar(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))!)
                        } else {
                            guard let scalar = Unicode.Scalar(high) else { throw .invalid("lone surrogate") }
                            scalars.append(scalar)
                        }
                    default: throw .invalid("bad escape")
                    }
                default:
                    guard c >= 0x20 else { throw .invalid("control character in string") }
                    raw.append(c)
                }
            }
        }

        mutating func hex4() throws(ParseError) -> UInt32 {
            guard index + 4 <= bytes.count else { throw .invalid("bad \\u escape") }
            var v: UInt32 = 0
            for b in bytes[index..<(index + 4)] {
                v <<= 4
                switch b {
                case 48...57: v |= UInt32(b - 48)
                case 65...70: v |= UInt32(b - 55)
                case 97...102: v |= UInt32(b - 87)
                default: throw .invalid("bad \\u escape")
                }
            }
            index += 4
            return v
        }
    }
}
