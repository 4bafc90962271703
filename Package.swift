// swift-tools-version:6.0
import PackageDescription

// The core (GeoGrid) depends on no Swift package: only Foundation and the system C libraries
// SQLite/SpatiaLite, GEOS and PROJ, each wired through a system-library target below.
let strict: [SwiftSetting] = [.unsafeFlags(["-warnings-as-errors"])]

let package = Package(
    name: "GeoGrid",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "GeoGrid", targets: ["GeoGrid"]),
        .executable(name: "geo-cli", targets: ["geo-cli"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CSQLite", pkgConfig: "spatialite",
            providers: [.apt(["libsqlite3-dev", "libspatialite-dev", "libsqlite3-mod-spatialite"])]),
        .systemLibrary(name: "CGEOS", pkgConfig: "geos", providers: [.apt(["libgeos-dev"])]),
        .systemLibrary(name: "CPROJ", pkgConfig: "proj", providers: [.apt(["libproj-dev"])]),
        // Two static inline C functions (a prefetch hint, sincos) that Swift cannot express.
        .target(name: "CSupport"),
        .target(name: "GeoGrid", dependencies: ["CSQLite", "CGEOS", "CPROJ", "CSupport"], swiftSettings: strict),
        .executableTarget(
            name: "geo-cli",
            dependencies: ["GeoGrid", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: strict),
        .target(name: "TestSupport", dependencies: ["GeoGrid"], path: "Tests/TestSupport", swiftSettings: strict),
        .testTarget(name: "GeoGridTests", dependencies: ["GeoGrid", "TestSupport"], swiftSettings: strict),
        .testTarget(name: "CLITests", dependencies: ["GeoGrid", "TestSupport", "geo-cli"], swiftSettings: strict),
    ],
    swiftLanguageModes: [.v6]
)
