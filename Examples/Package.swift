// swift-tools-version:6.0
import PackageDescription

// A tool a team would write on top of ContainerPolicyStore, linked the way users link it:
// by package dependency, through the public API only. The dependency is Docs/api.md's path
// form: `name:` makes it the package ContainerPolicyStore whatever the checkout's folder is
// called (check-dependency-snippets tries both of the page's forms).
let package = Package(
    name: "ContainerPolicyStoreExamples",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "ContainerPolicyStore", path: ".."),
    ],
    targets: [
        .executableTarget(
            name: "ruleset-usage",
            dependencies: [.product(name: "ContainerPolicyStore", package: "ContainerPolicyStore")]
        ),
        .executableTarget(
            name: "concurrent-editors",
            dependencies: [.product(name: "ContainerPolicyStore", package: "ContainerPolicyStore")]
        ),
    ],
    swiftLanguageModes: [.v6]
)
