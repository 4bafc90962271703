import Foundation

/// A deterministic generator for test data (SplitMix64).
public struct SeededRandom: Sendable {
    var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> Double {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return Double((z ^ (z >> 31)) >> 11) / Double(1 << 53)
    }
    public mutating func next(in range: ClosedRange<Double>) -> Double { range.lowerBound + next() * (range.upperBound - range.lowerBound) }
}

/// Deterministic data for tests, benchmarks and demos: the same seed gives the same city.
public enum SyntheticCity {
    /// A synthetic city, for tests and benchmarks: a `side` × `side` mosaic of irregular quadrilateral grids over a jittered lattice (every
    /// vertex shared by its neighbours, so the mosaic is seamless), cut into `blocks` × `blocks` communities.
    /// Returns newline-delimited GeoJSON for the grids and communities layers.
    public static func make(side: Int = 100, blocks: Int = 4, seed: UInt64 = 7, origin: Position = Position(116.30, 39.85), cell: Double = 0.002)
        -> (grids: String, communities: String)
    {
        var rng = SeededRandom(seed: seed)
        var vertex = [[Position]]()
        for r in 0...side {
            var row: [Position] = []
            for c in 0...side {
                // Interior vertices move up to 35% of a cell; the outer rim stays straight.
                let jx = (c == 0 || c == side) ? 0 : rng.next(in: -0.35...0.35), jy = (r == 0 || r == side) ? 0 : rng.next(in: -0.35...0.35)
                let x = origin.lon + (Double(c) + jx) * cell, y = origin.lat + (Double(r) + jy) * cell
                // Rounded to 7 decimals as exports are, so the file and the store hold the same numbers.
                row.append(Position((x * 1e7).rounded() / 1e7, (y * 1e7).rounded() / 1e7))
            }
            vertex.append(row)
        }
        func coords(_ ring: [Position]) -> String { "[" + ring.map { "[\($0.lon),\($0.lat)]" }.joined(separator: ",") + "]" }
        let per = side / blocks
        var grids: [String] = [], communities: [String] = []
        for br in 0..<blocks {
            for bc in 0..<blocks {
                let community = String(format: "110105%03d%03d", br + 1, bc + 1)
                var seq = 0
                // Rows from north to south, west to east: the reading order of grid numbering.
                for r in stride(from: (br + 1) * per - 1, through: br * per, by: -1) {
                    for c in bc * per..<(bc + 1) * per {
                        seq += 1
                        let ring = [vertex[r][c], vertex[r][c + 1], vertex[r + 1][c + 1], vertex[r + 1][c], vertex[r][c]]
                        grids.append(#"{"type":"Feature","properties":{"code":"\#(community)\#(String(format: "%03d", seq))","households":\#(200 + seq % 300)},"geometry":{"type":"Polygon","coordinates":[\#(coords(ring))]}}"#)
                    }
                }
                var ring: [Position] = []
                let r0 = br * per, r1 = (br + 1) * per, c0 = bc * per, c1 = (bc + 1) * per
                for c in c0...c1 { ring.append(vertex[r0][c]) }
                for r in (r0 + 1)...r1 { ring.append(vertex[r][c1]) }
                for c in stride(from: c1 - 1, through: c0, by: -1) { ring.append(vertex[r1][c]) }
                for r in stride(from: r1 - 1, through: r0, by: -1) { ring.append(vertex[r][c0]) }
                communities.append(#"{"type":"Feature","properties":{"code":"\#(community)","name":"C\#(br)\#(bc)"},"geometry":{"type":"Polygon","coordinates":[\#(coords(ring))]}}"#)
            }
        }
        return (grids.joined(separator: "\n"), communities.joined(separator: "\n"))
    }

    /// `count` resources scattered over `box` as newline-delimited GeoJSON, of the given types in turn.
    public static func resources(count: Int, in box: BBox, types: [String] = Layer.knownResourceTypes, seed: UInt64 = 9) -> String {
        var rng = SeededRandom(seed: seed)
        var out = ""
        out.reserveCapacity(count * 130)
        for i in 0..<count {
            let lon = (rng.next(in: box.minX...box.maxX) * 1e7).rounded() / 1e7, lat = (rng.next(in: box.minY...box.maxY) * 1e7).rounded() / 1e7
            out += #"{"type":"Feature","properties":{"type":"\#(types[i % types.count])"},"geometry":{"type":"Point","coordinates":[\#(lon),\#(lat)]}}"#
            out += "\n"
        }
        return out
    }
}
