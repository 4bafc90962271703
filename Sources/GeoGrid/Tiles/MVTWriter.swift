/// Mapbox Vector Tile 2.1 bytes, written by hand: the format is a few protobuf messages (Tile, Layer, Feature,
/// Value), so no protobuf library is needed. Field numbers are those of vector_tile.proto.
public struct MVTWriter {
    public private(set) var bytes: [UInt8] = []

    public init() {}

    /// Adds a finished layer; layers with no features are left out (the spec discourages them).
    public mutating func add(_ layer: MVTLayer) {
        guard !layer.features.isEmpty else { return }
        var body: [UInt8] = []
        Proto.field(15, varint: 2, into: &body)  // version
        Proto.field(1, string: layer.name, into: &body)
        for f in layer.features {
            var feature: [UInt8] = []
            if let id = f.id { Proto.field(1, varint: id, into: &feature) }
            if !f.tags.isEmpty { Proto.field(2, packed: f.tags, into: &feature) }
            Proto.field(3, varint: UInt64(f.type.rawValue), into: &feature)
            Proto.field(4, packed: f.geometry, into: &feature)
            Proto.field(2, bytes: feature, into: &body)
        }
        for key in layer.keys { Proto.field(3, string: key, into: &body) }
        for value in layer.values {
            var v: [UInt8] = []
            switch value {
            case .string(let s): Proto.field(1, string: s, into: &v)
            case .float(let f):
                Proto.tag(2, wire: 5, into: &v)
                withUnsafeBytes(of: f.bitPattern.littleEndian) { v.append(contentsOf: $0) }
            case .double(let d):
                Proto.tag(3, wire: 1, into: &v)
                withUnsafeBytes(of: d.bitPattern.littleEndian) { v.append(contentsOf: $0) }
            case .int(let i):
                // Non-negative integers as uint (shortest), negative as sint (zig-zag), as most encoders do.
                if i >= 0 { Proto.field(5, varint: UInt64(i), into: &v) } else { Proto.field(6, varint: UInt64(bitPattern: (i << 1) ^ (i >> 63)), into: &v) }
            case .bool(let b): Proto.field(7, varint: b ? 1 : 0, into: &v)
            }
            Proto.field(4, bytes: v, into: &body)
        }
        Proto.field(5, varint: UInt64(layer.extent), into: &body)
        Proto.field(3, bytes: body, into: &bytes)
    }
}

/// One layer being built: features, and the keys and values they use, each stored once.
public struct MVTLayer {
    public enum Value: Hashable, Sendable {
        case string(String), float(Float), double(Double), int(Int64), bool(Bool)
    }

    public enum GeomType: UInt8, Sendable { case point = 1, lineString = 2, polygon = 3 }

    public struct Feature {
        var id: UInt64?
        var tags: [UInt32]
        var type: GeomType
        var geometry: [UInt32]
    }

    public let name: String
    public let extent: Int
    private(set) var features: [Feature] = []
    private(set) var keys: [String] = []
    private(set) var values: [Value] = []
    private var keyIndex: [String: UInt32] = [:]
    private var valueIndex: [Value: UInt32] = [:]

    public init(name: String, extent: Int = 4096) {
        self.name = name
        self.extent = extent
    }

    public var isEmpty: Bool { features.isEmpty }
    public var featureCount: Int { features.count }

    /// Adds a feature whose geometry is already in tile coordinates and valid per spec 2.1 (see `MVTGeometry`).
    /// Properties with no value (nil) are left out, as the spec has no null.
    public mutating func add(id: UInt64?, geometry: MVTGeometry, properties: [(String, Value?)]) {
        guard let (type, commands) = geometry.commands() else { return }
        var tags: [UInt32] = []
        tags.reserveCapacity(properties.count * 2)
        for (key, value) in properties {
            guard let value else { continue }
            let k: UInt32
            if let existing = keyIndex[key] { k = existing } else {
                k = UInt32(keys.count)
                keys.append(key)
                keyIndex[key] = k
            }
            let v: UInt32
            if let existing = valueIndex[value] { v = existing } else {
                v = UInt32(values.count)
                values.append(value)
                valueIndex[value] = v
            }
            tags += [k, v]
        }
        features.append(Feature(id: id, tags: tags, type: type, geometry: commands))
    }
}

/// Protobuf wire format, the parts MVT uses.
enum Proto {
    static func varint(_ v: UInt64, into out: inout [UInt8]) {
        var v = v
        while v >= 0x80 {
            out.append(UInt8(v & 0x7F) | 0x80)
            v >>= 7
        }
        out.append(UInt8(v))
    }

    static func tag(_ field: Int, wire: Int, into out: inout [UInt8]) { varint(UInt64(field << 3 | wire), into: &out) }

    static func field(_ field: Int, varint v: UInt64, into out: inout [UInt8]) {
        tag(field, wire: 0, into: &out)
        varint(v, into: &out)
    }

    static func field(_ field: Int, bytes: [UInt8], into out: inout [UInt8]) {
        tag(field, wire: 2, into: &out)
        varint(UInt64(bytes.count), into: &out)
        out.append(contentsOf: bytes)
    }

    static func field(_ field: Int, string: String, into out: inout [UInt8]) { self.field(field, bytes: Array(string.utf8), into: &out) }

    static func field(_ field: Int, packed: [UInt32], into out: inout [UInt8]) {
        var body: [UInt8] = []
        body.reserveCapacity(packed.count * 2)
        for v in packed { varint(UInt64(v), into: &body) }
        self.field(field, bytes: body, into: &out)
    }
}
