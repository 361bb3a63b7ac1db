import ScwDomain

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

    /// A container or function namespace, created through the same service as `POST …/namespaces`.
    struct Namespace: Decodable {
        var id: String?
        var name: String
        /// `container` (default) or `function`.
        var kind: String?
        var region: String?
        /// Default: the well-known project.
        var project_id: String?
        var description: String?
        var environment_variables: [String: String]?
        var secret_environment_variables: [String: String]?
        var tags: [String]?
        var activate_vpc_integration: Bool?
        /// A PEM private key (PKCS#1 or PKCS#8) to sign this namespace's tokens with, e.g. `Keys/dev-namespace-1.pem`.
        var key_file: String?
        /// The same key inline (what `GET /_mock/state` writes).
        var key_pem: String?
    }

    /// A token: exactly one of `namespace`, `container`, `function` (by name or id).
    struct Token: Decodable {
        var id: String?
        var namespace: String?
        var container: String?
        var function: String?
        var description: String?
        var expires_at: String?
    }

    /// A registry namespace: `name` unique in its region.
    struct RegistryNamespace: Decodable {
        var id: String?
        var name: String
        var region: String?
        /// Default: the well-known project.
        var project_id: String?
        var description: String?
        var is_public: Bool?
    }

    /// An image of a registry namespace, named by the registry namespace's id or name, or by the container or
    /// function namespace (name or id) whose `funcscw…` registry namespace it goes to.
    struct RegistryImage: Decodable {
        var id: String?
        var namespace: String
        var region: String?
        var name: String
        /// `inherit` (default), `public` or `private`.
        var visibility: String?
        /// Bytes (default 0).
        var size: Int64?
        /// Tag names, e.g. `[latest, "1.2"]`; they all point at `digest`.
        var tags: [String]?
        /// `sha256:` and 64 hex digits; default: derived from the namespace, image and tag names.
        var digest: String?
    }

    /// A local command for containers whose image matches `image` (exact name or glob), or for functions whose
    /// runtime matches `runtime`; for images, `engine_image` instead (or as well): the image a container engine runs
    /// in its place (`--runtime container`), e.g. a local tag for `rg.fr-par.scw.cloud/team/api:1.0`.
    struct CommandMapping: Decodable {
        var image: String?
        var runtime: String?
        var command: [String]?
        var engine_image: String?
        var args: [String]?
        /// Relative paths are resolved against the fixture's folder.
        var working_directory: String?
        var environment: [String: String]?
    }

    var images: [CommandMapping]?
    var runtimes: [CommandMapping]?
    var organizations: [Organization]?
    var projects: [Project]?
    var api_keys: [APIKey]?
    var namespaces: [Namespace]?
    /// Containers: `namespace` (name or id), `name`, optional `id` and `deploy` (default true), and any field of the
    /// containers v1 API (`image`, `port`, `privacy`, `environment_variables`, `secret_environment_variables` map, …).
    var containers: [JSONDocument]?
    /// Functions: `namespace`, `name`, optional `id`, `code` (a zip file or a folder, relative to the fixture; uploaded
    /// as through the upload URL) or `code_base64` (the zip itself), `deploy` (default: true when code is given), and
    /// any field of the functions API
    /// (`runtime`, `handler`, …).
    var functions: [JSONDocument]?
    /// Triggers: `container` or `function` (name or id), `name`, optional `id`, and v1's `cron_config` / `sqs_config`
    /// / `nats_config` / `destination_config`.
    var triggers: [JSONDocument]?
    var tokens: [Token]?
    /// Container Registry namespaces (Registry v1), created as through `POST /registry/v1/…/namespaces`.
    var registry_namespaces: [RegistryNamespace]?
    /// Images with their tags in a registry namespace (Registry v1 creates none: they come from `docker push`).
    var registry_images: [RegistryImage]?
    /// Where to write the JWTs of `tokens` (JSON object: token id → JWT), relative to the fixture file.
    var token_file: String?
}
