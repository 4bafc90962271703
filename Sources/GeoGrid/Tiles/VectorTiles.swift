import Foundation

/// What each layer puts in vector tiles: the properties a map needs and the zooms it appears at.
public struct TileLayerSpec: Sendable {
    public let layer: Layer
    /// Fields carried as MVT properties (besides the feature id, which is the store's id).
    public let properties: [String]
    public let minZoom: Int
    /// Simplification below this zoom (above it geometries are exact to the tile grid).
    public let maxZoom: Int

    public static let all: [Layer: TileLayerSpec] = [
        .communities: TileLayerSpec(layer: .communities, properties: ["code", "name", "level"], minZoom: 8, maxZoom: 16),
        .grids: TileLayerSpec(layer: .grids, properties: ["code", "name", "community_code", "worker_name", "households", "population"],
            minZoom: 11, maxZoom: 16),
        .buildings: TileLayerSpec(layer: .buildings, properties: ["name", "floors", "households", "population", "grid_code"], minZoom: 13, maxZoom: 16),
        .resources: TileLayerSpec(layer: .resources, properties: ["type", "name", "status", "capacity"], minZoom: 11, maxZoom: 16),
        .roads: TileLayerSpec(layer: .roads, properties: ["name", "class"], minZoom: 10, maxZoom: 16),
    ]

    public static func of(_ layer: Layer) -> TileLayerSpec { all[layer]! }

    /// The MVT field types of the properties (for TileJSON's vector_layers).
    public var fieldTypes: [(String, String)] {
        properties.map { name in
            let type = layer.fields.first { $0.name == name }?.type
            return (name, type == .integer || type == .real ? "Number" : "String")
        }
    }
}

/// Builds vector tiles from a store's layer indexes: extent 4096, a buffer of 64 units, simplification of a
/// tile unit below each layer's max zoom, grid borders kept seamless (see `TileGeometryBuilder`).
public enum VectorTiles {
    public static let extent = 4096
    public static let buffer = 64

    /// The MVT bytes of `layers` (one MVT layer each, in the order given) for `tile`; empty when no feature
    /// reaches the tile. `features` gives a layer's features meeting a box.
    public static func encode(_ tile: TileID, layers: [Layer], features: (Layer, BBox) throws -> [ShapeIndex.Entry]) rethrows -> [UInt8] {
        var writer = MVTWriter()
        let bounds = tile.bounds(buffer: Double(buffer), extent: Double(extent))
        for layer in layers {
            let spec = TileLayerSpec.of(layer)
            guard tile.z >= spec.minZoom else { continue }
            let found = try features(layer, bounds)
            guard !found.isEmpty else { continue }
            var builder = TileGeometryBuilder(tile: tile, extent: extent, buffer: buffer, simplify: tile.z < spec.maxZoom ? 1 : 0)
            if layer == .grids || layer == .communities { builder.findJunctions(found.map(\.geometry)) }
            let fieldIndex = spec.properties.map { name in layer.fields.firstIndex { $0.name == name }! }
            var mvt = MVTLayer(name: layer.rawValue, extent: extent)
            for entry in found {
                guard let geometry = builder.build(entry.geometry) else { continue }
                let props: [(String, MVTLayer.Value?)] = zip(spec.properties, fieldIndex).map { name, i in
                    switch entry.values[i] {
                    case .null: (name, nil)
                    case .integer(let v): (name, .int(v))
                    case .real(let v): (name, .double(v))
                    case .text(let v): (name, .string(v))
                    }
                }
                mvt.add(id: entry.id >= 0 ? UInt64(entry.id) : nil, geometry: geometry, properties: props)
            }
            writer.add(mvt)
        }
        return writer.bytes
    }
}
