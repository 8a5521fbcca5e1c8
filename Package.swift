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
    ],
    targets: [
        .systemLibrary(
            name: "CSQLite",
            pkgConfig: "sqlite3",
            providers: [.apt(["libsqlite3-dev"])]
        ),
        .target(
            name: "ContainerPolicyStore",
            dependencies: ["CSQLite"]
        ),
        .target(
            name: "ContainerPolicySync",
            dependencies: ["ContainerPolicyStore"]
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
            dependencies: ["ContainerPolicyStore"]
        ),
        .testTarget(
            name: "policyctlTests",
            dependencies: ["policyctl", "ContainerPolicyStore"]
        ),
        .testTarget(
            name: "ReliabilityTests",
            dependencies: ["store-stress", "policyctl", "ContainerPolicyStore"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
