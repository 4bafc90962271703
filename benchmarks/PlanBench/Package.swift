// swift-tools-version:6.0
import PackageDescription

// Benchmarks live in their own package so the main build and the test suite never compile them.
let package = Package(
    name: "PlanBench",
    platforms: [.macOS(.v14)],
    dependencies: [.package(name: "GeoGrid", path: "../..")],
    targets: [
        .executableTarget(name: "plan-bench", dependencies: [.product(name: "GeoGrid", package: "GeoGrid")])
    ],
    swiftLanguageModes: [.v6]
)
