import ArgumentParser
import Foundation
import GeoGrid

struct Import: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Import features into a layer, all or nothing.",
        discussion: """
            Formats: GeoJSON (a FeatureCollection or a Feature), newline-delimited GeoJSON or RFC 8142 sequences, \
            and CSV with lon/lat or WKT columns. The import is one transaction: an invalid feature aborts it \
            and the store is left unchanged, unless --skip-invalid is given. Features are numbered from 0.
            """)
    @OptionGroup var store: StoreOptions
    @Option(help: "The layer: \(Layer.builtIn.map(\.name).joined(separator: ", ")) or one the city defined (geo-cli layer list).") var layer: String
    @Argument(help: "The file to import; - for standard input.") var file: String
    @Option(help: "geojson, geojsonseq or csv (default: from the file name).") var format: SourceFormat?
    @Option(name: .customLong("map"), help: "Take a field from a differently named property: field=property (repeatable).")
    var mappings: [String] = []
    @Option(name: .customLong("set"), help: "Give a field one value where the source has none: field=value (repeatable), e.g. type=hydrant.")
    var constants: [String] = []
    @Option(help: "The input's CRS when not WGS84 lon/lat, e.g. EPSG:4490 or EPSG:3857.") var crs: String?
    @Flag(help: "Import the valid features and leave out the others.") var skipInvalid = false
    @Flag(help: "Drop the properties no field takes (by default they are kept as the feature's extra attributes).") var dropUnmapped = false
    @Option(help: "With --skip-invalid: write the left-out features and their reasons here (newline-delimited JSON).")
    var rejects: String?
    @OptionGroup var columns: CSVColumns

    func validate() throws {
        if rejects != nil && !skipInvalid { throw ValidationError("--rejects goes with --skip-invalid") }
    }

    func run() throws {
        let store = try GeoStore(path: self.store.db)
        let layer = try store.layer(named: self.layer)
        var options = ImportOptions(layer: layer, format: format ?? SourceFormat(guessingFrom: file))
        options.keepExtra = !dropUnmapped
        do { options.mapping = try PropertyMapping(parsing: mappings, constants: constants, layer: layer) } catch { throw CLIError("\(error)") }
        options.crs = crs
        options.skipInvalid = skipInvalid
        columns.apply(to: &options.csv)
        let input = try InputBytes(path: file)
        let bar = ProgressBar(label: "importing \(layer.rawValue)")
        let report = try store.importFeatures(from: input, options: options, progress: bar?.callback)
        bar?.finish()
        if let rejects { try writeRejects(report.rejected, to: rejects) }
        var line = "imported \(features(report.imported)) into \(layer.rawValue)"
        if skipInvalid { line += ", left out \(report.rejected.count)" + (rejects.map { " (see \($0))" } ?? "") }
        printErr(line)
        if !report.ignoredProperties.isEmpty {
            let names = report.ignoredProperties.sorted()
            printErr("dropped properties no field takes (use --map field=property, or leave out --drop-unmapped to keep them): \(names.prefix(12).joined(separator: ", "))\(names.count > 12 ? ", … (\(names.count) in all)" : "")")
        }
        if skipInvalid && rejects == nil {
            for r in report.rejected.prefix(20) { printErr("  left out feature \(r.index)\(r.line.map { " (line \($0))" } ?? ""): \(r.reason)") }
        }
    }
}

struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Export a layer as GeoJSON or newline-delimited GeoJSON, streamed.")
    @OptionGroup var store: StoreOptions
    @Option(help: "The layer: \(Layer.builtIn.map(\.name).joined(separator: ", ")) or one the city defined (geo-cli layer list).") var layer: String
    @Option(parsing: .unconditional, help: "Only features meeting minx,miny,maxx,maxy (lon/lat); western and southern values may start with -.") var bbox: String?
    @Option(name: .shortAndLong, help: "The output file (default: standard output).") var output: String?
    @Option(help: "geojson or geojsonseq (default: from the file name).") var format: ExportFormat?
    @Option(help: "Decimals of coordinates (at most 7).") var precision = 7

    func validate() throws {
        if let bbox, BBox(parsing: bbox) == nil { throw ValidationError("--bbox must be minx,miny,maxx,maxy with min ≤ max") }
        if !(0...7).contains(precision) { throw ValidationError("--precision must be 0 to 7") }
    }

    func run() throws {
        let store = try GeoStore(path: self.store.db)
        let layer = try store.layer(named: self.layer)
        var options = ExportOptions(layer: layer)
        options.bbox = bbox.flatMap(BBox.init(parsing:))
        options.precision = precision
        let guessed: ExportFormat = SourceFormat(guessingFrom: output ?? "").self == .geojsonseq ? .geojsonseq : .geojson
        options.format = format ?? guessed
        let handle: FileHandle
        var temporary: String?
        if let output {
            // Written beside the target and renamed at the end: no half-written file is left behind.
            let tmp = output + ".part"
            guard FileManager.default.createFile(atPath: tmp, contents: nil), let h = FileHandle(forWritingAtPath: tmp) else {
                throw CLIError("cannot write \(output)")
            }
            handle = h
            temporary = tmp
        } else {
            handle = FileHandle.standardOutput
        }
        do {
            let n = try store.export(options) { chunk in try handle.write(contentsOf: chunk) }
            if let temporary, let output {
                try handle.close()
                _ = try? FileManager.default.removeItem(atPath: output)
                try FileManager.default.moveItem(atPath: temporary, toPath: output)
                printErr("exported \(features(n)) of \(layer.rawValue) to \(output)")
            }
        } catch {
            if let temporary { try? FileManager.default.removeItem(atPath: temporary) }
            throw error
        }
    }
}

/// "1 feature", "2 features".
func features(_ n: Int) -> String { n == 1 ? "1 feature" : "\(n) features" }

/// Where a CSV's geometry is, when its header does not use the usual names.
struct CSVColumns: ParsableArguments {
    @Option(help: "CSV: the longitude column.") var lonColumn: String?
    @Option(help: "CSV: the latitude column.") var latColumn: String?
    @Option(help: "CSV: the WKT geometry column.") var wktColumn: String?

    func apply(to csv: inout CSVOptions) {
        csv.lonColumn = lonColumn
        csv.latColumn = latColumn
        csv.wktColumn = wktColumn
    }
}

/// The features an import left out, one JSON object per line: index, line, reason, and the source text.
func writeRejects(_ rejected: [RejectedFeature], to path: String) throws {
    var out: [UInt8] = []
    for r in rejected {
        var members: [(String, JSONValue)] = [("index", .number(Double(r.index)))]
        if let line = r.line { members.append(("line", .number(Double(line)))) }
        members += [("reason", .string(r.reason)), ("source", .string(r.source))]
        GeoJSONWriter.value(.object(members), into: &out)
        out.append(0x0A)
    }
    guard FileManager.default.createFile(atPath: path, contents: Data(out)) else { throw CLIError("cannot write \(path)") }
}

func printErr(_ s: String) { FileHandle.standardError.write(Data((s + "\n").utf8)) }

/// A progress bar on standard error, shown only when it is a terminal.
final class ProgressBar: @unchecked Sendable {
    let label: String
    private var last = -1

    init?(label: String) {
        guard isatty(2) != 0 else { return nil }
        self.label = label
    }

    func update(_ done: Int, _ total: Int) {
        let percent = total > 0 ? done * 100 / total : 100
        guard percent != last else { return }
        last = percent
        let filled = percent * 30 / 100
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: 30 - filled)
        FileHandle.standardError.write(Data("\r\(label) [\(bar)] \(percent)%".utf8))
    }

    var callback: @Sendable (Int, Int) -> Void { { [self] done, total in self.update(done, total) } }

    func finish() { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
}
