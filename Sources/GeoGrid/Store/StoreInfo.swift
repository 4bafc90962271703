import Foundation

public struct LayerInfo: Sendable {
    public var layer: Layer
    public var count: Int
    public var extent: BBox?
    public var geometryType: String
}

public struct StoreInfo: Sendable {
    public var path: String
    public var schemaVersion: Int
    public var fileBytes: Int64
    public var spatialiteVersion: String
    public var layers: [LayerInfo]
}

extension GeoStore {
    public func info() throws -> StoreInfo {
        try read { db in
            var found: [LayerInfo] = []
            for layer in self.layers {
                let count = try db.scalar("SELECT count(*) FROM \(layer.table)").integer ?? 0
                // The extent from the R*Tree's boxes (32-bit floats rounded outward), without decoding geometries.
                let s = try db.prepare("SELECT min(xmin), min(ymin), max(xmax), max(ymax) FROM \(layer.spatialIndex)")
                var extent: BBox?
                if try s.step(), !s.isNull(0) {
                    extent = BBox(minX: s.double(0), minY: s.double(1), maxX: s.double(2), maxY: s.double(3))
                }
                found.append(LayerInfo(layer: layer, count: Int(count), extent: extent, geometryType: layer.columnGeometry))
            }
            let version = try db.scalar("SELECT value FROM geogrid_meta WHERE key = 'schema_version'").text.flatMap { Int($0) } ?? 0
            let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.int64Value ?? 0
            let spatialite = try db.scalar("SELECT spatialite_version()").text ?? "?"
            return StoreInfo(path: path, schemaVersion: version, fileBytes: size, spatialiteVersion: spatialite, layers: found)
        }
    }
}
