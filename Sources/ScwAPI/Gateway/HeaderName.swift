/// Header names as HTTP/1 parsing leaves them (any case), recognised by their bytes: on every gateway call, where
/// lower-casing each name into a new `String` and hashing it into a `Set` cost about a twentieth of the call.
enum HeaderName {
    /// Whether `name` is `lowercase` in any case. `lowercase`: lower-case letters and `-` (a byte `b` matches a letter
    /// when `b | 0x20` is it; for `-`, only `-` itself can, as a name never holds control characters).
    static func equals(_ name: String, _ lowercase: StaticString) -> Bool {
        var name = name
        return name.withUTF8 { matches($0, lowercase) }
    }

    static func matches(_ bytes: UnsafeBufferPointer<UInt8>, _ lowercase: StaticString) -> Bool {
        lowercase.withUTF8Buffer { expected in
            guard expected.count == bytes.count else { return false }
            for i in 0..<expected.count where bytes[i] | 0x20 != expected[i] { return false }
            return true
        }
    }

    /// What the gateway does with a header, by name.
    enum Role: Equatable {
        case other
        /// Describes one hop: `connection`, `keep-alive`, `proxy-connection`, `transfer-encoding`, `upgrade`, `te`,
        /// `trailer`, `host`, `expect` (the gateway does not answer it, so it is not passed on).
        case hopByHop
        /// `content-length`: one hop's framing in a request (the gateway sets its own), kept in a response (its body
        /// passes unchanged).
        case contentLength
        /// `x-forwarded-for`, `x-forwarded-proto`, `x-forwarded-host`: set by the gateway on the request (a caller's own
        /// are replaced).
        case forwarded
        /// `x-request-id`: set by the gateway on the request and on the response.
        case requestID
        /// `server`, `date`: stamped by the gateway on the response.
        case stamped
        /// `x-auth-token`: a private application's credential.
        case authToken
    }

    static func role(of name: String) -> Role {
        var name = name
        return name.withUTF8 { b in
            switch b.count {
            case 2: return matches(b, "te") ? .hopByHop : .other
            case 4: return matches(b, "host") ? .hopByHop : matches(b, "date") ? .stamped : .other
            case 6: return matches(b, "expect") ? .hopByHop : matches(b, "server") ? .stamped : .other
            case 7: return matches(b, "upgrade") || matches(b, "trailer") ? .hopByHop : .other
            case 10: return matches(b, "connection") || matches(b, "keep-alive") ? .hopByHop : .other
            case 12: return matches(b, "x-request-id") ? .requestID : matches(b, "x-auth-token") ? .authToken : .other
            case 14: return matches(b, "content-length") ? .contentLength : .other
            case 15: return matches(b, "x-forwarded-for") ? .forwarded : .other
            case 16: return matches(b, "proxy-connection") ? .hopByHop : matches(b, "x-forwarded-host") ? .forwarded : .other
            case 17: return matches(b, "transfer-encoding") ? .hopByHop : matches(b, "x-forwarded-proto") ? .forwarded : .other
            default: return .other
            }
        }
    }
}
