import ArgumentParser
import Foundation
import GeoGrid

struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Build the demo city store (central Helsinki, from OpenStreetMap) from data/boundaries.",
        discussion: "The store is built beside PATH and moved into place at the end, replacing PATH: never half built.")
    @OptionGroup var store: StoreOptions
    @Option(help: "The folder with the demo layers (default: data/boundaries of this checkout).") var data: String?
    @Flag(help: "Leave out the demo's week of cases.") var noCases = false

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
        if !noCases {
            // Helsinki's working calendar and holidays (data/calendars), then a week of cases ending now.
            let holidays = ((folder as NSString).deletingLastPathComponent as NSString).appendingPathComponent("calendars/helsinki-holidays.txt")
            let text = FileManager.default.contents(atPath: holidays).map { String(decoding: $0, as: UTF8.self) }
            let report = try DemoCity.addWeekOfCases(to: try GeoStore(path: store.db), holidays: text)
            print("incidents: \(report.imported) cases of the past week (lights now: " + Incident.lights.map { "\(report.lights[$0] ?? 0) \($0)" }.joined(separator: ", ") + ")")
        }
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
