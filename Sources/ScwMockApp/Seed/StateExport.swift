import Foundation
import ScwAPI
import ScwDomain
import ScwStore

/// `GET /_mock/state`: the whole store as a fixture document that `--seed` (and `POST /_mock/seed`) accepts, so a
/// world built through the API can be saved and loaded again. It includes secrets and namespace keys: it is an
/// explicit export of test data.
enum StateExport {
    static func document(_ s: StoreSnapshot, organizations: [(id: OrganizationID, name: String)] = [],
                         registry: RegistrySnapshot? = nil) -> JSONDocument {
        func str(_ v: String) -> JSONDocument { .string(v) }
        func strings(_ v: [String]) -> JSONDocument { .array(v.map { .string($0) }) }
        func map(_ v: [String: String]) -> JSONDocument { .object(v.mapValues { .string($0) }) }
        func with(_ entry: JSONDocument, _ extra: [String: JSONDocument]) -> JSONDocument {
            guard case .object(var o) = entry else { return entry }
            o.merge(extra) { _, new in new }
            return .object(o)
        }
        let wellKnown = WellKnownIdentity.projectID
        var doc: [String: JSONDocument] = [:]
        doc["organizations"] = .array(organizations.filter { $0.id != WellKnownIdentity.organizationID }.map {
            .object(["id": str($0.id.rawValue), "name": str($0.name)])
        })
        doc["projects"] = .array(s.projects.filter { $0.id != wellKnown }.map {
            .object(["id": str($0.id.rawValue), "organization_id": str($0.organizationID.rawValue), "name": str($0.name)])
        })
        doc["api_keys"] = .array(s.apiKeys.filter { $0.accessKey != WellKnownIdentity.accessKey }.map { k in
            var o: [String: JSONDocument] = ["access_key": str(k.accessKey), "secret_key": str(k.secretKey),
                                             "default_project_id": str(k.defaultProjectID.rawValue)]
            if let projects = k.projectIDs { o["projects"] = strings(projects.map(\.rawValue)) } else { o["organization_id"] = str(k.organizationID.rawValue) }
            if let expiry = k.expiresAt { o["expires_at"] = str(expiry.rfc3339(fractionDigits: 0)) }
            return .object(o)
        })
        doc["namespaces"] = .array(s.namespaces.map { n in
            var o: [String: JSONDocument] = [
                "id": str(n.id.rawValue), "name": str(n.name), "kind": str(n.kind.rawValue), "region": str(n.region.rawValue),
                "project_id": str(n.projectID.rawValue), "description": str(n.description), "environment_variables": map(n.environmentVariables),
                "secret_environment_variables": map(n.secretValues), "tags": strings(n.tags), "activate_vpc_integration": .bool(n.vpcIntegrationActivated),
            ]
            if let pem = s.namespaceKeys[n.id] { o["key_pem"] = str(pem) }
            return .object(o)
        })
        doc["containers"] = .array(s.containers.map { c in
            with(FixtureWire.entry(c), ["id": str(c.id.rawValue), "namespace": str(c.namespaceID.rawValue), "name": str(c.name),
                                        "deploy": .bool(c.phase != .created)])
        })
        doc["functions"] = .array(s.functions.map { f in
            var extra: [String: JSONDocument] = ["id": str(f.id.rawValue), "namespace": str(f.namespaceID.rawValue), "name": str(f.name),
                                                 "deploy": .bool(f.phase != .created)]
            if let archive = s.functionArchives[f.id] { extra["code_base64"] = str(archive.base64EncodedString()) }
            return with(FixtureWire.entry(f), extra)
        })
        doc["triggers"] = .array(s.triggers.map { t in
            var extra: [String: JSONDocument] = ["id": str(t.id.rawValue)]
            extra[t.application.namespaceKind.rawValue] = str(t.application.rawValue)
            return with(FixtureWire.entry(t), extra)
        })
        doc["tokens"] = .array(s.tokens.map { t in
            var o: [String: JSONDocument] = ["id": str(t.id.rawValue), "description": str(t.description)]
            switch t.scope {
            case .namespace(let ns): o["namespace"] = str(ns.rawValue)
            case .application(let app): o[t.api.namespaceKind.rawValue] = str(app)
            }
            if let expiry = t.expiresAt { o["expires_at"] = str(expiry.rfc3339(fractionDigits: 0)) }
            return .object(o)
        })
        if let registry { doc.merge(registryEntries(registry)) { _, new in new } }
        return .object(doc)
    }

    /// `registry_namespaces` and `registry_images`; an image of a `funcscw…` registry namespace names its container or
    /// function namespace, whose registry namespace gets a new id when the document is loaded.
    static func registryEntries(_ r: RegistrySnapshot) -> [String: JSONDocument] {
        func str(_ v: String) -> JSONDocument { .string(v) }
        let namespaces: [JSONDocument] = r.namespaces.map { n in
            .object(["id": str(n.id.rawValue), "name": str(n.name), "region": str(n.region.rawValue), "project_id": str(n.projectID.rawValue),
                     "description": str(n.description), "is_public": .bool(n.isPublic)])
        }
        let images: [JSONDocument] = r.images.map { entry in
            let image = entry.image
            var o: [String: JSONDocument] = [
                "id": str(image.id.rawValue), "namespace": str(entry.owner?.rawValue ?? image.namespaceID.rawValue), "name": str(image.name),
                "region": str(image.region.rawValue), "visibility": str(image.visibility.rawValue), "size": .number(Double(image.size)),
                "tags": .array(image.tags.map { .string($0) }),
            ]
            if let digest = entry.digest { o["digest"] = str(digest) }
            return .object(o)
        }
        return ["registry_namespaces": .array(namespaces), "registry_images": .array(images)]
    }
}
