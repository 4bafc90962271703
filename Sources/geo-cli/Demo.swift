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
        let target = store.db
        let building = target + ".building"
        let fm = FileManager.default
        let parent = (target as NSString).deletingLastPathComponent
        if !parent.isEmpty { try fm.createDirectory(atPath: parent, withIntermediateDirectories: true) }
        for suffix in ["", "-wal", "-shm"] { try? fm.removeItem(atPath: building + suffix) }
        do {
            try Self.load(into: building, from: folder)
        } catch {
            for suffix in ["", "-wal", "-shm"] { try? fm.removeItem(atPath: building + suffix) }
            throw error
        }
        for suffix in ["-wal", "-shm", ""] { try? fm.removeItem(atPath: target + suffix) }
        try fm.moveItem(atPath: building, toPath: target)
        print("demo city ready: \(target)")
    }

    /// Loads each layer file; the store is closed (WAL checkpointed into the file) when this returns.
    static func load(into path: String, from folder: String) throws {
        let store = try GeoStore(path: path, create: true)
        for layer in Layer.allCases {
            let file = (folder as NSString).appendingPathComponent("\(layer.rawValue).geojson")
            guard FileManager.default.fileExists(atPath: file) else { throw CLIError("the demo data has no \(file)") }
            let bar = ProgressBar(label: "loading \(layer.rawValue)")
            let report = try store.importFeatures(
                from: InputBytes(path: file), options: ImportOptions(layer: layer, format: .geojson), progress: bar?.callback)
            bar?.finish()
            print("\(layer.rawValue): \(report.imported) features")
        }
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
