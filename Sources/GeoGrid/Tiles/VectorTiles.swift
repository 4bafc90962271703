import Foundation

/// What a layer puts in vector tiles: the properties its configuration names (fields, or extra attributes:
/// tiles stay small by default) and the zooms it appears at. Personal fields never go into tiles: a tile is
/// cached and served to anyone who may read the map.
public struct TileLayerSpec: Sendable {
    public let layer: Layer
    /// Properties carried as MVT properties (besides the feature id, which is the store's id).
    public let properties: [String]
    public let minZoom: Int
    /// Simplification below this zoom (above it geometries are exact to the tile grid).
    public let maxZoom: Int

    public static func of(_ layer: Layer) -> TileLayerSpec {
        let personal = Set(layer.personalFields.map(\.name))
        return TileLayerSpec(layer: layer, properties: layer.tileProperties.filter { !personal.contains($0) }, minZoom: layer.minZoom, maxZoom: 16)
    }

    /// The MVT field types of the properties (for TileJSON's vector_layers); extra attributes as strings
    /// unless a number is all they have been seen to hold is not knowable here, so "String" is said for them.
    public var fieldTypes: [(String, String)] {
        properties.map { name in
            guard let type = layer.field(named: name)?.type else { return (name, "String") }
            return (name, type.isNumeric ? "Number" : type == .boolean ? "Boolean" : "String")
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
            // Mosaics (grids, communities, a city's own polygon layers such as green areas) keep their shared
            // borders seamless; buildings rarely share edges and skip the cost.
            if layer.geometry == .polygon && layer.rules != .buildings { builder.findJunctions(found.map(\.geometry)) }
            let fieldIndex = spec.properties.map { name in layer.fields.firstIndex { $0.name == name } }
            let needsExtra = fieldIndex.contains(nil)
            var mvt = MVTLayer(name: layer.rawValue, extent: extent)
            for entry in found {
                guard let geometry = builder.build(entry.geometry) else { continue }
                let extra = needsExtra ? Layer.extraMembers(entry.extra) : []
                let props: [(String, MVTLayer.Value?)] = zip(spec.properties, fieldIndex).map { name, i in
                    guard let i else { return (name, Self.value(extra.first { $0.0 == name }?.1)) }
                    switch entry.values[i] {
                    case .null: return (name, nil)
                    case .integer(let v): return (name, layer.fields[i].type == .boolean ? .bool(v != 0) : .int(v))
                    case .real(let v): return (name, .double(v))
                    case .text(let v): return (name, .string(v))
                    }
                }
                mvt.add(id: entry.id >= 0 ? UInt64(entry.id) : nil, geometry: geometry, properties: props)
            }
            writer.add(mvt)
        }
        return writer.bytes
    }

    /// An extra attribute as an MVT value: numbers, strings and booleans as they are; nested values as their
    /// JSON text; null as absent.
    static func value(_ v: JSONValue?) -> MVTLayer.Value? {
        switch v {
        case nil, .null?: return nil
        case .bool(let b)?: return .bool(b)
        case .number(let n)?: return n == n.rounded() && abs(n) < 9e15 ? .int(Int64(n)) : .double(n)
        case .string(let s)?: return .string(s)
        case let other?:
            var out: [UInt8] = []
            GeoJSONWriter.value(other, into: &out)
            return .string(String(decoding: out, as: UTF8.self))
        }
    }
}
