import Foundation
import Synchronization
import GeoGrid
import TestSupport
import Testing

@testable import TileServer

/// The tile cache follows writes through the store: exactly the tiles that meet a changed feature's old or
/// new box are dropped, in every layer set that includes its layer, at every zoom; the rest stay.
@Suite struct TileCacheTests {
    @Test func aWriteDropsExactlyTheTilesItTouches() throws {
        let dir = TemporaryDirectory()
        try DemoCity.build(from: Fixtures.demoCity.path, at: dir.path("demo.sqlite"))
        let store = try GeoStore(path: dir.path("demo.sqlite"))
        try store.prepareQueryIndexes()
        let server = GeoGridServer(store: store, configuration: ServerConfiguration(tileCacheBytes: 64 << 20))
        // Every tile of the demo city from z12 to z16, for two layer sets, cached.
        let extent = try #require(try store.info().layers.first { $0.layer == .buildings }?.extent)
        var keys: [TileCache.Key] = []
        for z in 12...16 {
            let n = Double(1 << z)
            let lo = TileID.worldFraction(Position(extent.minX, extent.maxY)), hi = TileID.worldFraction(Position(extent.maxX, extent.minY))
            for x in Int(lo.x * n)...Int(hi.x * n) {
                for y in Int(lo.y * n)...Int(hi.y * n) {
                    let tile = TileID(z: z, x: x, y: y)!
                    for layers in [[Layer.buildings], [.grids, .roads]] {
                        let key = TileCache.Key(layers: layers, tile: tile)
                        server.tiles.put(key, .init(bytes: VectorTiles.encode(tile, layers: layers) { try! store.shapeIndex($0).entries(intersecting: $1) }))
                        keys.append(key)
                    }
                }
            }
        }
        #expect(server.tiles.count == keys.count && keys.count > 40)
        // Move one building 30 m east: the tiles meeting its old or new box go, and only those.
        let building = try #require(try store.shapeIndex(.buildings).entries(intersecting: extent).first { $0.id == 100 })
        try store.write { db in try db.execute("UPDATE buildings SET geom = ST_Translate(geom, 0.0005, 0, 0) WHERE id = 100") }
        let moved = try #require(try store.shapeIndex(.buildings).entry(id: 100))
        for key in keys {
            let bounds = key.tile.bounds(buffer: Double(VectorTiles.buffer), extent: Double(VectorTiles.extent))
            let touched = key.layers.contains(.buildings) && (building.box.intersects(bounds) || moved.box.intersects(bounds))
            #expect((server.tiles.get(key) == nil) == touched, "\(key.layers) \(key.tile)")
        }
        // A tile encoded again shows the building where it now is.
        let z16 = keys.first { $0.layers == [.buildings] && $0.tile.z == 16 && server.tiles.get($0) == nil }!
        let fresh = VectorTiles.encode(z16.tile, layers: [.buildings]) { try! store.shapeIndex($0).entries(intersecting: $1) }
        #expect(!fresh.isEmpty)
    }

    @Test func theCacheStaysWithinItsBound() {
        let cache = TileCache(capacityBytes: 100_000)
        for i in 0..<500 {
            cache.put(TileCache.Key(layers: [.roads], tile: TileID(z: 16, x: i, y: 0)!), .init(bytes: [UInt8](repeating: UInt8(i % 251), count: 2_000)))
        }
        #expect(cache.bytes <= 100_000)
        #expect(cache.count < 500 && cache.count > 20)
        // The most recent stay; the oldest went first.
        #expect(cache.get(TileCache.Key(layers: [.roads], tile: TileID(z: 16, x: 499, y: 0)!)) != nil)
        #expect(cache.get(TileCache.Key(layers: [.roads], tile: TileID(z: 16, x: 0, y: 0)!)) == nil)
    }

    /// A tile read from the indexes before a write that touches it, and kept after, would show the map from
    /// before the write until the next one: it is not kept. Writes elsewhere do not cost it its place.
    @Test func aTileBuiltWhileAWriteTouchedItIsNotKept() {
        let cache = TileCache(capacityBytes: 1 << 20)
        let tile = TileID(z: 14, x: 9326, y: 4742)!
        let key = TileCache.Key(layers: [.incidents], tile: tile)
        let b = tile.bounds()
        func change(_ layer: Layer, at x: Double, _ y: Double) -> StoreChange {
            var c = StoreChange()
            c.boxes[layer] = [BBox(minX: x, minY: y, maxX: x, maxY: y)]
            return c
        }
        let inside = ((b.minX + b.maxX) / 2, (b.minY + b.maxY) / 2)
        var ticket = cache.ticket()
        cache.invalidate(change(.incidents, at: inside.0, inside.1))
        cache.put(key, .init(bytes: [1, 2, 3]), since: ticket)
        #expect(cache.get(key) == nil, "built before a case inside it was written")
        ticket = cache.ticket()
        cache.invalidate(change(.incidents, at: b.maxX + 1, b.maxY + 1))
        cache.invalidate(change(.buildings, at: inside.0, inside.1))
        cache.put(key, .init(bytes: [1, 2, 3]), since: ticket)
        #expect(cache.get(key) != nil, "the writes meanwhile were elsewhere or in another layer")
        ticket = cache.ticket()
        for _ in 0...TileCache.remembered { cache.invalidate(change(.roads, at: 0, 0)) }
        cache.put(key, .init(bytes: [4]), since: ticket)
        #expect(cache.get(key)?.bytes == [1, 2, 3], "too many writes meanwhile to tell: not kept")
        cache.put(key, .init(bytes: [5]), since: cache.ticket())
        #expect(cache.get(key)?.bytes == [5])
    }

    /// Requests for a tile being built join its build; one that arrives after a write touched the tile starts
    /// its own, so no one is answered the map from before a write they came after.
    @Test func requestsForATileBeingBuiltShareTheBuild() async throws {
        let cache = TileCache(capacityBytes: 1 << 20)
        let tile = TileID(z: 14, x: 9326, y: 4742)!
        let key = TileCache.Key(layers: [.incidents], tile: tile)
        final class Probe: Sendable {
            let builds = Mutex(0)
            let gate = Mutex(false)
        }
        let probe = Probe()
        // The builds wait without holding a thread of the pool, which other suites share.
        let build: @Sendable () async throws -> TileCache.Entry = {
            let n = probe.builds.withLock { $0 += 1; return $0 }
            while !probe.gate.withLock({ $0 }) { try await Task.sleep(for: .milliseconds(1)) }
            return .init(bytes: [UInt8(n)])
        }
        let first = Task { try await cache.entry(key, build: build) }
        while probe.builds.withLock({ $0 }) == 0 { try await Task.sleep(for: .milliseconds(1)) }
        let joined = (0..<7).map { _ in Task { try await cache.entry(key, build: build) } }
        try await Task.sleep(for: .milliseconds(50))
        // A write inside the tile: the next request builds anew.
        var change = StoreChange()
        let b = tile.bounds()
        change.boxes[.incidents] = [BBox(minX: b.minX, minY: b.minY, maxX: b.minX, maxY: b.minY)]
        cache.invalidate(change)
        let after = Task { try await cache.entry(key, build: build) }
        while probe.builds.withLock({ $0 }) < 2 { try await Task.sleep(for: .milliseconds(1)) }
        probe.gate.withLock { $0 = true }
        #expect(try await first.value.entry.bytes == [1])
        for t in joined {
            let (entry, cached) = try await t.value
            #expect(entry.bytes == [1] && !cached)
        }
        #expect(try await after.value.entry.bytes == [2])
        #expect(probe.builds.withLock { $0 } == 2)
        // Only the build begun after the write is kept.
        #expect(cache.get(key)?.bytes == [2])
        #expect(try await cache.entry(key, build: build).cached)
    }
}
