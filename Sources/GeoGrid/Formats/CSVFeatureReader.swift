import Foundation

/// How a CSV file carries its geometry and separates its fields.
public struct CSVOptions: Sendable {
    /// Column names; nil means: find one of the usual names in the header.
    public var lonColumn: String?
    public var latColumn: String?
    public var wktColumn: String?
    public var delimiter: UInt8 = UInt8(ascii: ",")
    public init() {}

    static let lonNames = ["lon", "lng", "long", "longitude", "x"]
    static let latNames = ["lat", "latitude", "y"]
    static let wktNames = ["wkt", "geometry", "geom", "the_geom", "wkt_geom"]
}

/// RFC 4180 CSV: a header row, quoted fields with doubled quotes, CRLF or LF. Every column other than
/// the geometry's becomes a string property; the layer coerces it to its field's type.
struct CSVFeatureReader {
    let options: CSVOptions

    func read(_ bytes: UnsafeBufferPointer<UInt8>, _ body: (FeatureRecord) throws -> Void) throws {
        var cursor = 0
        if bytes.count >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF { cursor = 3 }
        var line = 1
        guard let header = try nextRecord(bytes, &cursor, &line) else { throw SourceError("the CSV file is empty") }
        let names = header.map { $0.trimmingCharacters(in: .whitespaces) }
        let lowered = names.map { $0.lowercased() }
        // Each column becomes a property by its name, so a name given twice has no meaning (found by fuzzing,
        // Fuzz/Regressions/csv); a column with no name (a spreadsheet's row numbers, pandas' index) is left out.
        var seen: Set<String> = []
        for name in names where !name.isEmpty && !seen.insert(name).inserted { throw SourceError("the CSV header names the column '\(name)' twice") }
        func column(_ explicit: String?, _ candidates: [String]) throws -> Int? {
            if let explicit {
                guard let i = names.firstIndex(of: explicit) ?? lowered.firstIndex(of: explicit.lowercased()) else {
                    throw SourceError("the CSV header has no column '\(explicit)' (columns: \(names.joined(separator: ", ")))")
                }
                return i
            }
            return candidates.lazy.compactMap { lowered.firstIndex(of: $0) }.first
        }
        let wkt = try column(options.wktColumn, options.lonColumn == nil ? CSVOptions.wktNames : [])
        let lon = try column(options.lonColumn, CSVOptions.lonNames)
        let lat = try column(options.latColumn, CSVOptions.latNames)
        guard wkt != nil || (lon != nil && lat != nil) else {
            throw SourceError("the CSV header needs lon and lat columns or a WKT column (found: \(names.joined(separator: ", ")))")
        }
        let geometryColumns: Set<Int> = wkt.map { [$0] } ?? [lon!, lat!]
        var index = 0
        while true {
            let startLine = line
            let start = cursor
            guard let fields = try nextRecord(bytes, &cursor, &line) else { break }
            if fields.count == 1 && fields[0].isEmpty { continue }  // blank line
            let result = Result { () throws(FeatureProblem) -> Feature in
                guard fields.count == names.count else {
                    throw FeatureProblem("the row has \(fields.count) fields, the header \(names.count)")
                }
                let geometry: Geometry
                if let wkt {
                    let parsed = try WKT.parse(fields[wkt])
                    if let srid = parsed.srid, srid != 4326 {
                        throw FeatureProblem("WKT has SRID=\(srid); give the file's CRS with --crs instead")
                    }
                    geometry = parsed.geometry
                } else {
                    guard let x = Double(fields[lon!].trimmingCharacters(in: .whitespaces)),
                        let y = Double(fields[lat!].trimmingCharacters(in: .whitespaces))
                    else { throw FeatureProblem("lon/lat '\(fields[lon!])', '\(fields[lat!])' are not numbers") }
                    geometry = .point(Position(x, y))
                }
                var properties: [(String, JSONValue)] = []
                for (i, name) in names.enumerated() where !geometryColumns.contains(i) && name.lowercased() != "id" && !name.isEmpty {
                    properties.append((name, fields[i].isEmpty ? .null : .string(fields[i])))
                }
                var id: FeatureID?
                if let idColumn = lowered.firstIndex(of: "id"), !fields[idColumn].isEmpty { id = .string(fields[idColumn]) }
                return Feature(id: id, geometry: geometry, properties: properties)
            }
            try body(FeatureRecord(index: index, line: startLine, result: result, offset: cursor, source: start..<cursor))
            index += 1
        }
    }

    /// The next record's fields, or nil at the end of the input.
    private func nextRecord(_ b: UnsafeBufferPointer<UInt8>, _ i: inout Int, _ line: inout Int) throws -> [String]? {
        guard i < b.count else { return nil }
        var fields: [String] = []
        var field: [UInt8] = []
        let startLine = line
        while true {
            if i < b.count && b[i] == UInt8(ascii: "\"") && field.isEmpty {
                i += 1
                var closed = false
                while i < b.count {
                    if b[i] == UInt8(ascii: "\"") {
                        if i + 1 < b.count && b[i + 1] == UInt8(ascii: "\"") {
                            field.append(UInt8(ascii: "\""))
                            i += 2
                            continue
                        }
                        i += 1
                        closed = true
                        break
                    }
                    if b[i] == 0x0A { line += 1 }
                    field.append(b[i])
                    i += 1
                }
                guard closed else { throw SourceError("line \(startLine): a quoted CSV field is not closed") }
            }
            while i < b.count && b[i] != options.delimiter && b[i] != 0x0A && b[i] != 0x0D {
                field.append(b[i])
                i += 1
            }
            fields.append(String(decoding: field, as: UTF8.self))
            field.removeAll(keepingCapacity: true)
            if i >= b.count { return fields }
            if b[i] == options.delimiter {
                i += 1
                continue
            }
            if b[i] == 0x0D { i += 1 }
            if i < b.count && b[i] == 0x0A { i += 1 }
            line += 1
            return fields
        }
    }
}
