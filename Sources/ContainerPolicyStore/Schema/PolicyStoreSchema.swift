import SQLiteCore

/// ContainerPolicyStore's schema: `Migrations/*.sql`, embedded by `Scripts/embed-migrations`
/// with the objects they make, and the `application_id` 'CPST' that migration 1 sets, by which
/// a policy database is told apart from any other SQLite file.
enum PolicyStoreSchema {
    static let applicationID: Int32 = 0x4350_5354

    static let schema = DatabaseSchema(migrations: migrations, applicationID: applicationID, latestObjects: latestObjects)
}
