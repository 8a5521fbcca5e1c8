// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "ContainerPolicyStore",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "ContainerPolicyStore", targets: ["ContainerPolicyStore"]),
        .library(name: "ContainerPolicySync", targets: ["ContainerPolicySync"]),
        .executable(name: "policyctl", targets: ["policyctl"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        // `swift package generate-documentation --target ContainerPolicyStore`: the DocC
        // reference. A command plugin only; no target depends on it.
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
        // Test-only: the Vision One emulator (Tests/VisionOneEmulator, compiled into the two
        // test targets that start it). SwiftPM does not resolve a dependency's test-only
        // packages, so users of the libraries never fetch or build these.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.14.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
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
        .target(
            name: "ContainerPolicySync",
            dependencies: ["ContainerPolicyStore"]
        ),
        .executableTarget(
            name: "policyctl",
            dependencies: [
                "ContainerPolicyStore",
                "ContainerPolicySync",
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
            name: "ContainerPolicySyncTests",
            dependencies: [
                "ContainerPolicySync",
                "ContainerPolicyStore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ]
        ),
        .testTarget(
            name: "policyctlTests",
            dependencies: [
                "policyctl",
                "ContainerPolicyStore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ]
        ),
        .testTarget(
            name: "ReliabilityTests",
            dependencies: ["store-stress", "policyctl", "ContainerPolicyStore", "SQLiteCore"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
