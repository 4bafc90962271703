import Foundation
import FuzzHarness
import GeoGrid
import TestSupport
import Testing

/// Every committed fuzz input, seeds and findings alike, run through the same checks the libFuzzer driver
/// makes (scripts/fuzz.sh), in the ordinary suite and without sanitizers: what fuzzing once found stays fixed.
@Suite struct FuzzRegressionTests {
    static let fuzz = Fixtures.repository.appendingPathComponent("Fuzz")

    static func inputs(_ kind: String, _ target: FuzzTarget) -> [URL] {
        let dir = fuzz.appendingPathComponent(kind).appendingPathComponent(target.rawValue)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
        return names.sorted().map { dir.appendingPathComponent($0) }
    }

    @Test(arguments: FuzzTarget.allCases)
    func everyCommittedInputHolds(_ target: FuzzTarget) throws {
        let seeds = Self.inputs("Corpus", target), found = Self.inputs("Regressions", target)
        #expect(seeds.count >= 15, "the \(target.rawValue) corpus is missing (Fuzz/make-corpus.py)")
        for url in seeds + found {
            let problem = target.run(Array(try Data(contentsOf: url)))
            #expect(problem == nil, "\(url.lastPathComponent): \(problem ?? "")")
        }
    }

    /// The findings, each as the error a user now gets.
    @Test func aNonASCIIWordInAFilterIsSkippedByItsBytes() throws {
        // "ɒ" uppercases to a letter of another length in UTF-8: the parser once stepped past the end.
        let input = try Data(contentsOf: Self.inputs("Regressions", .cql2)[0])
        #expect(throws: (any Error).self) { try CQL2TextParser.parse(String(decoding: input, as: UTF8.self)) }
        let f = try CQL2TextParser.parse("ɒß = 'x'")
        #expect(f.properties == ["ɒß"])
    }

    @Test func aCoordinateBeyondDoubleIsRefusedInWKT() {
        #expect(throws: FeatureProblem.self) { try WKT.parse("LINESTRING(0 1e999, 180 200)") }
        #expect(throws: FeatureProblem.self) { try WKT.parse("POINT(-1e400 0)") }
    }

    @Test func aNaNCoordinateIsRefusedInABlob() throws {
        let input = Array(try Data(contentsOf: Self.inputs("Regressions", .spatialiteBlob)[0]))
        #expect(throws: SpatiaLiteBlob.DecodeError.self) { try input.withUnsafeBytes { try SpatiaLiteBlob.decode($0) } }
        var point = SpatiaLiteBlob.encode(.point(Position(1, 2)))
        withUnsafeBytes(of: Double.nan.bitPattern.littleEndian) { point.replaceSubrange(43..<51, with: $0) }
        #expect(throws: SpatiaLiteBlob.DecodeError.self) { try point.withUnsafeBytes { try SpatiaLiteBlob.decode($0) } }
    }

    @Test func aCSVHeaderNamingAColumnTwiceIsRefusedAndAnUnnamedOneLeftOut() throws {
        func read(_ text: String) throws -> [Result<Feature, FeatureProblem>] {
            var out: [Result<Feature, FeatureProblem>] = []
            try FeatureReader(format: .csv).read(InputBytes(data: Data(text.utf8), name: "t.csv")) { out.append($0.result) }
            return out
        }
        #expect(throws: SourceError.self) { try read("lon,lat,name,name\n1,2,a,b\n") }
        let rows = try read(",name,lon,lat\n0,a,24.9,60.1\n")
        let f = try rows[0].get()
        #expect(f.properties.map(\.0) == ["name"])
    }
}
