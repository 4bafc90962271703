import ArgumentParser
import Foundation
import GeoGrid
import Logging
import TileServer

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve a store over HTTP: vector tiles, TileJSON, a MapLibre style, the demo map at /map, the query API, health and metrics.",
        discussion: """
            The query indexes are built before the server starts listening, so the first request is as fast as \
            the rest. Stop with Ctrl-C (SIGINT) or SIGTERM; requests in flight are finished first.
            """)
    @OptionGroup var store: StoreOptions
    @Option(help: "Address to listen on.") var host = "127.0.0.1"
    @Option(help: "Port to listen on; 0 picks a free one (printed).") var port = 8080
    @Option(name: .customLong("cors-origin"), help: "An origin allowed to call from browsers (repeatable); * for any, none for none.")
    var corsOrigins: [String] = ["*"]
    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.") var logLevel = "info"
    @Option(help: "The folder holding MapLibre GL JS for /map (scripts/fetch-maplibre.sh fills var/maplibre).")
    var mapAssets = "var/maplibre"
    @Option(help: "The folder holding the label glyphs (scripts/make-glyphs.py fills var/glyphs).") var glyphs = "var/glyphs"
    @Option(help: "Bound of the tile cache in MiB; 0 for none.") var tileCacheMib = 256
    @Option(help: "Seconds between checks for writes to the file by other processes (QGIS editing it); 0 for none.")
    var watchSeconds = 2.0
    @Option(help: "Anonymous reads: all (everything but personal fields; the default) or none (every route but /health needs a token).")
    var publicRead = "all"
    @Option(help: "The largest request body taken, in MiB (edits, plans, cases); more is a 413.") var maxBodyMib = 32
    @Option(help: "Requests per second each token may make, sustained; more is a 429 with Retry-After. 0 for no limit.")
    var rateLimit = 100.0
    @Option(help: "How many requests a token may make at once, ahead of --rate-limit (default: twice the rate).") var rateBurst: Int?
    @Option(help: "Seconds a connection may wait for its next request, or take to send its head, before it is closed; 0 for no limit.")
    var idleTimeout = 60.0
    @Option(help: "Seconds a request's body may take to arrive after its head (then 408); 0 for no limit.") var requestTimeout = 60.0

    func validate() throws {
        guard (0...65_535).contains(port) else { throw ValidationError("--port must be 0 to 65535") }
        guard (0...65_536).contains(tileCacheMib) else { throw ValidationError("--tile-cache-mib must be 0 (no cache) to 65536") }
        guard publicRead == "all" || publicRead == "none" else { throw ValidationError("--public-read must be all or none") }
        guard watchSeconds >= 0 && watchSeconds.isFinite else { throw ValidationError("--watch-seconds must be 0 (no checks) or more") }
        guard (1...4096).contains(maxBodyMib) else { throw ValidationError("--max-body-mib must be 1 to 4096") }
        guard rateLimit >= 0 && rateLimit.isFinite else { throw ValidationError("--rate-limit must be 0 (no limit) or more requests a second") }
        if let rateBurst, rateBurst < 1 { throw ValidationError("--rate-burst must be 1 or more") }
        guard idleTimeout >= 0 && idleTimeout.isFinite else { throw ValidationError("--idle-timeout must be 0 (no limit) or more seconds") }
        guard requestTimeout >= 0 && requestTimeout.isFinite else { throw ValidationError("--request-timeout must be 0 (no limit) or more seconds") }
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("--log-level must be one of trace, debug, info, notice, warning, error, critical") }
    }

    func run() async throws {
        Allocator.boundArenasForService()  // before the threads that build the indexes allocate
        let store = try GeoStore(path: self.store.db)
        var logger = Logger(label: "geogrid")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        let start = Date()
        try store.followExternalWrites()  // notes where the file is, before the indexes are read from it
        try store.prepareQueryIndexes()
        logger.info("query indexes ready", metadata: ["seconds": .stringConvertible((Date().timeIntervalSince(start) * 100).rounded() / 100)])
        let origins = corsOrigins.contains("none") ? [] : corsOrigins
        var configuration = ServerConfiguration(host: host, port: port, corsOrigins: origins, tileCacheBytes: tileCacheMib << 20, mapAssets: mapAssets, glyphs: glyphs)
        configuration.publicRead = publicRead == "all"
        configuration.limits.maxBodyBytes = maxBodyMib << 20
        configuration.limits.requestsPerSecond = rateLimit
        configuration.limits.burst = rateBurst ?? 0
        configuration.limits.idleTimeout = idleTimeout
        configuration.limits.requestTimeout = requestTimeout
        let server = GeoGridServer(store: store, configuration: configuration)
        let host = self.host, db = self.store.db
        let app = server.application(logger: logger) { port in
            // Written whole and unbuffered: scripts and tests wait for this line to learn the port.
            FileHandle.standardOutput.write(Data("GeoGrid serving \(db) at http://\(host):\(port)/\n".utf8))
        }
        if watchSeconds > 0 { Self.watch(store, every: watchSeconds, logger: logger) }
        let clockLogger = logger
        server.startIncidentClock { error in clockLogger.error("the clock of cases and plans failed: \(error)") }
        try await app.runService()
    }

    /// Checks now and then for commits by other processes and catches up (indexes rebuilt, cached tiles
    /// dropped), on a thread of its own: a rebuild of a big store takes a second, which would hold one of the
    /// few threads that serve requests.
    static func watch(_ store: GeoStore, every seconds: Double, logger: Logger) {
        Thread.detachNewThread {
            while true {
                Thread.sleep(forTimeInterval: seconds)
                let start = Date()
                do {
                    if try store.followExternalWrites() {
                        logger.info("the store was changed by another process: indexes rebuilt, tiles dropped",
                            metadata: ["seconds": .stringConvertible((Date().timeIntervalSince(start) * 100).rounded() / 100)])
                    }
                } catch {
                    logger.error("checking the store for other processes' writes failed: \(error)")
                }
            }
        }
    }
}
