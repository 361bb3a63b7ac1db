/// A fixture document (`seed/*.yaml` or `.json`; one schema for both). This first version describes identities;
/// namespaces and the rest are added as their issues land.
struct SeedDocument: Decodable {
    struct Organization: Decodable {
        var id: String
        var name: String?
    }

    struct Project: Decodable {
        var id: String
        var organization_id: String?
        var name: String?
    }

    struct APIKey: Decodable {
        var access_key: String
        var secret_key: String
        var organization_id: String?
        /// Projects the key may use; absent = every project of its organization.
        var projects: [String]?
        var default_project_id: String?
        var expires_at: String?
    }

    var organizations: [Organization]?
    var projects: [Project]?
    var api_keys: [APIKey]?
}
