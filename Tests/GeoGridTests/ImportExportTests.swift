import Foundation
import GeoGrid
import TestSupport
import Testing

@Suite struct ImportExportTests {
    static let layers: [Layer] = Layer.mapLayers

    /// The demo city, imported, exported, imported into a second store and exported again, gives the same
    /// text; and what was exported equals what the source said (coordinates to 7 decimals).
    @Test func roundTripOfTheDemoCity() throws {
        let (first, d1) = try makeStore()
        let (second, d2) = try makeStore()
        _ = (d1, d2)
        for layer in Self.layers {
            let source = Fixtures.demoCity.appendingPathComponent("\(layer.rawValue).geojson")
            let report = try first.importFeatures(from: InputBytes(path: source.path), options: ImportOptions(layer: layer, format: .geojson))
            #expect(report.imported > 0)
            let exported = try exportText(first, layer)
            try importText(second, layer, exported, format: .geojsonseq)
            #expect(try exportText(second, layer) == exported, "\(layer)")

            // Compare with the source file as parsed by Foundation, feature by feature.
            let original = try JSONSerialization.jsonObject(with: Data(contentsOf: source)) as! [String: Any]
            let features = original["features"] as! [[String: Any]]
            let lines = exported.split(separator: "\n")
            #expect(lines.count == features.count)
            for (line, feature) in zip(lines, features) {
                let out = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
                let props = feature["properties"] as! [String: Any]
                let outProps = out["properties"] as! [String: Any]
                for (k, v) in props where !(v is NSNull) {
                    if let n = v as? NSNumber, !(v is String) {
                        #expect((outProps[k] as? NSNumber)?.doubleValue == n.doubleValue, "\(layer) \(k)")
                    } else {
                        #expect(outProps[k] as? String == v as? String, "\(layer) \(k)")
                    }
                }
                let g1 = feature["geometry"] as! [String: Any], g2 = out["geometry"] as! [String: Any]
                let c1 = Self.flatten(g1["coordinates"]!), c2 = Self.flatten(g2["coordinates"]!)
                #expect(c1.count == c2.count && zip(c1, c2).allSatisfy { abs($0 - $1) < 5e-8 }, "\(layer) geometry")
            }
        }
    }

    static func flatten(_ v: Any) -> [Double] {
        if let n = v as? NSNumber { return [n.doubleValue] }
        return (v as? [Any] ?? []).flatMap(flatten)
    }

    @Test func exportedNumbersHaveAtMostSevenDecimals() throws {
        let (store, dir) = try makeStore()
        _ = dir
        try importText(store, .resources, #"{"type":"Feature","properties":{"type":"aed"},"geometry":{"type":"Point","coordinates":[24.123456789012345,60.98765432109876]}}"#)
        let text = try exportText(store, .resources)
        #expect(text.contains("[24.1234568,60.9876543]"), "\(text)")
    }

    @Test func polygonsAreStoredWithRFC7946Winding() throws {
        let (store, dir) = try makeStore()
        _ = dir
        // Exterior clockwise, hole counter-clockwise: the opposite of RFC 7946 §3.1.6.
        try importText(store, .buildings, #"{"type":"Feature","properties":{},"geometry":{"type":"Polygon","coordinates":[[[0,0],[0,10],[10,10],[10,0],[0,0]],[[2,2],[4,2],[4,4],[2,4],[2,2]]]}}"#)
        let feature = try GeoJSON.feature(from: JSONParser.parse(exportText(store, .buildings)))
        guard case .multiPolygon(let polys) = feature.geometry else { Issue.record("not a multipolygon"); return }
        #expect(polys[0][0].signedArea2 > 0, "exterior counter-clockwise")
        #expect(polys[0][1].signedArea2 < 0, "hole clockwise")
    }

    @Test func bboxExportAgreesWithSpatiaLite() throws {
        let (store, dir) = try makeStore()
        _ = dir
        try store.importFeatures(from: InputBytes(path: Fixtures.demoCity.appendingPathComponent("roads.geojson").path), options: ImportOptions(layer: .roads, format: .geojson))
        let boxes = [BBox(minX: 24.94, minY: 60.166, maxX: 24.945, maxY: 60.169), BBox(minX: 24.935, minY: 60.17, maxX: 24.936, maxY: 60.171),
            BBox(minX: 24.9501, minY: 60.1701, maxX: 24.9502, maxY: 60.1702)]
        for box in boxes {
            let ours = try exportText(store, .roads, bbox: box).split(separator: "\n").map { line -> Int64 in
                guard case .int(let id)? = try GeoJSON.feature(from: JSONParser.parse(String(line))).id else { return -1 }
                return id
            }
            // The oracle: SpatiaLite's own ST_Intersects against the box, over every row.
            let theirs: [Int64] = try store.read { db in
                let s = try db.prepare("SELECT id FROM roads WHERE ST_Intersects(geom, BuildMbr(?, ?, ?, ?, 4326)) ORDER BY id")
                try s.bind([.real(box.minX), .real(box.minY), .real(box.maxX), .real(box.maxY)])
                var ids: [Int64] = []
                while try s.step() { ids.append(s.int64(0)) }
                return ids
            }
            #expect(ours == theirs, "\(box)")
            #expect(!theirs.isEmpty || box.maxX - box.minX < 0.001)
        }
    }

    @Test func anInvalidFeatureAbortsTheWholeImport() throws {
        let (store, dir) = try makeStore()
        _ = dir
        let good = #"{"type":"Feature","properties":{"code":"910091001001001"},"geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]}}"#
        let badCode = #"{"type":"Feature","properties":{"code":"91009100100100"},"geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]}}"#
        let selfIntersecting = #"{"type":"Feature","properties":{"code":"910091001001002"},"geometry":{"type":"Polygon","coordinates":[[[0,0],[2,2],[2,0],[0,1],[0,0]]]}}"#
        let outOfRange = #"{"type":"Feature","properties":{"code":"910091001001003"},"geometry":{"type":"Polygon","coordinates":[[[0,0],[181,0],[1,1],[0,0]]]}}"#
        for (bad, message) in [(badCode, "sequence number 0"), (selfIntersecting, "Self-intersection"), (outOfRange, "longitude 181.0 is outside"),
            ("{\"type\":\"Feature\",", "invalid JSON")]
        {
            #expect {
                try importText(store, .grids, [good, bad, good.replacingOccurrences(of: "001001001", with: "001001009")].joined(separator: "\n"), format: .geojsonseq)
            } throws: { error in
                "\(error)".hasPrefix("feature 1 (line 2): ") && "\(error)".contains(message)
            }
            #expect(try exportText(store, .grids).isEmpty, "nothing of the import was kept")
        }
    }

    @Test func skipInvalidKeepsTheValidAndReportsTheRest() throws {
        let (store, dir) = try makeStore()
        _ = dir
        let text = """
            {"type":"Feature","properties":{"type":"hydrant"},"geometry":{"type":"Point","coordinates":[24.9,60.1]}}
            {"type":"Feature","properties":{"type":"Hydrant!"},"geometry":{"type":"Point","coordinates":[24.9,60.1]}}
            not json
            {"type":"Feature","properties":{"type":"aed","capacity":-1},"geometry":{"type":"Point","coordinates":[24.9,60.1]}}
            {"type":"Feature","properties":{"type":"aed","capacity":"2"},"geometry":{"type":"Point","coordinates":[24.9,60.2]}}
            """
        let report = try importText(store, .resources, text, format: .geojsonseq) { $0.skipInvalid = true }
        #expect(report.imported == 2)
        #expect(report.rejected.map(\.line) == [2, 3, 4])
        #expect(report.rejected[0].reason.contains("lower-case name"))
        #expect(report.rejected[1].source == "not json")
        #expect(report.rejected[2].reason.contains("below 0"))
        let exported = try exportText(store, .resources)
        #expect(exported.contains("\"capacity\":2"), "numeric strings are coerced to the field's type")
        #expect(exported.contains("\"status\":\"in_service\""), "status defaults to in_service")
    }

    @Test func duplicateCodesAreRefusedWithAClearReason() throws {
        let (store, dir) = try makeStore()
        _ = dir
        let g = #"{"type":"Feature","properties":{"code":"910091001001001"},"geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]}}"#
        try importText(store, .grids, g)
        #expect {
            try importText(store, .grids, g)
        } throws: { "\($0)".contains("code is already in the store") }
    }

    @Test func derivedCodesMustAgree() throws {
        let (store, dir) = try makeStore()
        _ = dir
        let g = #"{"type":"Feature","properties":{"code":"910091001001001","community_code":"910091001002"},"geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]}}"#
        #expect {
            try importText(store, .grids, g)
        } throws: { "\($0)".contains("contradicts the code") }
        let c = #"{"type":"Feature","properties":{"code":"910091001"},"geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]}}"#
        try importText(store, .communities, c)
        let out = try exportText(store, .communities)
        #expect(out.contains("\"level\":\"street\"") && out.contains("\"parent_code\":\"910091\""))
    }

    @Test func csvWithLonLatAndMappedColumns() throws {
        let (store, dir) = try makeStore()
        _ = dir
        let csv = "id,Longitude,Latitude,kind,label\r\n7,24.95,60.17,hydrant,\"Hydrant, \"\"north\"\"\"\r\n8,24.96,60.18,aed,\r\n"
        let report = try importText(store, .resources, csv, format: .csv) {
            $0.mapping = PropertyMapping(["type": "kind", "name": "label"])
        }
        #expect(report.imported == 2)
        #expect(report.ignoredProperties.isEmpty)
        let out = try exportText(store, .resources)
        #expect(out.contains(#"{"type":"Feature","id":7,"geometry":{"type":"Point","coordinates":[24.95,60.17]},"properties":{"type":"hydrant","name":"Hydrant, \"north\"","#))
        #expect(out.contains("\"id\":8"))
    }

    @Test func csvWithWKTAndConstants() throws {
        let (store, dir) = try makeStore()
        _ = dir
        let csv = """
            wkt;name
            "LINESTRING (24.9 60.1, 24.91 60.11)";Mannerheimintie
            MULTILINESTRING Z ((24.9 60.1 5, 24.91 60.11 6), (24.92 60.1 0, 24.93 60.1 0));Esplanadi
            POINT (1 2);Wrong
            """
        var options = CSVOptions()
        options.delimiter = UInt8(ascii: ";")
        #expect {
            try importText(store, .roads, csv, format: .csv) {
                $0.csv = options
                $0.mapping.constants = ["class": "primary"]
            }
        } throws: { "\($0)".hasPrefix("feature 2 (line 4): geometry type Point does not fit layer roads") }
        let report = try importText(store, .roads, csv, format: .csv) {
            $0.csv = options
            $0.mapping.constants = ["class": "primary"]
            $0.skipInvalid = true
        }
        #expect(report.imported == 2)
        let out = try exportText(store, .roads)
        #expect(out.contains(#""coordinates":[[[24.9,60.1],[24.91,60.11]],[[24.92,60.1],[24.93,60.1]]]},"properties":{"name":"Esplanadi","class":"primary""#))
    }

    /// Coordinates in another CRS are transformed through PROJ; the vectors are cs2cs's (PROJ 9.1.1).
    @Test func importFromWebMercatorAgreesWithCs2cs() throws {
        let rows = try String(contentsOf: Fixtures.url("crs-vectors/proj_cs2cs_vectors.csv"), encoding: .utf8).components(separatedBy: .newlines).dropFirst()
            .map { $0.split(separator: ",").map(String.init) }
            .filter { $0.count >= 7 && $0[1] == "EPSG:4326" && $0[2] == "EPSG:3857" }
        #expect(rows.count >= 3)
        let (store, dir) = try makeStore()
        _ = dir
        let features = rows.map { r in
            #"{"type":"Feature","properties":{"type":"hydrant","name":"\#(r[0])"},"geometry":{"type":"Point","coordinates":[\#(r[5]),\#(r[6])]}}"#
        }
        try importText(store, .resources, features.joined(separator: "\n"), format: .geojsonseq) { $0.crs = "EPSG:3857" }
        let out = try exportText(store, .resources).split(separator: "\n")
        for (line, r) in zip(out, rows) {
            guard case .point(let p) = try GeoJSON.feature(from: JSONParser.parse(String(line))).geometry else { continue }
            #expect(abs(p.lon - Double(r[3])!) < 1e-7 && abs(p.lat - Double(r[4])!) < 1e-7, "\(r[0])")
        }
    }

    @Test func cgcs2000IsAcceptedAsDeclaredInTheFile() throws {
        let (store, dir) = try makeStore()
        _ = dir
        let doc = #"{"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"urn:ogc:def:crs:EPSG::4490"}},"features":[{"type":"Feature","properties":{"type":"hydrant"},"geometry":{"type":"Point","coordinates":[116.4,39.9]}}]}"#
        try importText(store, .resources, doc)
        // CGCS2000 and WGS84 agree to well under a metre; PROJ 9.1 treats the step as a no-op.
        #expect(try exportText(store, .resources).contains("[116.4,39.9]"))
        #expect {
            try importText(store, .resources, doc.replacingOccurrences(of: "4490", with: "999999"))
        } throws: { "\($0)".contains("unknown CRS") }
    }
}
