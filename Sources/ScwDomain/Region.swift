/// A Scaleway region served by the mock (`fr-par`, `nl-ams`, `pl-waw`, the Python SDK's constants).
public enum Region: String, Sendable, CaseIterable, Codable {
    case frPar = "fr-par"
    case nlAms = "nl-ams"
    case plWaw = "pl-waw"
}
