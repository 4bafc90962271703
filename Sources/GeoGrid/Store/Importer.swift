import Foundation

public struct ImportOptions: Sendable {
    public var layer: Layer
    public var format: SourceFormat
    public var mapping = PropertyMapping()
    /// The source's CRS when it is not WGS84 lon/lat; overrides a `crs` member in the file.
    public var crs: String?
    /// Import the valid features and report the others instead of aborting on the first.
    public var skipInvalid = false
    /// Keep the properties no field takes as extra attributes (the default); false drops them.
    public var keepExtra = true
    public var csv = CSVOptions()

    public init(layer: Layer, format: SourceFormat) {
        self.layer = layer
        self.format = format
    }
}

/// A feature left out of an import, with the reason and its text as it stood in the source.
public struct RejectedFeature: Sendable {
    public var index: Int
    public var line: Int?
    public var reason: String
    public var source: String
}

public struct ImportReport: Sendable {
    public var layer: Layer
    public var imported = 0
    public var rejected: [RejectedFeature] = []
    /// Features whose id was a string other than an integer: the store gave them an id of its own.
    public var idsNotKept = 0
    /// Source properties that no layer field takes (after mapping) and that were dropped (`keepExtra` false).
    public var ignoredProperties: Set<String> = []
}

/// The import stopped: nothing of it was written.
public struct ImportError: Error, CustomStringConvertible, Sendable {
    public var description: String
}

extension GeoStore {
    /// Imports every feature of `input` into `options.layer` in one transaction. Any invalid feature
    /// aborts the whole import and leaves the store as it was, unless `skipInvalid` is set, when the
    /// invalid ones are returned in the report instead.
    @discardableResult
    public func importFeatures(
        from input: InputBytes, options: ImportOptions, progress: (@Sendable (_ done: Int, _ total: Int) -> Void)? = nil
    ) throws -> ImportReport {
        if options.layer.rules == .incidents {
            throw StoreError("cases are imported with `geo-cli incident import`, which numbers, places and routes them and gives each its history")
        }
        return try write { db in try Importer(db: db, options: options).run(input, progress: progress) }
    }
}

/// One import, inside the writer's transaction, as a two-stage pipeline over the machine's cores: a
/// preparing thread reads, decodes, transforms, validates (GEOS) and encodes each feature; the writer's
/// thread only binds and steps the INSERT. Items keep source order, so messages, rejects and the first
/// error are the same as a sequential import's.
final class Importer {
    let db: Connection
    let options: ImportOptions
    let layer: Layer
    private let insert: Statement
    private let index: BulkSpatialIndex

    init(db: Connection, options: ImportOptions) throws {
        self.db = db
        self.options = options
        layer = options.layer
        insert = try db.prepare(Self.insertSQL(layer))
        index = try BulkSpatialIndex(db: db, layer: layer)
        // A large page cache for the import keeps B-tree pages from being spilled to the WAL and rewritten.
        try db.execute("PRAGMA cache_size = -65536")  // KiB: 64 MiB at most, allocated only as used
    }

    deinit { try? db.execute("PRAGMA cache_size = -2000") }

    func run(_ input: InputBytes, progress: (@Sendable (Int, Int) -> Void)?) throws -> ImportReport {
        var report = ImportReport(layer: layer)
        let channel = Channel<[PreparedFeature]>(capacity: 8)
        let options = self.options
        let preparer = Thread {
            do {
                try FeaturePreparer(options: options).run(input, into: channel)
                channel.finish(nil)
            } catch {
                channel.finish(error)
            }
        }
        preparer.stackSize = 8 << 20  // the JSON parser recurses; 8 MiB as on the main thread
        preparer.start()
        defer {
            channel.cancel()  // stops the preparer if the writer gave up early
            channel.waitUntilFinished()
        }
        let total = input.data.count
        var lastProgress = 0
        while let batch = try channel.receive() {
            for item in batch {
                report.ignoredProperties.formUnion(item.ignored)
                switch item.payload {
                case .problem(let reason):
                    try reject(item, reason, input, &report)
                case .row(let row, let blob):
                    do {
                        try store(row, blob)
                        report.imported += 1
                        if item.idNotKept { report.idsNotKept += 1 }
                    } catch let e as SQLiteError where e.isConstraint {
                        try reject(item, Self.explain(e), input, &report)
                    }
                }
                if let progress, item.offset - lastProgress > 1 << 20 {
                    lastProgress = item.offset
                    progress(item.offset, total)
                }
            }
        }
        try index.finish()
        progress?(total, total)
        return report
    }

    private func reject(_ item: PreparedFeature, _ reason: String, _ input: InputBytes, _ report: inout ImportReport) throws {
        guard options.skipInvalid else { throw ImportError(description: "\(item.label): \(reason)") }
        let text = String(decoding: input.data[item.source], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        report.rejected.append(RejectedFeature(index: item.index, line: item.line, reason: reason, source: text))
    }

    private func store(_ row: Row, _ blob: [UInt8]) throws {
        try Self.bind(row, blob, to: insert)
        defer { insert.reset() }
        try insert.step()
        index.add(id: db.lastInsertRowID, box: row.geometry.bbox!)
    }

    /// `INSERT INTO layer (id, fields…, extra_properties, geom) VALUES (?, …)`, bound by `bind`.
    static func insertSQL(_ layer: Layer) -> String {
        let columns = ["id"] + layer.fields.map(\.column) + [Layer.extraColumn, "geom"]
        return "INSERT INTO \(layer.table) (\(columns.joined(separator: ", "))) VALUES (\(columns.map { _ in "?" }.joined(separator: ", ")))"
    }

    static func bind(_ row: Row, _ blob: [UInt8], to s: Statement) throws {
        try s.bind(row.id.map(FieldValue.integer) ?? .null, at: 1)
        for (i, v) in row.values.enumerated() { try s.bind(v, at: Int32(i + 2)) }
        try s.bind(row.extraColumnValue, at: Int32(row.values.count + 2))
        try s.bind(blob: blob, at: Int32(row.values.count + 3))
    }

    /// SQLite's constraint messages in the user's terms.
    static func explain(_ e: SQLiteError) -> String {
        if e.message.hasPrefix("UNIQUE constraint failed: "), let column = e.message.split(separator: ".").last {
            return column == "id" ? "a feature with this id is already in the store" : "\(column) is already in the store (it must be unique)"
        }
        return e.message
    }
}

/// A feature made ready for the INSERT, or the reason it cannot be stored.
struct PreparedFeature: Sendable {
    enum Payload: Sendable {
        case row(Row, blob: [UInt8])
        case problem(String)
    }
    var index: Int
    var line: Int?
    var source: Range<Int>
    var offset: Int
    var payload: Payload
    var ignored: [String] = []
    var idNotKept = false

    var label: String { FeatureRecord.label(index: index, line: line) }
}

/// The preparing stage: owns its GEOS context and PROJ transform, on its own thread.
final class FeaturePreparer {
    let options: ImportOptions
    let layer: Layer
    let geos = GEOSContext()
    private var transform: ProjTransform?
    private var transformFor: String?
    private let consumed: Set<String>

    init(options: ImportOptions) {
        self.options = options
        layer = options.layer
        consumed = layer.consumedProperties(options.mapping)
    }

    func run(_ input: InputBytes, into channel: Channel<[PreparedFeature]>) throws {
        var reader = FeatureReader(format: options.format)
        reader.csvOptions = options.csv
        var batch: [PreparedFeature] = []
        batch.reserveCapacity(256)
        try reader.read(input) { record in
            var item = PreparedFeature(index: record.index, line: record.line, source: record.source, offset: record.offset, payload: .problem(""))
            do {
                let feature = try record.result.get()
                if !options.keepExtra { item.ignored = feature.properties.compactMap { consumed.contains($0.0) ? nil : $0.0 } }
                if case .string(let s)? = feature.id, Int64(s) == nil { item.idNotKept = true }
                let row = try prepare(feature, declaredCRS: record.declaredCRS)
                item.payload = .row(row, blob: SpatiaLiteBlob.encode(row.geometry))
            } catch let problem as FeatureProblem {
                item.payload = .problem(problem.reason)
            }
            batch.append(item)
            if batch.count == 256 {
                guard channel.send(batch) else { throw CancellationError() }
                batch.removeAll(keepingCapacity: true)
            }
        }
        if !batch.isEmpty { _ = channel.send(batch) }
    }

    private func prepare(_ feature: Feature, declaredCRS: String?) throws -> Row {
        var feature = feature
        if let crs = options.crs ?? declaredCRS, !CRSName.isLonLatWGS84(crs) {
            let t = try transformer(for: crs)
            do {
                feature.geometry = try feature.geometry.mapPositions { p throws(ProjError) in try t.transform(p) }
            } catch let e as ProjError {
                throw FeatureProblem(e.description)
            }
        }
        var row = try layer.row(for: feature, mapping: options.mapping, keepExtra: options.keepExtra)
        // CSV has only text: an extra attribute that reads as a JSON number or boolean is kept as one (so a
        // hydrant's flow is 1060, not "1060"); "007" and "1,5" stay text.
        if options.format == .csv { row.extra = row.extra.map { ($0.0, Self.typed($0.1)) } }
        if let reason = geos.invalidityReason(row.geometry) { throw FeatureProblem("invalid geometry: \(reason)") }
        // The geometry_columns constraint SpatiaLite's trigger would check, by construction.
        precondition(row.geometry.kind.rawValue.uppercased() == layer.columnGeometry, "row geometry does not match the column")
        return row
    }

    static func typed(_ v: JSONValue) -> JSONValue {
        guard case .string(let s) = v else { return v }
        if s == "true" { return .bool(true) }
        if s == "false" { return .bool(false) }
        let b = Array(s.utf8)
        var i = 0
        if i < b.count, b[i] == 45 { i += 1 }
        guard i < b.count, b[i] >= 48, b[i] <= 57 else { return v }
        if b[i] == 48 && i + 1 < b.count && b[i + 1] >= 48 && b[i + 1] <= 57 { return v }  // a leading zero: a code
        while i < b.count, b[i] >= 48, b[i] <= 57 { i += 1 }
        if i < b.count, b[i] == 46 {
            i += 1
            let start = i
            while i < b.count, b[i] >= 48, b[i] <= 57 { i += 1 }
            if i == start { return v }
        }
        if i < b.count, b[i] == 101 || b[i] == 69 {
            i += 1
            if i < b.count, b[i] == 43 || b[i] == 45 { i += 1 }
            let start = i
            while i < b.count, b[i] >= 48, b[i] <= 57 { i += 1 }
            if i == start { return v }
        }
        // Integers past 15 digits (ids, phone-like codes) would not survive a double: kept as text.
        guard i == b.count, b.count <= 15 || b.contains(46) || b.contains(101) || b.contains(69), let d = Double(s), d.isFinite else { return v }
        return .number(d)
    }

    private func transformer(for crs: String) throws -> ProjTransform {
        if let transform, transformFor == crs { return transform }
        do {
            let t = try ProjTransform(from: CRSName.canonical(crs))
            transform = t
            transformFor = crs
            return t
        } catch {
            throw ImportError(description: error.description)
        }
    }
}
