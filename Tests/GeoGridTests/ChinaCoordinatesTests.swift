import Foundation
import GeoGrid
import TestSupport
import Testing

@Suite struct ChinaCoordinatesTests {
    struct Vector {
        var wgs: Position, gcj: Position, bd: Position
    }

    static let vectors: [Vector] = {
        let text = (try? String(contentsOf: Fixtures.url("crs-vectors/gcj02_bd09_vectors_prcoords.csv"), encoding: .utf8)) ?? ""
        return text.components(separatedBy: .newlines).dropFirst().compactMap { line in
            let v = line.split(separator: ",").compactMap { Double($0) }
            guard v.count >= 6 else { return nil }
            return Vector(wgs: Position(v[0], v[1]), gcj: Position(v[2], v[3]), bd: Position(v[4], v[5]))
        }
    }()

    /// Metres between two points, for tolerances users understand.
    static func metres(_ a: Position, _ b: Position) -> Double { Geodesy.distance(a, b) }

    @Test func forwardFormulasMatchTheVectors() {
        #expect(Self.vectors.count == 94)
        for v in Self.vectors where v.wgs != v.gcj && abs(v.wgs.lat) < 80 {
            // The vectors are printed to 9 decimals (0.1 mm).
            #expect(Self.metres(ChinaCoordinates.wgsToGCJ(v.wgs), v.gcj) < 0.001, "\(v.wgs)")
            #expect(Self.metres(ChinaCoordinates.gcjToBD(ChinaCoordinates.wgsToGCJ(v.wgs)), v.bd) < 0.001, "\(v.wgs)")
        }
    }

    @Test func inversesAreAccurateToACentimetre() {
        var checked = 0
        for v in Self.vectors where v.wgs != v.gcj && abs(v.wgs.lat) < 80 {
            #expect(Self.metres(ChinaCoordinates.gcjToWGS(v.gcj), v.wgs) < 0.01, "\(v.gcj)")
            #expect(Self.metres(ChinaCoordinates.gcjToWGS(ChinaCoordinates.bdToGCJ(v.bd)), v.wgs) < 0.01, "\(v.bd)")
            checked += 1
        }
        #expect(checked > 80)
    }

    @Test(arguments: [
        ("Beijing", 116.40, 39.90, true), ("Shanghai", 121.47, 31.23, true), ("Haikou", 110.33, 20.03, true), ("Urumqi", 87.6, 43.8, true),
        ("Xiamen", 118.09, 24.48, true), ("Manila", 120.98, 14.60, false), ("Taipei", 121.56, 25.04, false), ("Seoul", 126.98, 37.57, false),
        ("Hanoi", 105.85, 21.03, false), ("Tokyo", 139.69, 35.69, false), ("Helsinki", 24.94, 60.17, false),
    ])
    func onlyPointsInChinaAreShifted(_ name: String, _ lon: Double, _ lat: Double, _ inChina: Bool) {
        let p = Position(lon, lat)
        #expect(ChinaCoordinates.isInChina(p) == inChina, "\(name)")
        for crs in [MapCRS.gcj02, .bd09] {
            #expect((crs.fromWGS84(p) != p) == inChina, "\(name) \(crs)")
            #expect(Self.metres(crs.toWGS84(crs.fromWGS84(p)), p) < 0.01, "\(name) \(crs) round trip")
        }
    }
}
