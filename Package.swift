// swift-tools-version:6.0
import PackageDescription

// The core (GeoGrid) depends on Foundation, the system C libraries SQLite/SpatiaLite, GEOS and PROJ (each
// wired through a system-library target below), and swift-crypto for SHA-256 (tokens are stored hashed).
let strict: [SwiftSetting] = [.unsafeFlags(["-warnings-as-errors"])]

let package = Package(
    name: "GeoGrid",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "GeoGrid", targets: ["GeoGrid"]),
        .library(name: "TileServer", targets: ["TileServer"]),
        .executable(name: "geo-cli", targets: ["geo-cli"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.3.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.0"),
        // Already under Hummingbird; named for the channel handler that times out slow request bodies.
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.0"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CSQLite", pkgConfig: "spatialite",
            providers: [.apt(["libsqlite3-dev", "libspatialite-dev", "libsqlite3-mod-spatialite"])]),
        .systemLibrary(name: "CGEOS", pkgConfig: "geos", providers: [.apt(["libgeos-dev"])]),
        .systemLibrary(name: "CPROJ", pkgConfig: "proj", providers: [.apt(["libproj-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        // Two static inline C functions (a prefetch hint, sincos) that Swift cannot express.
        .target(name: "CSupport"),
        .target(
            name: "GeoGrid", dependencies: ["CSQLite", "CGEOS", "CPROJ", "CSupport", .product(name: "Crypto", package: "swift-crypto")],
            // The default catalogues, workflow, deadlines and calendar of cases: data a city replaces.
            resources: [.copy("Resources/incidents")],
            swiftSettings: strict),
        // The HTTP service: vector tiles, OGC API Features, the query API and the demo map, on Hummingbird 2.
        .target(
            name: "TileServer",
            dependencies: [
                "GeoGrid", "CZlib", .product(name: "Hummingbird", package: "hummingbird"), .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"), .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
            ],
            // The console's own page, JavaScript, CSS and strings (readable files, no build step).
            resources: [.copy("Console")],
            swiftSettings: strict),
        .executableTarget(
            name: "geo-cli",
            dependencies: [
                "GeoGrid", "TileServer", .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict),
        // The HTTP benchmark's baseline: Hummingbird answering static bytes (benchmarks/http.sh).
        .executableTarget(
            name: "bench-static-server", dependencies: [.product(name: "Hummingbird", package: "hummingbird")], path: "benchmarks/StaticServer",
            swiftSettings: strict),
        // What each fuzz target checks of an input; the libFuzzer driver below and FuzzRegressionTests call it.
        .target(name: "FuzzHarness", dependencies: ["GeoGrid"], path: "Fuzz/Harness", swiftSettings: strict),
        .target(name: "TestSupport", dependencies: ["GeoGrid"], path: "Tests/TestSupport", swiftSettings: strict),
        .testTarget(name: "GeoGridTests", dependencies: ["GeoGrid", "TestSupport", "FuzzHarness"], swiftSettings: strict),
        .testTarget(name: "TileServerTests", dependencies: ["TileServer", "GeoGrid", "TestSupport"], swiftSettings: strict),
        .testTarget(name: "CLITests", dependencies: ["GeoGrid", "TestSupport", "geo-cli"], swiftSettings: strict),
    ],
    swiftLanguageModes: [.v6]
)

// The libFuzzer driver (scripts/fuzz.sh): only with GEOGRID_FUZZ set, since it links with -sanitize=fuzzer.
if Context.environment["GEOGRID_FUZZ"] != nil {
    package.targets += [
        .target(name: "CLibFuzzer", path: "Fuzz/CLibFuzzer"),
        .executableTarget(name: "geogrid-fuzz", dependencies: ["FuzzHarness", "CLibFuzzer"], path: "Fuzz/Driver"),
    ]
}
