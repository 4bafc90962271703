import ArgumentParser
import Foundation
import GeoGrid

struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Build the demo city store (central Helsinki, from OpenStreetMap) from data/boundaries.",
        discussion: "The store is built beside PATH and moved into place at the end, replacing PATH: never half built.")
    @OptionGroup var store: StoreOptions
    @Option(help: "The folder with the demo layers (default: data/boundaries of this checkout).") var data: String?

    func run() throws {
        let folder = try data ?? Self.findDataFolder()
        let bar = ProgressBar(label: "loading")
        try DemoCity.build(
            from: folder, at: store.db,
            onLayer: { layer, report in
                bar?.finish()
                print("\(layer.rawValue): \(features(report.imported))")
            },
            progress: bar.map { b in { @Sendable _, done, total in b.update(done, total) } })
        print("demo city ready: \(store.db) (© OpenStreetMap contributors, ODbL 1.0)")
    }

    /// data/boundaries in the working directory, or in the checkout the executable was built in
    /// (.build/<config>/geo-cli).
    static func findDataFolder() throws -> String {
        let relative = "data/boundaries"
        var candidates = [FileManager.default.currentDirectoryPath + "/" + relative]
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<5 {
            candidates.append(dir.appendingPathComponent(relative).path)
            dir = dir.deletingLastPathComponent()
        }
        guard let found = candidates.first(where: { FileManager.default.fileExists(atPath: $0 + "/grids.geojson") }) else {
            throw CLIError("cannot find data/boundaries; give it with --data")
        }
        return found
    }
}
