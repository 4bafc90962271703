import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The built geo-cli executable, next to the test bundle in .build/<configuration>.
public let geoCLIPath: String = {
    let me = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
    var dir = me.deletingLastPathComponent()
    for _ in 0..<4 {
        let candidate = dir.appendingPathComponent("geo-cli").path
        if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        dir = dir.deletingLastPathComponent()
    }
    return Fixtures.repository.appendingPathComponent(".build/debug/geo-cli").path
}()

/// The Python of the test clients from PyPI (mapbox-vector-tile), in .venv-test (scripts/setup.sh test).
public let venvPython: String? = {
    let path = Fixtures.repository.appendingPathComponent(".venv-test/bin/python").path
    return FileManager.default.isExecutableFile(atPath: path) ? path : nil
}()

/// The servers started and not yet stopped, by process id: servers held by a suite's static property never go
/// away, so they are stopped when the test process exits (they outlived every test run before).
private let runningServers = Mutex<Set<Int32>>([])
private let stopServersAtExit: Void = {
    atexit {
        for pid in runningServers.withLock({ $0 }) { kill(pid, SIGTERM) }
    }
}()

/// `geo-cli serve` started as a user starts it, on 127.0.0.1 and a free port, stopped with SIGTERM when this
/// object goes away or, at the latest, when the test process exits.
public final class RunningServer: @unchecked Sendable {
    public let process = Process()
    public let baseURL: String
    private let errorFile: String

    public init(db: String, arguments: [String] = [], timeout: TimeInterval = 60) throws {
        let out = Pipe()
        errorFile = FileManager.default.temporaryDirectory.appendingPathComponent("geogrid-serve-\(UUID().uuidString).log").path
        _ = FileManager.default.createFile(atPath: errorFile, contents: nil)
        process.executableURL = URL(fileURLWithPath: geoCLIPath)
        process.arguments = ["serve", "--db", db, "--host", "127.0.0.1", "--port", "0"] + arguments
        process.standardOutput = out
        process.standardError = FileHandle(forWritingAtPath: errorFile)
        _ = stopServersAtExit
        try process.run()
        let pid = process.processIdentifier
        runningServers.withLock { _ = $0.insert(pid) }
        // The first line names the port; wait for it (reading on another thread, so that a server that hangs
        // fails the test after `timeout` instead of blocking it), or for the process to fail.
        let reader = out.fileHandleForReading
        let firstLine = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var text = ""
        DispatchQueue.global().async {
            while !text.contains("\n") {
                let chunk = reader.availableData
                if chunk.isEmpty { break }
                text += String(decoding: chunk, as: UTF8.self)
            }
            firstLine.signal()
        }
        if firstLine.wait(timeout: .now() + timeout) == .timedOut {
            process.terminate()
            throw ServerError("geo-cli serve did not start within \(timeout) s")
        }
        if !text.contains("\n") {
            process.waitUntilExit()
            throw ServerError("geo-cli serve exited (\(process.terminationStatus)): \((try? String(contentsOfFile: errorFile, encoding: .utf8)) ?? "")")
        }
        guard let range = text.range(of: #"http://127\.0\.0\.1:[0-9]+"#, options: .regularExpression) else {
            throw ServerError("unexpected first line from geo-cli serve: \(text)")
        }
        baseURL = String(text[range])
    }

    /// What the server wrote to standard error so far.
    public var log: String { (try? String(contentsOfFile: errorFile, encoding: .utf8)) ?? "" }

    deinit {
        runningServers.withLock { _ = $0.remove(process.processIdentifier) }
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(atPath: errorFile)
    }
}

public struct ServerError: Error, CustomStringConvertible {
    public var description: String
    public init(_ d: String) { description = d }
}

/// An HTTP response as curl received it.
public struct HTTPResult: Sendable {
    public var status: Int
    /// Header names in lower case.
    public var headers: [String: String]
    public var body: Data
    public var text: String { String(decoding: body, as: UTF8.self) }

    public func json() throws -> Any { try JSONSerialization.jsonObject(with: body, options: [.fragmentsAllowed]) }
}

/// One request with curl, a real client: `curl -sS -i` with the given method and headers.
public func curl(_ url: String, method: String = "GET", headers: [String: String] = [:], body: String? = nil) throws -> HTTPResult {
    var args = ["-sS", "-i", "--max-time", "30", "-X", method]
    if method == "HEAD" { args = ["-sS", "-I", "--max-time", "30"] }
    for (k, v) in headers { args += ["-H", "\(k): \(v)"] }
    if let body { args += ["--data-binary", body] }
    args.append(url)
    let p = Process()
    p.executableURL = URL(fileURLWithPath: which("curl") ?? "/usr/bin/curl")
    p.arguments = args
    let out = Pipe()
    p.standardOutput = out
    try p.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    guard p.terminationStatus == 0 else { throw ServerError("curl \(url) failed with \(p.terminationStatus)") }
    // Headers end at the first blank line.
    let separator = Data("\r\n\r\n".utf8)
    let split = data.range(of: separator)
    let head = String(decoding: split.map { data[..<$0.lowerBound] } ?? data, as: UTF8.self)
    let body = split.map { Data(data[$0.upperBound...]) } ?? Data()
    let lines = head.components(separatedBy: "\r\n")
    let status = Int(lines.first?.split(separator: " ").dropFirst().first ?? "") ?? 0
    var headers: [String: String] = [:]
    for line in lines.dropFirst() {
        guard let colon = line.firstIndex(of: ":") else { continue }
        headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
    }
    return HTTPResult(status: status, headers: headers, body: body)
}
