import ScwDomain
import ScwEngine
import ScwStore

extension SeedLoader {
    /// Creates a fixture's registry namespaces, then its images, through the registry service (the API's rules). A
    /// registry namespace that exists (by id, else by name in its region) is left alone; an image of the same id, or
    /// of the same name in its namespace, is replaced. Data only: nothing here runs or reads anything on the machine.
    static func applyRegistry(_ doc: SeedDocument, file: String, database: AppDatabase, namespaces: NamespaceService) -> [SeedProblem] {
        var problems: [SeedProblem] = []
        let registry = namespaces.registry
        func problem(_ field: String, _ message: String) { problems.append(SeedProblem(file: file, field: field, message: message)) }
        func region(_ raw: String?, at: String) -> Region? {
            guard let raw else { return .frPar }
            guard let region = Region(rawValue: raw) else {
                problem("\(at).region", "expected one of \(Region.allCases.map(\.rawValue).joined(separator: ", "))")
                return nil
            }
            return region
        }
        /// The seed acts for the project's organization, on every project of it.
        func principal(_ project: Project) -> Principal {
            Principal(accessKey: "seed", organizationID: project.organizationID, projectIDs: nil, defaultProjectID: project.id)
        }

        for (i, entry) in (doc.registry_namespaces ?? []).enumerated() {
            let at = "registry_namespaces[\(i)]"
            guard let region = region(entry.region, at: at) else { continue }
            var fixedID: RegistryNamespaceID?
            if let raw = entry.id {
                guard let id = RegistryNamespaceID(raw) else { problem("\(at).id", "expected a UUID"); continue }
                fixedID = id
            }
            let projectID: ProjectID
            if let raw = entry.project_id {
                guard let id = ProjectID(raw) else { problem("\(at).project_id", "expected a UUID"); continue }
                projectID = id
            } else {
                projectID = WellKnownIdentity.projectID
            }
            do {
                if let existing = try registry.existingNamespace(id: fixedID, name: entry.name, region: region),
                   fixedID != nil || existing.projectID == projectID { continue }
                guard let project = try database.project(id: projectID) else {
                    problem("\(at).project_id", "no project \(projectID.rawValue) (declare it under projects)")
                    continue
                }
                _ = try registry.createNamespace(region: region, name: entry.name, description: entry.description ?? "",
                                                 isPublic: entry.is_public ?? false, projectID: project.id, organizationID: nil,
                                                 by: principal(project), fixedID: fixedID)
            } catch {
                problems += Self.problems(error, file: file, at: at)
            }
        }

        for (i, entry) in (doc.registry_images ?? []).enumerated() {
            let at = "registry_images[\(i)]"
            guard let region = region(entry.region, at: at) else { continue }
            var id: RegistryImageID?
            if let raw = entry.id {
                guard let parsed = RegistryImageID(raw) else { problem("\(at).id", "expected a UUID"); continue }
                id = parsed
            }
            var visibility = ImageVisibility.inherit
            if let raw = entry.visibility {
                guard let parsed = ImageVisibility(rawValue: raw) else {
                    problem("\(at).visibility", "expected one of \(ImageVisibility.allCases.map(\.rawValue).joined(separator: ", "))")
                    continue
                }
                visibility = parsed
            }
            if let digest = entry.digest, !RegistryRules.isValidDigest(digest) {
                problem("\(at).digest", "expected sha256: and 64 lower-case hex digits")
                continue
            }
            let digest = entry.digest ?? "sha256:" + ConstantTime.digest("\(entry.namespace)/\(entry.name)")
            let draft = RegistryService.ImageDraft(namespace: entry.namespace, id: id, name: entry.name, visibility: visibility,
                                                   size: entry.size ?? 0, tags: (entry.tags ?? []).map { ($0, digest) })
            do {
                // Any organization's namespace: the fixture describes the whole world.
                _ = try registry.addImage(draft, region: region, by: nil)
            } catch {
                problems += Self.problems(error, file: file, at: at)
            }
        }
        return problems
    }
}
