import Foundation
import GeoGrid
import Hummingbird
import HummingbirdCore
import NIOCore
import Logging
import Synchronization

/// How the server listens and whom it lets in.
public struct ServerConfiguration: Sendable {
    public var host: String
    /// 0 picks a free port (reported through `onRunning`).
    public var port: Int
    /// Origins allowed to call from browsers: `*` for any, none for same-origin only.
    public var corsOrigins: [String]
    /// The tile cache's bound, in bytes (raw and gzipped forms both count).
    public var tileCacheBytes: Int
    /// Where MapLibre GL JS's files are for the demo map (scripts/fetch-maplibre.sh).
    public var mapAssets: String
    /// Where the label glyphs are (scripts/make-glyphs.py).
    public var glyphs: String
    /// Whether anonymous callers may read (everything but personal fields); false: every route but /health
    /// needs a token.
    public var publicRead = true
    /// Body sizes, rate limits and timeouts.
    public var limits = ServerLimits()

    public init(host: String = "127.0.0.1", port: Int = 8080, corsOrigins: [String] = ["*"], tileCacheBytes: Int = 256 << 20,
        mapAssets: String = "var/maplibre", glyphs: String = "var/glyphs"
    ) {
        self.host = host
        self.port = port
        self.corsOrigins = corsOrigins
        self.tileCacheBytes = tileCacheBytes
        self.mapAssets = mapAssets
        self.glyphs = glyphs
    }
}

/// The thread `startIncidentClock` started; `stop()` ends it within a second (tests start and stop it).
public final class BackgroundClock: Sendable {
    private let flag = Atomic<Bool>(false)
    public var stopped: Bool { flag.load(ordering: .acquiring) }
    public func stop() { flag.store(true, ordering: .releasing) }
}

/// GeoGrid's HTTP service over one store: the query API, vector tiles, OGC API Features (with Part 4 edits),
/// health, metrics and the demo map. Reads come from the store's in-memory indexes or a read snapshot; writes
/// go through `GeoStore.edit`, with the caller's token.
public struct GeoGridServer: Sendable {
    public let store: GeoStore
    public let configuration: ServerConfiguration
    public let metrics = ServerMetrics()
    public let tiles: TileCache
    /// The cases' workplace; its clock is the time every workflow decision is made at.
    public let desk: IncidentDesk
    let started = Date()

    public init(store: GeoStore, configuration: ServerConfiguration, clock: @escaping @Sendable () -> Timestamp = { Timestamp.now }) {
        self.store = store
        self.configuration = configuration
        self.desk = IncidentDesk(store: store, clock: clock)
        let tiles = TileCache(capacityBytes: configuration.tileCacheBytes)
        self.tiles = tiles
        // Writes through the store drop exactly the cached tiles they may change.
        store.onCommit { change in tiles.invalidate(change) }
    }

    public func router() -> Router<BasicRequestContext> {
        let router = Router()
        router.add(middleware: MetricsMiddleware(metrics: metrics))
        router.add(middleware: CORSMiddleware(allowed: configuration.corsOrigins))
        router.add(middleware: ProblemMiddleware())
        if configuration.limits.requestsPerSecond > 0 {
            let limits = configuration.limits
            router.add(middleware: RateLimitMiddleware(limiter: RateLimiter(rate: limits.requestsPerSecond, burst: limits.effectiveBurst)))
        }
        let methods = RouteMethods()
        router.add(middleware: MethodNotAllowedMiddleware(routes: methods))
        router.add(middleware: ParameterMiddleware())
        let auth = Auth(store: store, publicRead: configuration.publicRead)
        router.add(middleware: PublicReadMiddleware(auth: auth))
        QueryAPI(store: store, auth: auth).add(to: router)
        TileJSONAPI(store: store).add(to: router)
        MapPage(assets: configuration.mapAssets).add(to: router)
        ConsolePage(auth: auth).add(to: router)
        GlyphsAPI(folder: configuration.glyphs).add(to: router)
        let features = FeaturesAPI(store: store, auth: auth)
        features.add(to: router)
        let maxBody = configuration.limits.maxBodyBytes
        FeatureEditsAPI(store: store, auth: auth, features: features, maxBody: maxBody).add(to: router)
        IncidentsAPI(store: store, auth: auth, desk: desk, maxBody: maxBody).add(to: router)
        EventsAPI(store: store, auth: auth).add(to: router)
        PlansAPI(store: store, auth: auth, maxBody: maxBody).add(to: router)
        Open311API(store: store, auth: auth, desk: desk, maxBody: maxBody).add(to: router)
        TileAPI(store: store, cache: tiles, metrics: metrics).add(to: router)
        router.get("health") { _, _ in try health() }
        router.get("metrics") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: metrics.prometheusText)))
        }
        methods.load(router.routes)
        return router
    }

    /// 200 with the store and its indexes when the store answers a read; 503 when it does not.
    func health() throws -> Response {
        do {
            return .json(try healthReport())
        } catch {
            throw Problem(.serviceUnavailable, "the store does not answer: \(error)")
        }
    }

    /// What /health says. Cheap enough to probe every second: one read of the schema cookie, and the layers'
    /// counts as served, from the feature indexes (kept in step with every write), rather than a count(*) and
    /// an R*Tree scan per layer; from the store only while an index is not built.
    func healthReport() throws -> JSONValue {
        _ = try store.read { try $0.scalar("PRAGMA schema_version") }
        let status = store.queryIndexStatus
        let indexed = Dictionary(uniqueKeysWithValues: status.filter(\.built).map { ($0.name, $0.rows) })
        let layers = store.layers
        var counts: [(Layer, Int)] = layers.compactMap { layer in indexed["features \(layer.rawValue)"].map { (layer, $0) } }
        if counts.count < layers.count { counts = try store.info().layers.map { ($0.layer, $0.count) } }
        let indexes: [JSONValue] = status.map { s in
            .object([("name", .string(s.name)), ("built", .bool(s.built)), ("rows", .number(Double(s.rows))),
                ("pending_changes", .number(Double(s.pendingChanges)))])
        }
        return .object([
            ("status", .string("ok")), ("version", .string(GeoGridInfo.version)), ("store", .string(store.path)),
            ("schema_version", .number(Double(GeoStore.schemaVersion))),
            ("uptime_s", .number((Date().timeIntervalSince(started) * 10).rounded() / 10)),
            ("layers", .object(counts.map { ($0.0.rawValue, .number(Double($0.1))) })), ("indexes", .array(indexes)),
        ])
    }

    /// Starts the clock of the cases and plans on a thread of its own: each light is turned (with its
    /// `light_changed` event) as its limit passes, the moment of the next one known from the store; as each day
    /// begins, applied plans effective that day take effect (`PlanDesk.activateDuePlans`); events other
    /// processes wrote are caught up with; listeners get a heartbeat every 15 s.
    @discardableResult public func startIncidentClock(onError: @escaping @Sendable (any Error) -> Void = { _ in }) -> BackgroundClock {
        let desk = self.desk, store = self.store
        let clock = BackgroundClock()
        Thread.detachNewThread {
            var lastTick = Date()
            var lastDay: String?
            while !clock.stopped {
                var wait = 1.0
                // As a day begins (and at start), plans effective that day take effect without another command.
                let today = store.today
                if today != lastDay {
                    do {
                        try PlanDesk(store: store).activateDuePlans()
                        lastDay = today
                    } catch {
                        onError(error)
                    }
                }
                do {
                    // A write only when a limit has passed (a read finds the next one): no write lock taken every
                    // second for nothing, which another process editing the file would have to wait for.
                    if let next = try desk.nextLightChange() {
                        if next <= desk.clock() {
                            try desk.pushLights()
                            wait = 0.002
                        } else {
                            wait = min(wait, max(0.002, next.seconds - desk.clock().seconds))
                        }
                    }
                } catch {
                    onError(error)
                    wait = 5
                }
                store.events.catchUp(store)
                if Date().timeIntervalSince(lastTick) >= 15 {
                    store.events.tick()
                    lastTick = Date()
                }
                Thread.sleep(forTimeInterval: wait)
            }
        }
        return clock
    }

    /// The application, listening where the configuration says; `onRunning` gets the bound port.
    public func application(logger: Logger, onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) -> some ApplicationProtocol {
        let limits = configuration.limits
        let http1 = HTTP1Channel.Configuration(
            additionalChannelHandlers: [ConnectionGuard(seconds: limits.requestTimeout)],
            idleTimeout: limits.idleTimeout > 0 ? .nanoseconds(Int64(limits.idleTimeout * 1e9)) : nil)
        return Application(
            router: router(),
            server: .http1(configuration: http1),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "GeoGrid/\(GeoGridInfo.version)"),
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? configuration.port) },
            logger: logger)
    }
}
