import Foundation
import GeoGrid

/// Paths of the checked-in fixtures and of the demo city.
public enum Fixtures {
    public static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures")
    public static let repository = root.deletingLastPathComponent().deletingLastPathComponent()
    public static let demoCity = repository.appendingPathComponent("data/boundaries")

    public static func url(_ relative: String) -> URL { root.appendingPathComponent(relative) }

    public static func files(in folder: String, ending suffix: String = ".geojson") -> [URL] {
        let dir = url(folder)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
        return names.filter { $0.hasSuffix(suffix) }.sorted().map { dir.appendingPathComponent($0) }
    }
}

/// A folder that is removed when the value goes away.
public final class TemporaryDirectory: @unchecked Sendable {
    public let url: URL

    public init() {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("geogrid-test-\(UUID().uuidString)")
        try! FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    public func path(_ name: String) -> String { url.appendingPathComponent(name).path }

    deinit { try? FileManager.default.removeItem(at: url) }
}

/// An empty store made once per test process and copied for each test: SpatiaLite's metadata takes
/// a noticeable fraction of a second to create, the copy a millisecond.
private let templateStore: Result<String, Error> = Result {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("geogrid-template-\(ProcessInfo.processInfo.processIdentifier)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    let path = dir.appendingPathComponent("empty.sqlite").path
    if !FileManager.default.fileExists(atPath: path) {
        let building = path + ".building"
        try? FileManager.default.removeItem(atPath: building)
        do { _ = try GeoStore(path: building, create: true) }  // closed here: the WAL is checkpointed into the file
        try FileManager.default.moveItem(atPath: building, toPath: path)
    }
    return path
}

/// A new, empty store in its own temporary folder.
public func makeStore(_ dir: TemporaryDirectory = TemporaryDirectory(), name: String = "store.sqlite") throws -> (GeoStore, TemporaryDirectory) {
    let path = dir.path(name)
    try FileManager.default.copyItem(atPath: templateStore.get(), toPath: path)
    return (try GeoStore(path: path), dir)
}

/// Imports GeoJSON text into a layer.
@discardableResult
public func importText(_ store: GeoStore, _ layer: Layer, _ text: String, format: SourceFormat = .geojson, configure: (inout ImportOptions) -> Void = { _ in })
    throws -> ImportReport
{
    var options = ImportOptions(layer: layer, format: format)
    configure(&options)
    return try store.importFeatures(from: InputBytes(data: Data(text.utf8), name: "test"), options: options)
}

/// The layer exported as newline-delimited GeoJSON text: a fingerprint of its contents.
public func exportText(_ store: GeoStore, _ layer: Layer, bbox: BBox? = nil) throws -> String {
    var options = ExportOptions(layer: layer)
    options.format = .geojsonseq
    options.bbox = bbox
    var out = Data()
    try store.export(options) { out.append(contentsOf: $0) }
    return String(decoding: out, as: UTF8.self)
}

/// The result of running a program to its end.
public struct ProcessResult: Sendable {
    public var status: Int32
    public var stdout: String
    public var stderr: String
}

/// Runs `executable` with `arguments`, feeding `input` to its standard input.
public func runProcess(_ executable: String, _ arguments: [String], input: Data? = nil, cwd: URL? = nil) throws -> ProcessResult {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: executable)
    p.arguments = arguments
    if let cwd { p.currentDirectoryURL = cwd }
    let out = Pipe(), err = Pipe(), inp = Pipe()
    p.standardOutput = out
    p.standardError = err
    p.standardInput = inp
    try p.run()
    if let input { inp.fileHandleForWriting.write(input) }
    try inp.fileHandleForWriting.close()
    // Read both pipes to the end before waiting, so a chatty child never blocks on a full pipe.
    let group = DispatchGroup()
    nonisolated(unsafe) var errData = Data()
    group.enter()
    DispatchQueue.global().async {
        errData = err.fileHandleForReading.readDataToEndOfFile()
        group.leave()
    }
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    group.wait()
    p.waitUntilExit()
    return ProcessResult(status: p.terminationStatus, stdout: String(decoding: outData, as: UTF8.self), stderr: String(decoding: errData, as: UTF8.self))
}

/// The full path of a program on PATH, or nil.
public func which(_ program: String) -> String? {
    for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
        let path = "\(dir)/\(program)"
        if FileManager.default.isExecutableFile(atPath: path) { return path }
    }
    return nil
}

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

/// A synthetic city: a `side` × `side` mosaic of irregular quadrilateral grids over a jittered lattice (every
/// vertex shared by its neighbours, so the mosaic is seamless), cut into `blocks` × `blocks` communities.
/// Returns newline-delimited GeoJSON for the grids and communities layers.
public func syntheticCity(side: Int = 100, blocks: Int = 4, seed: UInt64 = 7, origin: Position = Position(116.30, 39.85), cell: Double = 0.002)
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
