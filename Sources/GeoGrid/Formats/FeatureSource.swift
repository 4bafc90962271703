import Foundation

/// One feature as a source yields it: decoded, or the reason it could not be.
public struct FeatureRecord: Sendable {
    /// 0-based position in the source, counting rejected features too.
    public var index: Int
    /// 1-based line for line-oriented sources (sequences, CSV).
    public var line: Int?
    public var result: Result<Feature, FeatureProblem>
    /// Bytes of the source read so far, for progress.
    public var offset: Int
    /// Where the feature's text stands in the source, for writing rejects back out as they came.
    public var source: Range<Int>
    /// The CRS the source declares (the 2008 GeoJSON `crs` member), if any.
    public var declaredCRS: String?

    /// "feature 12 (line 13)" — how messages name the feature.
    public var label: String { Self.label(index: index, line: line) }

    public static func label(index: Int, line: Int?) -> String {
        line.map { "feature \(index) (line \($0))" } ?? "feature \(index)"
    }
}

/// A source problem that stops reading altogether (the file is unreadable past this point).
public struct SourceError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// The input formats of `geo-cli import`.
public enum SourceFormat: String, Sendable, CaseIterable {
    /// RFC 7946: a FeatureCollection or a single Feature; a sequence of features is detected too.
    case geojson
    /// Newline-delimited GeoJSON or RFC 8142 GeoJSON text sequences: one feature per line.
    case geojsonseq
    /// CSV with lon/lat columns or a WKT column.
    case csv

    /// Guesses the format from a file name.
    public init(guessingFrom path: String) {
        let lower = path.lowercased()
        if lower.hasSuffix(".csv") || lower.hasSuffix(".tsv") {
            self = .csv
        } else if [".geojsonl", ".geojsons", ".geojsonseq", ".ndjson", ".jsonl", ".ldjson"].contains(where: lower.hasSuffix) {
            self = .geojsonseq
        } else {
            self = .geojson
        }
    }
}

/// Bytes of an input: a file mapped into memory, or standard input read whole.
public final class InputBytes: Sendable {
    public let data: Data
    public let name: String

    public init(path: String) throws(SourceError) {
        if path == "-" {
            data = FileHandle.standardInput.readDataToEndOfFile()
            name = "standard input"
        } else {
            do {
                data = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped)
            } catch {
                throw SourceError("cannot read \(path): \((error as NSError).localizedDescription)")
            }
            name = path
        }
    }

    public init(data: Data, name: String) {
        self.data = data
        self.name = name
    }
}

/// Reads features from GeoJSON, GeoJSON sequences or CSV, in source order, one at a time: a
/// FeatureCollection is walked feature by feature, never held whole as parsed JSON.
public struct FeatureReader {
    public let format: SourceFormat
    public var csvOptions = CSVOptions()

    public init(format: SourceFormat) { self.format = format }

    public func read(_ input: InputBytes, _ body: (FeatureRecord) throws -> Void) throws {
        try input.data.withUnsafeBytes { raw in
            let bytes = raw.bindMemory(to: UInt8.self)
            switch format {
            case .geojson: try Self.readDocument(bytes, body)
            case .geojsonseq: try Self.readSequence(bytes, from: 0, firstIndex: 0, body)
            case .csv: try CSVFeatureReader(options: csvOptions).read(bytes, body)
            }
        }
    }

    private static func readDocument(
        _ bytes: UnsafeBufferPointer<UInt8>, _ body: (FeatureRecord) throws -> Void
    ) throws {
        var p = JSONParser(bytes)
        if bytes.count >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF {
            p = JSONParser(bytes, offset: 3)  // UTF-8 byte order mark
        }
        guard let first = p.peek() else { throw SourceError("the input is empty") }
        if first == 0x1E { return try readSequence(bytes, from: p.offset, firstIndex: 0, body) }
        guard first == UInt8(ascii: "{") else { throw SourceError("expected a GeoJSON object at byte \(p.offset)") }
        _ = p.consume(UInt8(ascii: "{"))
        var members: [(String, JSONValue)] = []
        var index = 0
        var sawFeatures = false
        var crs: String?
        do {
            if !p.consume(UInt8(ascii: "}")) {
                repeat {
                    guard p.peek() == UInt8(ascii: "\"") else { throw p.error("expected a member name") }
                    let key = try p.parseString()
                    try p.expect(UInt8(ascii: ":"), "':'")
                    if key == "features" {
                        sawFeatures = true
                        try p.expect(UInt8(ascii: "["), "the features array")
                        if !p.consume(UInt8(ascii: "]")) {
                            repeat {
                                let value: JSONValue
                                p.skipWhitespace()
                                let start = p.offset
                                do { value = try p.parseValue() } catch let e as JSONSyntaxError {
                                    throw SourceError("feature \(index): \(e) (the rest of the file cannot be read)")
                                }
                                let result = Result { () throws(FeatureProblem) in try GeoJSON.feature(from: value) }
                                try body(FeatureRecord(index: index, line: nil, result: result, offset: p.offset, source: start..<p.offset, declaredCRS: crs))
                                index += 1
                            } while p.consume(UInt8(ascii: ","))
                            try p.expect(UInt8(ascii: "]"), "',' or ']' after a feature")
                        }
                    } else {
                        let value = try p.parseValue()
                        if key == "crs" {
                            let name = try crsName(value)
                            if index > 0 && !CRSName.isLonLatWGS84(name) {
                                throw SourceError("the crs member must come before the features")
                            }
                            crs = name
                        }
                        members.append((key, value))
                    }
                } while p.consume(UInt8(ascii: ","))
                try p.expect(UInt8(ascii: "}"), "',' or '}'")
            }
        } catch let e as JSONSyntaxError {
            throw SourceError("\(e)")
        }
        let object = JSONValue.object(members)
        let type = object["type"]?.stringValue
        if sawFeatures || type == "FeatureCollection" {
            do {
                try GeoJSON.checkMembers(members, forbidden: ["properties", "geometry", "coordinates", "geometries"], of: "the FeatureCollection")
            } catch { throw SourceError(error.reason) }
        }
        p.skipWhitespace()
        if !p.atEnd {
            // More text after the first object: newline-delimited features without the file name saying so.
            guard !sawFeatures, type == "Feature" else { throw SourceError("unexpected text after the GeoJSON object at byte \(p.offset)") }
            let result = Result { () throws(FeatureProblem) in try GeoJSON.feature(from: object) }
            try body(FeatureRecord(index: 0, line: 1, result: result, offset: p.offset, source: 0..<p.offset, declaredCRS: crs))
            return try readSequence(bytes, from: p.offset, firstIndex: 1, body)
        }
        if sawFeatures {
            guard type == "FeatureCollection" else {
                throw SourceError("an object with \"features\" must have type FeatureCollection, not \(type.map { "\"\($0)\"" } ?? "none")")
            }
        } else if type == "Feature" {
            let result = Result { () throws(FeatureProblem) in try GeoJSON.feature(from: object) }
            try body(FeatureRecord(index: 0, line: nil, result: result, offset: p.offset, source: 0..<p.offset, declaredCRS: crs))
        } else if type == "FeatureCollection" {
            throw SourceError("the FeatureCollection has no \"features\" array")
        } else if let type {
            throw SourceError("expected a FeatureCollection or a Feature, found type \"\(type)\"")
        } else {
            throw SourceError("the object has no \"type\" member: not GeoJSON")
        }
    }

    /// The name in a 2008-spec `crs` member: `{"type": "name", "properties": {"name": "EPSG:4490"}}`.
    private static func crsName(_ value: JSONValue) throws -> String {
        if case .null = value { return "OGC:CRS84" }
        guard value["type"]?.stringValue == "name", let name = value["properties"]?["name"]?.stringValue else {
            throw SourceError("the crs member must be of the form {\"type\": \"name\", \"properties\": {\"name\": …}}")
        }
        return name
    }

    /// One feature per line (newline-delimited GeoJSON), or RS-prefixed texts (RFC 8142). Each line is
    /// parsed on its own, so a bad line is one rejected feature and reading goes on.
    private static func readSequence(
        _ bytes: UnsafeBufferPointer<UInt8>, from start: Int, firstIndex: Int, _ body: (FeatureRecord) throws -> Void
    ) throws {
        var index = firstIndex
        var line = 1
        for i in 0..<start where bytes[i] == 0x0A { line += 1 }
        var lineStart = start
        var pos = start
        while lineStart < bytes.count {
            while pos < bytes.count && bytes[pos] != 0x0A && bytes[pos] != 0x1E { pos += 1 }
            let chunk = UnsafeBufferPointer(rebasing: bytes[lineStart..<pos])
            if chunk.contains(where: { $0 != 0x20 && $0 != 0x09 && $0 != 0x0D }) {
                var p = JSONParser(chunk)
                let result: Result<Feature, FeatureProblem>
                do {
                    let value = try p.parseValue()
                    p.skipWhitespace()
                    if !p.atEnd { throw p.error("more than one value on the line") }
                    result = Result { () throws(FeatureProblem) in try GeoJSON.feature(from: value) }
                } catch let e as JSONSyntaxError {
                    result = .failure(FeatureProblem("invalid JSON at column \(e.offset + 1): \(e.message)"))
                }
                try body(FeatureRecord(index: index, line: line, result: result, offset: pos, source: lineStart..<pos))
                index += 1
            }
            if pos < bytes.count && bytes[pos] == 0x0A { line += 1 }
            pos += 1
            lineStart = pos
        }
    }
}
