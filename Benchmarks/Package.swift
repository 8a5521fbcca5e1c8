// swift-tools-version:6.1
// Benchmarks for ContainerPolicyStore, side by side with the raw SQLite C API and GRDB.swift.
// A package of its own, so that users of the library never fetch GRDB or the benchmark code.

import PackageDescription

let package = Package(
    name: "ContainerPolicyStoreBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "ContainerPolicyStore", path: ".."),
        .package(url: "https://github.com/groue/GRDB.swift", exact: "7.10.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // The system libsqlite3, the same one the library and GRDB link: one SQLite per process.
        .systemLibrary(
            name: "SystemSQLite",
            pkgConfig: "sqlite3",
            providers: [.apt(["libsqlite3-dev"])]
        ),
        .executableTarget(
            name: "policy-benchmarks",
            dependencies: [
                "SystemSQLite",
                .product(name: "ContainerPolicyStore", package: "ContainerPolicyStore"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
