/// The text form of a UUID, checked by hand: every API request parses at least two (the secret key and the id in its
/// path), and Foundation's `UUID(uuidString:)` goes through `sscanf`, a tenth of a cheap read's cost. It is also
/// stricter than `sscanf`, which lets a leading `+`, space or `0x` into a field: Scaleway accepts only 8-4-4-4-12
/// hexadecimal digits.
public enum UUIDText {
    /// The canonical lower-case spelling of `text` when it is 8-4-4-4-12 hexadecimal digits (either case); else nil.
    public static func canonical(_ text: String) -> String? {
        var copy = text
        var upper = false
        let valid = copy.withUTF8 { bytes -> Bool in
            guard bytes.count == 36 else { return false }
            for (i, b) in bytes.enumerated() {
                if i == 8 || i == 13 || i == 18 || i == 23 {
                    guard b == UInt8(ascii: "-") else { return false }
                    continue
                }
                switch b {
                case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "a")...UInt8(ascii: "f"): continue
                case UInt8(ascii: "A")...UInt8(ascii: "F"): upper = true
                default: return false
                }
            }
            return true
        }
        guard valid else { return nil }
        return upper ? text.lowercased() : text
    }
}
