// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "ContainerPolicyStore",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "ContainerPolicyStore", targets: ["ContainerPolicyStore"]),
        .executable(name: "policyctl", targets: ["policyctl"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        // `swift package generate-documentation --target ContainerPolicyStore`: the DocC
        // reference. A command plugin only; no target depends on it.
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CSQLite",
            pkgConfig: "sqlite3",
            providers: [.apt(["libsqlite3-dev"])]
        ),
        // The SQLite core: connections, statements, errors, transactions, the connection pools,
        // the migrator. Its own target, so that it cannot know a word of the domain, and the
        // store reaches it only through its `package` API.
        .target(
            name: "SQLiteCore",
            dependencies: ["CSQLite"]
        ),
        .target(
            name: "ContainerPolicyStore",
            dependencies: ["SQLiteCore"]
        ),
        .executableTarget(
            name: "policyctl",
            dependencies: [
                "ContainerPolicyStore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "store-stress",
            dependencies: ["ContainerPolicyStore"]
        ),
        .testTarget(
            name: "ContainerPolicyStoreTests",
            dependencies: ["ContainerPolicyStore", "SQLiteCore"]
        ),
        .testTarget(
            name: "policyctlTests",
            dependencies: ["policyctl", "ContainerPolicyStore"]
        ),
        .testTarget(
            name: "ReliabilityTests",
            dependencies: ["store-stress", "policyctl", "ContainerPolicyStore", "SQLiteCore"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
