import Foundation
import GRDB
import ScwDomain

extension AppDatabase {
    /// Containers: one row per container; its settings are one JSON document (`ContainerSpec`).
    static func registerContainerMigrations(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v3 containers") { db in
            try createApplicationTable("container", in: db)
            try db.create(index: "token_application", on: "token", columns: ["application_id"])
        }
    }
}

