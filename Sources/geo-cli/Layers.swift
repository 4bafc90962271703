import ArgumentParser
import Foundation
import GeoGrid

/// `geo-cli layer create|list|drop|configure`: the city's own layers.
struct LayerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "layer", abstract: "Define, list, configure and drop the city's own layers.",
        subcommands: [Create.self, List.self, Drop.self, Configure.self])

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a layer: a SpatiaLite table with a geometry column (SRID 4326) and an R*Tree, which QGIS and ogrinfo list.",
            discussion: """
                Field types: \(FieldType.allCases.map(\.rawValue).joined(separator: ", ")). Any field name works (SQL keywords \
                such as end or date included). :personal marks a field that only dispatchers, planners and admins within \
                their scope see. --schema FILE reads the same as JSON: {"name", "title", "geometry", "fields": [{"name", \
                "type", "personal"}], "tile_properties", "min_zoom"}.
                """)
        @OptionGroup var store: StoreOptions
        @Argument(help: "The layer's name: a lower-case identifier.") var name: String?
        @Option(help: "point, line or polygon.") var geometry: LayerGeometry?
        @Option(name: .customLong("field"), help: "NAME:TYPE or NAME:TYPE:personal (repeatable).") var fields: [String] = []
        @Option(help: "A title for maps and OGC API Features.") var title: String?
        @Option(help: "Properties carried in vector tiles, comma-separated (default: every field that is not personal).") var tileProperties: String?
        @Option(help: "A JSON file defining the layer instead of the options.") var schema: String?

        func validate() throws {
            if schema != nil && (name != nil || geometry != nil || !fields.isEmpty) {
                throw ValidationError("give either --schema or a name, --geometry and --field options")
            }
            if schema == nil && (name == nil || geometry == nil) { throw ValidationError("give the layer's name and --geometry point|line|polygon (or --schema FILE)") }
        }

        func run() throws {
            let layer: Layer
            do {
                if let schema {
                    guard let data = FileManager.default.contents(atPath: schema) else { throw CLIError("cannot read \(schema)") }
                    layer = try LayerDefinition.layer(from: try JSONParser.parse(Array(data)))
                } else {
                    let parsed = try fields.map { text throws(FeatureProblem) in try LayerDefinition.field(parsing: text) }
                    layer = try LayerDefinition.layer(from: LayerDefinition.json(Layer(
                        name: name!, title: title ?? name!, geometry: geometry!, fields: parsed,
                        tileProperties: tileProperties.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } })))
                }
            } catch let e as FeatureProblem {
                throw CLIError(e.reason)
            } catch let e as JSONSyntaxError {
                throw CLIError("\(schema ?? ""): \(e)")
            }
            let store = try GeoStore(path: self.store.db)
            try store.createLayer(layer)
            print("created layer \(layer.name) (\(layer.geometry.rawValue), \(layer.fields.count) field\(layer.fields.count == 1 ? "" : "s"))")
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the layers: built-in and defined, with their fields and counts.")
        @OptionGroup var store: StoreOptions
        @Flag(help: "Print JSON.") var json = false

        func run() throws {
            let store = try GeoStore(path: self.store.db)
            let info = try store.info()
            if json {
                let layers: [JSONValue] = info.layers.map { l in
                    guard case .object(var members) = LayerDefinition.json(l.layer) else { return .null }
                    members.append(("count", .number(Double(l.count))))
                    return .object(members)
                }
                printJSON(.object([("layers", .array(layers))]))
                return
            }
            printTable(["layer", "geometry", "features", "kind", "fields"], info.layers.map { l in
                [l.layer.name, l.layer.geometry.rawValue, String(l.count), l.layer.isBuiltIn ? "built-in" : "defined",
                    l.layer.fields.map { "\($0.name):\($0.type.rawValue)\($0.personal ? ":personal" : "")" }.joined(separator: " ")]
            })
        }
    }

    struct Drop: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Drop a defined layer (refused while it holds features, unless --force).")
        @OptionGroup var store: StoreOptions
        @Argument(help: "The layer.") var name: String
        @Flag(help: "Drop it with its features.") var force = false

        func run() throws {
            let store = try GeoStore(path: self.store.db)
            let n = try store.dropLayer(name, force: force)
            print("dropped layer \(name)\(n > 0 ? " and its \(features(n))" : "")")
        }
    }

    struct Configure: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Change a layer's settings: which properties (fields or extra attributes) its vector tiles carry, its title, its first zoom.")
        @OptionGroup var store: StoreOptions
        @Argument(help: "The layer (built-in or defined).") var name: String
        @Option(help: "Properties carried in vector tiles, comma-separated (e.g. type,name,status,capacity,FLOW).") var tileProperties: String?
        @Option(help: "The lowest zoom its tiles carry it at.") var minZoom: Int?
        @Option(help: "A new title (defined layers).") var title: String?

        func run() throws {
            let store = try GeoStore(path: self.store.db)
            var layer = try store.layer(named: name)
            if let tileProperties { layer.tileProperties = tileProperties.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
            if let minZoom {
                guard (0...22).contains(minZoom) else { throw CLIError("--min-zoom must be 0 to 22") }
                layer.minZoom = minZoom
            }
            if let title {
                guard !layer.isBuiltIn else { throw CLIError("\(name) is built in: its title is GeoGrid's") }
                layer.title = title
            }
            try store.configureLayer(layer)
            print("layer \(name): tiles carry \(layer.tileProperties.joined(separator: ", ")) from zoom \(layer.minZoom)")
        }
    }
}

extension LayerGeometry: ExpressibleByArgument {}
