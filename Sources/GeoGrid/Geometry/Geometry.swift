import Foundation

/// A position in WGS84 degrees: longitude first, as in RFC 7946 §3.1.1.
public struct Position: Hashable, Sendable {
    public var lon: Double
    public var lat: Double
    @inlinable public init(_ lon: Double, _ lat: Double) {
        self.lon = lon
        self.lat = lat
    }
}

/// A closed ring: first and last positions are equal (RFC 7946 §3.1.6).
public typealias Ring = [Position]

/// A polygon: the exterior ring first, then holes.
public typealias PolygonRings = [Ring]

/// The geometries GeoGrid stores. Single and multi forms are kept apart so an export gives back
/// what was imported; the store promotes single to multi where a layer's column is a multi type.
public enum Geometry: Hashable, Sendable {
    case point(Position)
    case multiPoint([Position])
    case lineString([Position])
    case multiLineString([[Position]])
    case polygon(PolygonRings)
    case multiPolygon([PolygonRings])

    public var kind: GeometryKind {
        switch self {
        case .point: .point
        case .multiPoint: .multiPoint
        case .lineString: .lineString
        case .multiLineString: .multiLineString
        case .polygon: .polygon
        case .multiPolygon: .multiPolygon
        }
    }

    /// Calls `body` with every position, in order.
    @inlinable public func forEachPosition(_ body: (Position) throws -> Void) rethrows {
        switch self {
        case .point(let p): try body(p)
        case .multiPoint(let ps), .lineString(let ps): for p in ps { try body(p) }
        case .multiLineString(let lines): for l in lines { for p in l { try body(p) } }
        case .polygon(let rings): for r in rings { for p in r { try body(p) } }
        case .multiPolygon(let polys): for rings in polys { for r in rings { for p in r { try body(p) } } }
        }
    }

    /// The bounding box, or nil for an empty geometry.
    public var bbox: BBox? {
        var box = BBox.empty
        forEachPosition { box.extend($0) }
        return box.isEmpty ? nil : box
    }

    /// The geometry as its multi form (a point stays a point: point layers store points).
    public var promotedToMulti: Geometry {
        switch self {
        case .lineString(let l): .multiLineString([l])
        case .polygon(let p): .multiPolygon([p])
        default: self
        }
    }

    /// Applies `transform` to every position, keeping the structure.
    public func mapPositions(_ transform: (Position) throws -> Position) rethrows -> Geometry {
        switch self {
        case .point(let p): return .point(try transform(p))
        case .multiPoint(let ps): return .multiPoint(try ps.map(transform))
        case .lineString(let ps): return .lineString(try ps.map(transform))
        case .multiLineString(let ls): return .multiLineString(try ls.map { try $0.map(transform) })
        case .polygon(let rs): return .polygon(try rs.map { try $0.map(transform) })
        case .multiPolygon(let ps): return .multiPolygon(try ps.map { try $0.map { try $0.map(transform) } })
        }
    }
}

public enum GeometryKind: String, Sendable, CaseIterable {
    case point = "Point"
    case multiPoint = "MultiPoint"
    case lineString = "LineString"
    case multiLineString = "MultiLineString"
    case polygon = "Polygon"
    case multiPolygon = "MultiPolygon"
}

/// An axis-aligned box in the coordinates of the geometry it bounds.
public struct BBox: Hashable, Sendable {
    public var minX: Double, minY: Double, maxX: Double, maxY: Double

    public init(minX: Double, minY: Double, maxX: Double, maxY: Double) {
        self.minX = minX
        self.minY = minY
        self.maxX = maxX
        self.maxY = maxY
    }

    public static let empty = BBox(minX: .infinity, minY: .infinity, maxX: -.infinity, maxY: -.infinity)
    public var isEmpty: Bool { minX > maxX || minY > maxY }

    @inlinable public mutating func extend(_ p: Position) {
        if p.lon < minX { minX = p.lon }
        if p.lon > maxX { maxX = p.lon }
        if p.lat < minY { minY = p.lat }
        if p.lat > maxY { maxY = p.lat }
    }

    public mutating func extend(_ b: BBox) {
        minX = Swift.min(minX, b.minX)
        minY = Swift.min(minY, b.minY)
        maxX = Swift.max(maxX, b.maxX)
        maxY = Swift.max(maxY, b.maxY)
    }

    public func intersects(_ b: BBox) -> Bool {
        minX <= b.maxX && b.minX <= maxX && minY <= b.maxY && b.minY <= maxY
    }

    /// Parses `minx,miny,maxx,maxy`, the order of OGC API's `bbox` parameter.
    public init?(parsing text: String) {
        let parts = text.split(separator: ",", omittingEmptySubsequences: false).map {
            Double($0.trimmingCharacters(in: .whitespaces))
        }
        guard parts.count == 4, let a = parts[0], let b = parts[1], let c = parts[2], let d = parts[3],
            a.isFinite, b.isFinite, c.isFinite, d.isFinite, a <= c, b <= d
        else { return nil }
        self.init(minX: a, minY: b, maxX: c, maxY: d)
    }
}

extension Array where Element == Position {
    /// Twice the signed area (shoelace): positive for counter-clockwise rings.
    public var signedArea2: Double {
        guard count > 2 else { return 0 }
        var sum = 0.0
        var prev = self[count - 1]
        for p in self {
            sum += (prev.lon * p.lat) - (p.lon * prev.lat)
            prev = p
        }
        return sum
    }
}
