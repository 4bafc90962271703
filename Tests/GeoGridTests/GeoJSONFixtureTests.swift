import Foundation
import GeoGrid
import TestSupport
import Testing

/// Peers' GeoJSON test sets: every invalid file is refused with a clear message and leaves the store
/// as it was; every valid file that GeoGrid can store is stored.
@Suite struct GeoJSONFixtureTests {
    /// The layer a fixture goes to, from the first geometry type it names: resources need a type, given with a constant.
    static func layer(for url: URL) -> Layer {
        let text = (try? String(contentsOf: url, encoding: .utf8)) ?? ""
        let kinds: [(String, Layer)] = [("\"Polygon\"", .buildings), ("\"MultiPolygon\"", .buildings), ("\"LineString\"", .roads),
            ("\"MultiLineString\"", .roads), ("\"Point\"", .resources)]
        let first = kinds.compactMap { k, l in text.range(of: k).map { ($0.lowerBound, l) } }.min { $0.0 < $1.0 }
        return first?.1 ?? .buildings
    }

    /// Imports `url` into a store that already holds one building, one road and one resource. Returns the
    /// error, and checks that on error every layer is exactly as before.
    static func importFixture(_ url: URL) throws -> (error: Error?, report: ImportReport?) {
        let (store, dir) = try makeStore()
        _ = dir
        try importText(store, .buildings, #"{"type":"Feature","properties":{"name":"kept"},"geometry":{"type":"Polygon","coordinates":[[[1,1],[2,1],[2,2],[1,1]]]}}"#)
        try importText(store, .roads, #"{"type":"Feature","properties":{"name":"kept"},"geometry":{"type":"LineString","coordinates":[[1,1],[2,2]]}}"#)
        try importText(store, .resources, #"{"type":"Feature","properties":{"type":"aed"},"geometry":{"type":"Point","coordinates":[1,1]}}"#)
        let before = try Layer.mapLayers.map { try exportText(store, $0) }
        var options = ImportOptions(layer: layer(for: url), format: .geojson)
        options.mapping.constants = ["type": "hydrant"]
        do {
            let report = try store.importFeatures(from: InputBytes(path: url.path), options: options)
            return (nil, report)
        } catch {
            let after = try Layer.mapLayers.map { try exportText(store, $0) }
            #expect(before == after, "\(url.lastPathComponent) changed the store although its import failed")
            return (error, nil)
        }
    }

    static func isBareGeometry(_ url: URL) -> Bool {
        guard let text = try? String(contentsOf: url, encoding: .utf8), let type = try? JSONParser.parse(text)["type"]?.stringValue else { return false }
        return type != "Feature" && type != "FeatureCollection"
    }

    /// Fixture name → a fragment of the message GeoGrid must give.
    static let invalid: [String: String] = [
        "invalid_incorrect_geometry_data_type": "a position must be an array of numbers",
        "invalid_less_three_unique_nodes": "exterior ring",
        "invalid_unclosed": "not closed",
        "invalid_feature_geometry_is_string": "geometry must be an object",
        "invalid_feature_id_type": "feature id must be a string or a number",
        "invalid_feature_no_properties": "needs a \"properties\" member",
        "invalid_feature_properties_is_array": "\"properties\" must be an object",
        "invalid_feature_properties_is_int": "\"properties\" must be an object",
        "invalid_feature_wrong_geometry_key": "needs a \"geometry\" member",
        "invalid_featurecollection_feature_nullfeature": "expected a Feature object, found null",
        "invalid_featurecollection_features_is_object": "expected the features array",
        "invalid_featurecollection_no_features_member": "has no \"features\" array",
        "invalid_featurecollection_nulltype": "must have type FeatureCollection",
        "invalid_featurecollection_type_lowercase": "must have type FeatureCollection",
        "invalid_featurecollection_unknown_type": "must have type FeatureCollection",
        "invalid_geometry_bbox_not4or6": "expected a FeatureCollection or a Feature",
        "invalid_geometry_bbox_not_list": "expected a FeatureCollection or a Feature",
        "invalid_geometry_bbox_not_numbers": "expected a FeatureCollection or a Feature",
        "invalid_geometry_coordinates_1d": "expected a FeatureCollection or a Feature",
        "invalid_geometry_coordinates_empty_position": "expected a FeatureCollection or a Feature",
        "invalid_geometry_coordinates_missing": "expected a FeatureCollection or a Feature",
        "invalid_geometry_coordinates_string": "expected a FeatureCollection or a Feature",
        "invalid_geometry_depth_deep_point": "expected a FeatureCollection or a Feature",
        "invalid_geometry_depth_deep_polygon": "expected a FeatureCollection or a Feature",
        "invalid_geometry_depth_shallow_linestring": "expected a FeatureCollection or a Feature",
        "invalid_geometry_depth_shallow_multipolygon": "expected a FeatureCollection or a Feature",
        "invalid_geometry_depth_shallow_polygon": "expected a FeatureCollection or a Feature",
        "invalid_geometry_geometrycollection_null_geometry": "expected a FeatureCollection or a Feature",
        "invalid_geometry_mislabeled_point": "expected a FeatureCollection or a Feature",
        "invalid_geometry_missing_type": "no \"type\" member",
        "invalid_geometry_wrong_geometry_type": "expected a FeatureCollection or a Feature",
    ]

    @Test(arguments: Fixtures.files(in: "geojson-invalid-geometry/invalid_structure") + Fixtures.files(in: "geojson-invalid-geometry/invalid_geometries"))
    func invalidSetIsRefusedAndStoreUnchanged(_ url: URL) throws {
        let name = url.deletingPathExtension().lastPathComponent
        let result = try Self.importFixture(url)
        if name == "invalid_exterior_not_ccw" || name == "invalid_interior_not_cw" {
            // RFC 7946 §3.1.6: parsers must not reject other windings. Stored rewound, checked in ImportExportTests.
            #expect(result.error == nil, "\(name): \(String(describing: result.error))")
            return
        }
        let expected = try #require(Self.invalid[name], "no expectation for \(name)")
        let error = try #require(result.error, "\(name) was imported")
        #expect("\(error)".contains(expected), "\(name): \(error)")
        #expect(!"\(error)".contains("\n"), "one-line message")
    }

    /// Bare geometries are GeoJSON, but a layer stores features: they are refused too. The invalid bare
    /// geometries above are thus refused as "expected a Feature"; the same geometries wrapped in a Feature
    /// must be refused for their own fault.
    @Test(arguments: Fixtures.files(in: "geojson-invalid-geometry/invalid_structure").filter { $0.lastPathComponent.hasPrefix("invalid_geometry_") && !$0.lastPathComponent.contains("missing_type") })
    func invalidGeometriesInsideAFeatureAreRefusedForTheirFault(_ url: URL) throws {
        let geometry = try String(contentsOf: url, encoding: .utf8)
        let (store, dir) = try makeStore()
        _ = dir
        #expect {
            try importText(store, Self.layer(for: url), #"{"type":"Feature","properties":{"type":"hydrant"},"geometry":\#(geometry)}"#)
        } throws: { error in
            let text = "\(error)"
            return !text.contains("expected a Feature") && text.hasPrefix("feature 0: ")
        }
        #expect(try exportText(store, Self.layer(for: url)).isEmpty)
    }

    @Test(arguments: Fixtures.files(in: "geojsonhint/bad"))
    func geojsonhintBadFilesAreRefusedWhereTheyAreErrors(_ url: URL) throws {
        // geojsonhint's expected result lists messages; those at "level": "message" are warnings only.
        let resultURL = url.deletingPathExtension().appendingPathExtension("result")
        let expected = (try? JSONSerialization.jsonObject(with: Data(contentsOf: resultURL))) as? [[String: Any]] ?? []
        let errors = expected.filter { ($0["level"] as? String) != "message" }
        let result = try Self.importFixture(url)
        if errors.isEmpty && Self.isBareGeometry(url) {
            #expect("\(result.error.map { "\($0)" } ?? "")".contains("expected a FeatureCollection or a Feature"), "\(url.lastPathComponent)")
        } else if errors.isEmpty {
            #expect(result.error == nil, "\(url.lastPathComponent) holds only warnings but was refused: \(String(describing: result.error))")
        } else {
            let error = try #require(result.error, "\(url.lastPathComponent) was imported; geojsonhint says: \(errors.first?["message"] ?? "")")
            #expect(!"\(error)".isEmpty)
        }
    }

    /// Valid GeoJSON that a layer cannot store (no geometry, a GeometryCollection, a bare geometry) is
    /// refused by name; everything else is imported.
    @Test(arguments: Fixtures.files(in: "geojson-invalid-geometry/valid") + Fixtures.files(in: "geojsonhint/good"))
    func validSetsAreImportedOrRefusedForAStatedReason(_ url: URL) throws {
        let result = try Self.importFixture(url)
        let text = try String(contentsOf: url, encoding: .utf8)
        let families = [["\"Point\"", "\"MultiPoint\""], ["\"LineString\"", "\"MultiLineString\""], ["\"Polygon\"", "\"MultiPolygon\""]]
            .filter { $0.contains(where: text.contains) }.count
        if Self.isBareGeometry(url) {
            #expect("\(result.error.map { "\($0)" } ?? "")".contains("expected a FeatureCollection or a Feature"), "\(url.lastPathComponent)")
        } else if text.contains("GeometryCollection") {
            #expect("\(result.error.map { "\($0)" } ?? "")".contains("GeometryCollection is not supported"), "\(url.lastPathComponent)")
        } else if families > 1 {
            // One layer holds one kind of geometry: a mixed collection cannot go into any of them.
            #expect("\(result.error.map { "\($0)" } ?? "")".contains("does not fit layer"), "\(url.lastPathComponent)")
        } else if text.contains("\"geometry\": null") || text.contains("\"geometry\":null") {
            #expect("\(result.error.map { "\($0)" } ?? "")".contains("no geometry"), "\(url.lastPathComponent)")
        } else {
            #expect(result.error == nil, "\(url.lastPathComponent): \(String(describing: result.error))")
        }
    }

    /// The "problematic" set: valid GeoJSON that some tools choke on. What GeoGrid does with each is a decision,
    /// recorded here: nil means imported.
    @Test(arguments: Fixtures.files(in: "geojson-invalid-geometry/problematic_geometries") + Fixtures.files(in: "geojson-invalid-geometry/problematic_structure"))
    func problematicSet(_ url: URL) throws {
        let decisions: [String: String?] = [
            "problematic_3d_coordinates": nil,
            "problematic_4d_coordinates": nil,
            // Valid in the plane (it spans 358° of longitude): GeoGrid cannot know it meant to cross.
            "problematic_crosses_antimeridian": nil,
            "problematic_duplicate_nodes": nil,
            "problematic_excessive_coordinate_precision": nil,
            "problematic_excessive_vertices": nil,
            "problematic_feature_null_geometry": "no geometry",
            "problematic_holes": nil,
            "problematic_inner_and_exterior_ring_intersect": "invalid geometry",
            "problematic_multitype_geometry_with_just_one_geometry": nil,
            "problematic_outside_lat_lon_boundaries": "outside -180…180",
            "problematic_self_intersection_large": "Self-intersection",
            "problematic_self_intersection_small": "Self-intersection",
            "problematic_wrong_bbox_coordinate_order": nil,
            "problematic_zero_length_linestring": "zero length",
            "problematic_crs_defined": nil,
            "problematic_geometry_not_wrapped": "expected a FeatureCollection or a Feature",
            "problematic_geometrycollection_single": "expected a FeatureCollection or a Feature",
            "problematic_nested_geometrycollection": "expected a FeatureCollection or a Feature",
        ]
        let name = url.deletingPathExtension().lastPathComponent
        let decision = try #require(decisions[name], "no decision recorded for \(name)")
        let result = try Self.importFixture(url)
        if let fragment = decision {
            #expect("\(result.error.map { "\($0)" } ?? "imported")".contains(fragment), "\(name): \(String(describing: result.error))")
        } else {
            #expect(result.error == nil, "\(name): \(String(describing: result.error))")
        }
    }
}
