import Foundation
import Hummingbird
import NIOCore
import ScwDomain

/// The one JSON configuration of the wire: field names are spelled in the wire types themselves (Scaleway's
/// snake_case), keys are sorted (as the functions API sends them), and slashes are not escaped (Go does not).
public enum WireJSON {
    /// Largest request body accepted before answering 413.
    public static let maxBodyBytes = 10 * 1024 * 1024

    /// The response encoder (Foundation's output, written faster: see `WireJSONEncoder`).
    public static let encoder = WireJSONEncoder(foundation: foundationEncoder)

    /// Foundation's encoder with the wire's options: the reference `encoder` must match byte for byte.
    static let foundationEncoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    /// The request decoder.
    public static let decoder = JSONDecoder()

    /// Decodes a JSON object body into `T`, turning every failure into Scaleway's `invalid_arguments`.
    /// Any content type is accepted (the SDKs send `application/json` with or without a charset).
    static func decodeBody<T: Decodable>(_ type: T.Type, from request: Request, context: some RequestContext) async throws -> T {
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: maxBodyBytes)
        } catch is NIOTooManyBytesError {
            throw HTTPError(.contentTooLarge)
        }
        let bytes = Data(buffer.readableBytesView)
        guard let first = bytes.first(where: { !($0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D) }) else {
            throw ScwError.invalid("body", .required, "the request body must be a JSON object")
        }
        guard first == UInt8(ascii: "{") else {
            throw ScwError.invalid("body", .format, "the request body must be a JSON object")
        }
        do {
            return try decoder.decode(T.self, from: bytes)
        } catch let error as DecodingError {
            if case .dataCorrupted(let ctx) = error, ctx.codingPath.isEmpty, let argument = inexactInteger(T.self, in: bytes) {
                throw ScwError.invalid(argument, .format, "expected an integer")
            }
            throw ScwError.invalidArguments([problem(for: error)])
        } catch let error as ScwError {
            throw error
        } catch {
            throw ScwError.invalid("body", .format, "the request body is not valid JSON")
        }
    }

    /// Foundation reports a number that does not fit an integer field (`1.5`, `1e20`) as invalid JSON, without a path.
    /// When the body is valid JSON, this names the number to blame, as `a.b.c`: the first non-integer number that still
    /// fails the decode on its own (the other such numbers set to 0). At most 16 candidates are tried.
    static func inexactInteger<T: Decodable>(_ type: T.Type, in bytes: Data) -> String? {
        guard let tree = try? JSONSerialization.jsonObject(with: bytes) else { return nil }
        var suspects: [[String]] = []
        func collect(_ value: Any, _ path: [String]) {
            guard suspects.count < 16 else { return }
            if let object = value as? [String: Any] {
                for key in object.keys.sorted() { collect(object[key]!, path + [key]) }
            } else if let array = value as? [Any] {
                for (i, element) in array.enumerated() { collect(element, path + [String(i)]) }
            } else if !(value is String), let number = value as? NSNumber, Int64(exactly: number.doubleValue) == nil {
                suspects.append(path)
            }
        }
        func zeroing(_ value: Any, _ path: ArraySlice<String>) -> Any {
            guard let key = path.first else { return 0 }
            if var object = value as? [String: Any], let child = object[key] {
                object[key] = zeroing(child, path.dropFirst())
                return object
            }
            if var array = value as? [Any], let i = Int(key), array.indices.contains(i) {
                array[i] = zeroing(array[i], path.dropFirst())
                return array
            }
            return value
        }
        func failsWithoutPath(_ value: Any) -> Bool {
            guard let data = try? JSONSerialization.data(withJSONObject: value) else { return false }
            do {
                _ = try decoder.decode(T.self, from: data)
                return false
            } catch DecodingError.dataCorrupted(let ctx) {
                return ctx.codingPath.isEmpty
            } catch {
                return false
            }
        }
        collect(tree, [])
        for suspect in suspects {
            var alone = tree
            for other in suspects where other != suspect { alone = zeroing(alone, other[...]) }
            if failsWithoutPath(alone) { return suspect.joined(separator: ".") }
        }
        return nil
    }

    /// Names the argument a decoding error is about, as `a.b.c`.
    static func problem(for error: DecodingError) -> ArgumentProblem {
        func path(_ keys: [any CodingKey]) -> String {
            keys.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
        }
        switch error {
        case .typeMismatch(let type, let ctx):
            return .init(argumentName: path(ctx.codingPath).ifEmpty("body"), reason: .format,
                         helpMessage: "expected \(describe(type))")
        case .valueNotFound(let type, let ctx):
            return .init(argumentName: path(ctx.codingPath).ifEmpty("body"), reason: .required,
                         helpMessage: "expected \(describe(type)), got null")
        case .keyNotFound(let key, let ctx):
            return .init(argumentName: path(ctx.codingPath + [key]), reason: .required, helpMessage: "required key not provided")
        case .dataCorrupted(let ctx):
            if ctx.codingPath.isEmpty {
                return .init(argumentName: "body", reason: .format, helpMessage: "the request body is not valid JSON")
            }
            return .init(argumentName: path(ctx.codingPath), reason: .format, helpMessage: ctx.debugDescription)
        @unknown default:
            return .init(argumentName: "body", reason: .format, helpMessage: "invalid request body")
        }
    }

    private static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: return "a string"
        case is Int.Type, is Int32.Type, is Int64.Type, is UInt32.Type: return "an integer"
        case is Bool.Type: return "a boolean"
        case is [String].Type: return "an array of strings"
        case is [String: String].Type: return "an object of strings"
        default:
            let name = String(describing: type)
            if name.hasPrefix("Array") { return "an array" }
            if name.hasPrefix("Dictionary") { return "an object" }
            return "a value of type \(name)"
        }
    }
}

extension String {
    fileprivate func ifEmpty(_ fallback: String) -> String { isEmpty ? fallback : self }
}

/// A field that is always present on the wire, as `null` when it has no value (Scaleway's `error_message: null`).
public struct Nullable<Wrapped: Encodable & Sendable>: Encodable, Sendable, ExpressibleByNilLiteral {
    public var value: Wrapped?

    /// Wraps a value.
    public init(_ value: Wrapped?) { self.value = value }
    public init(nilLiteral: ()) { self.value = nil }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        if let value { try container.encode(value) } else { try container.encodeNil() }
    }
}
