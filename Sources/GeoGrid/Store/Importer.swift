import Foundation

public struct ImportOptions: Sendable {
    public var layer: Layer
    public var format: SourceFormat
    public var mapping = PropertyMapping()
    /// The source's CRS when it is not WGS84 lon/lat; overrides a `crs` member in the file.
    public var crs: String?
    /// Import the valid features and report the others instead of aborting on the first.
    public var skipInvalid = false
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
    /// Source properties that no layer field takes (after mapping), so users see what was dropped.
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
        try write { db in try Importer(db: db, options: options).run(input, progress: progress) }
    }
}

/// One import, inside the writer's transaction.
final class Importer {
    let db: Connection
    let options: ImportOptions
    let layer: Layer
    let geos = GEOSContext()
    private var transform: ProjTransform?
    private var transformFor: String?
    private let insert: Statement
    private var consumed: Set<String>

    init(db: Connection, options: ImportOptions) throws {
        self.db = db
        self.options = options
        layer = options.layer
        let columns = ["id"] + layer.fields.map(\.name) + ["geom"]
        insert = try db.prepare(
            "INSERT INTO \(layer.rawValue) (\(columns.joined(separator: ", "))) VALUES (\(columns.map { _ in "?" }.joined(separator: ", ")))")
        consumed = Set(layer.fields.map { options.mapping.sourceForField[$0.name] ?? $0.name })
    }

    func run(_ input: InputBytes, progress: (@Sendable (Int, Int) -> Void)?) throws -> ImportReport {
        var report = ImportReport(layer: layer)
        var reader = FeatureReader(format: options.format)
        reader.csvOptions = options.csv
        let total = input.data.count
        var lastProgress = 0
        try reader.read(input) { record in
            do {
                let feature = try record.result.get()
                for (key, _) in feature.properties where !consumed.contains(key) { report.ignoredProperties.insert(key) }
                try store(feature, declaredCRS: record.declaredCRS)
                report.imported += 1
                if case .string(let s)? = feature.id, Int64(s) == nil { report.idsNotKept += 1 }
            } catch let problem as FeatureProblem {
                try reject(record, problem.reason, input, &report)
            } catch let e as SQLiteError where e.isConstraint {
                try reject(record, Self.explain(e), input, &report)
            }
            if let progress, record.offset - lastProgress > 1 << 20 {
                lastProgress = record.offset
                progress(record.offset, total)
            }
        }
        progress?(total, total)
        return report
    }

    private func reject(_ record: FeatureRecord, _ reason: String, _ input: InputBytes, _ report: inout ImportReport) throws {
        guard options.skipInvalid else { throw ImportError(description: "\(record.label): \(reason)") }
        let text = String(decoding: input.data[record.source], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        report.rejected.append(RejectedFeature(index: record.index, line: record.line, reason: reason, source: text))
    }

    private func store(_ feature: Feature, declaredCRS: String?) throws {
        var feature = feature
        if let crs = options.crs ?? declaredCRS, !CRSName.isLonLatWGS84(crs) {
            let t = try transformer(for: crs)
            do {
                feature.geometry = try feature.geometry.mapPositions { p throws(ProjError) in try t.transform(p) }
            } catch let e as ProjError {
                throw FeatureProblem(e.description)
            }
        }
        let row = try layer.row(for: feature, mapping: options.mapping)
        if let reason = geos.invalidityReason(row.geometry) { throw FeatureProblem("invalid geometry: \(reason)") }
        try insert.bind(row.id.map(FieldValue.integer) ?? .null, at: 1)
        for (i, v) in row.values.enumerated() { try insert.bind(v, at: Int32(i + 2)) }
        try insert.bind(blob: SpatiaLiteBlob.encode(row.geometry), at: Int32(row.values.count + 2))
        defer { insert.reset() }
        try insert.step()
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

    /// SQLite's constraint messages in the user's terms.
    static func explain(_ e: SQLiteError) -> String {
        if e.message.hasPrefix("UNIQUE constraint failed: "), let column = e.message.split(separator: ".").last {
            return column == "id" ? "a feature with this id is already in the store" : "\(column) is already in the store (it must be unique)"
        }
        return e.message
    }
}
