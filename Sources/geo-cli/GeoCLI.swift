import ArgumentParser
import Foundation
import GeoGrid

@main
struct GeoCLI: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "geo-cli",
        abstract: "GeoGrid: grid-map store for emergency response.",
        discussion: "Built-in layers: \(Layer.builtIn.map(\.name).joined(separator: ", ")); a city adds its own with `geo-cli layer create`. The store is one SpatiaLite file that QGIS and GDAL open as is.",
        version: GeoGridInfo.version,
        subcommands: [Init.self, Import.self, Export.self, Info.self, LayerCommand.self, TokenCommand.self, AuditCommand.self, IncidentCommand.self, PlanCommand.self, Backup.self, Demo.self, Locate.self, Nearest.self, Around.self, Serve.self]
    )
}

/// Options every command that opens a store takes.
struct StoreOptions: ParsableArguments {
    @Option(name: .long, help: "The store: a SpatiaLite file.")
    var db: String

    /// The store, with every applied plan whose effective day has come brought into force first (the server
    /// does this as each day begins; a command working on grids and cases without one does it here).
    func openForWork() throws -> GeoStore {
        let store = try GeoStore(path: db)
        try PlanDesk(store: store).activateDuePlans()
        return store
    }
}

extension SourceFormat: ExpressibleByArgument {}
extension ExportFormat: ExpressibleByArgument {}

/// A failure reported as one line on standard error with a non-zero exit.
struct CLIError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}

struct Init: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Create a store, or migrate an older one to this version's schema.")
    @OptionGroup var store: StoreOptions

    func run() throws {
        let existed = FileManager.default.fileExists(atPath: store.db)
        _ = try GeoStore(path: store.db, create: true)
        print("\(existed ? "opened" : "created") \(store.db) (schema version \(GeoStore.schemaVersion))")
    }
}

struct Info: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show layers, feature counts, extents and the schema version.")
    @OptionGroup var store: StoreOptions
    @Flag(help: "Print JSON.") var json = false
    @Flag(help: "Also build the in-memory query indexes and report the memory each holds.") var memory = false

    func run() throws {
        let store = try GeoStore(path: self.store.db)
        let info = try store.info()
        if json {
            var layers: [(String, JSONValue)] = []
            for l in info.layers {
                var members: [(String, JSONValue)] = [
                    ("count", .number(Double(l.count))), ("geometry_type", .string(l.geometryType)), ("srid", .number(4326)),
                ]
                members.append(("extent", l.extent.map { .numbers([$0.minX, $0.minY, $0.maxX, $0.maxY]) } ?? .null))
                layers.append((l.layer.rawValue, .object(members)))
            }
            let doc = JSONValue.object([
                ("path", .string(info.path)), ("schema_version", .number(Double(info.schemaVersion))),
                ("file_bytes", .number(Double(info.fileBytes))), ("spatialite_version", .string(info.spatialiteVersion)),
                ("layers", .object(layers)),
            ])
            printJSON(doc)
            return
        }
        print("\(info.path): schema version \(info.schemaVersion), \(info.fileBytes / 1024) KiB, SpatiaLite \(info.spatialiteVersion)")
        let rows = info.layers.map { l -> [String] in
            let e = l.extent.map { String(format: "%.5f, %.5f, %.5f, %.5f", $0.minX, $0.minY, $0.maxX, $0.maxY) } ?? "-"
            return [l.layer.rawValue, String(l.count), l.geometryType, e]
        }
        printTable(["layer", "features", "geometry", "extent (lon/lat, EPSG:4326)"], rows)
        if memory {
            print("")
            printTable(["query index", "memory"], try store.queryIndexMemory().map { [$0.0, String(format: "%.1f MiB", Double($0.1) / 1_048_576)] })
        }
    }
}

/// Prints one JSON value on a line.
func printJSON(_ value: JSONValue) {
    var out: [UInt8] = []
    GeoJSONWriter.value(value, into: &out)
    print(String(decoding: out, as: UTF8.self))
}

func printTable(_ header: [String], _ rows: [[String]]) {
    let all = [header] + rows
    let widths = header.indices.map { i in all.map { $0[i].count }.max() ?? 0 }
    for (n, row) in all.enumerated() {
        print(row.enumerated().map { i, cell in i == row.count - 1 ? cell : cell.padding(toLength: widths[i], withPad: " ", startingAt: 0) }
            .joined(separator: "  "))
        if n == 0 { print(widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ")) }
    }
}
