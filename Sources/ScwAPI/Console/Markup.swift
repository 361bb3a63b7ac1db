/// HTML for the console, built so that a value cannot become markup by accident: a `Markup` literal's text is taken as
/// written (the page's own tags), and everything interpolated into it goes through `Markup.escape`, the one escaping
/// function of the console, unless it is itself `Markup`. Names, environment values, log lines and tokens are
/// user-controlled: a container named `<script>` shows as text.
struct Markup: ExpressibleByStringInterpolation, Sendable, Equatable {
    /// The HTML text.
    var html: String

    init(stringLiteral value: String) { html = value }
    init(stringInterpolation: Interpolation) { html = stringInterpolation.html }
    private init(html: String) { self.html = html }

    /// Nothing.
    static let empty = Markup(html: "")

    /// The pieces one after another.
    static func join(_ parts: some Sequence<Markup>) -> Markup { Markup(html: parts.map(\.html).joined()) }

    /// `value` as HTML text, safe in element content and in double- or single-quoted attribute values: `&`, `<`, `>`,
    /// `"` and `'` become character references; every other character is kept.
    static func escape(_ value: some StringProtocol) -> String {
        var out = ""
        out.reserveCapacity(value.utf8.count)
        for scalar in value.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// Builds the HTML: literals as written, values escaped.
    struct Interpolation: StringInterpolationProtocol {
        var html = ""
        init(literalCapacity: Int, interpolationCount: Int) { html.reserveCapacity(literalCapacity + 16 * interpolationCount) }
        mutating func appendLiteral(_ literal: String) { html += literal }
        /// Markup built elsewhere, already safe.
        mutating func appendInterpolation(_ markup: Markup) { html += markup.html }
        /// A list of markup, one after another.
        mutating func appendInterpolation(_ parts: [Markup]) { for part in parts { html += part.html } }
        /// Any value: escaped.
        mutating func appendInterpolation(_ value: some CustomStringConvertible) { html += Markup.escape(value.description) }
    }
}
