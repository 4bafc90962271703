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

/// The demo city built once per test process (DemoCity.build takes a second or two) and copied for each caller.
private let demoTemplate: Result<String, Error> = Result {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("geogrid-demo-template-\(ProcessInfo.processInfo.processIdentifier)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    let path = dir.appendingPathComponent("demo.sqlite").path
    if !FileManager.default.fileExists(atPath: path) { try DemoCity.build(from: Fixtures.demoCity.path, at: path) }
    return path
}

/// A fresh copy of the demo city's store at `dir/name`.
public func demoStore(_ dir: TemporaryDirectory, name: String = "demo.sqlite") throws -> String {
    let path = dir.path(name)
    try FileManager.default.copyItem(atPath: demoTemplate.get(), toPath: path)
    return path
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
/// The ids of `table`'s features meeting `box`, by id, as SpatiaLite's `ST_Intersects` finds them: the oracle
/// for features in a box.
public func sqlIDs(_ store: GeoStore, _ table: String = "buildings", intersecting box: BBox) throws -> [Int64] {
    try store.read { db in
        let s = try db.prepare("SELECT id FROM \(table) WHERE ST_Intersects(geom, BuildMbr(?, ?, ?, ?, 4326)) ORDER BY id")
        try s.bind([.real(box.minX), .real(box.minY), .real(box.maxX), .real(box.maxY)])
        var out: [Int64] = []
        while try s.step() { out.append(s.int64(0)) }
        return out
    }
}

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

/// Runs blocking work (a process, a curl) on a dispatch thread and awaits it, so that a long wait does not hold one
/// of the few threads Swift's cooperative pool has (the in-process servers of other tests run on them).
public func offCooperativePool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { c in DispatchQueue.global().async { c.resume(with: Result { try body() }) } }
}

/// A task executor with threads of its own: an in-process server started with `Task(executorPreference:)` runs
/// its structured work here, so that other suites' synchronous tests, which hold Swift's few cooperative
/// threads (two on a two-core machine) for minutes, cannot keep it from starting or answering.
public final class DedicatedExecutor: TaskExecutor, @unchecked Sendable {
    private let condition = NSCondition()
    private var jobs: [UnownedJob] = []

    public init(threads: Int = 2, name: String = "dedicated-executor") {
        for i in 0..<threads {
            let thread = Thread { [unowned self] in self.loop() }
            thread.name = "\(name)-\(i)"
            thread.start()
        }
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let unowned = UnownedJob(job)
        condition.lock()
        jobs.append(unowned)
        condition.signal()
        condition.unlock()
    }

    private func loop() {
        while true {
            condition.lock()
            while jobs.isEmpty { condition.wait() }
            let job = jobs.removeFirst()
            condition.unlock()
            job.runSynchronously(on: asUnownedTaskExecutor())
        }
    }
}
