import Foundation
import GeoGrid
import TestSupport
import Testing

/// Vector tiles from `geo-cli serve` on the demo city, decoded by an independent decoder (PyPI's
/// mapbox-vector-tile, in .venv-test, installed by scripts/setup.sh test) and judged against SpatiaLite.
@Suite(.serialized, .enabled(if: venvPython != nil && which("curl") != nil, "needs .venv-test (scripts/setup.sh test) and curl"))
struct TileTests {
    static let python = venvPython

    /// Tiles over the demo city at zooms 13 to 16, and one at 12 where grids are simplified.
    static let tiles: [TileID] = {
        var out: [TileID] = []
        for z in 12...16 {
            let n = Double(1 << z)
            let center = TileID.worldFraction(Position(24.9445, 60.1700))
            let cx = Int(center.x * n), cy = Int(center.y * n)
            for dx in (z >= 15 ? -1...1 : 0...0) { out.append(TileID(z: z, x: cx + dx, y: cy)!) }
        }
        return out
    }()

    func run(_ script: String, _ args: [String]) throws -> String {
        let r = try runProcess(Self.python!, ["-c", script] + args)
        try #require(r.status == 0, "\(r.stderr)")
        return r.stdout
    }

    /// Decoded features by layer: id → properties, via mapbox-vector-tile.
    func decode(_ file: String) throws -> [String: [Int64: [String: String]]] {
        let script = """
            import sys, json, mapbox_vector_tile
            tile = mapbox_vector_tile.decode(open(sys.argv[1], 'rb').read())
            out = {name: {str(f['id']): {k: str(v) for k, v in f['properties'].items()} for f in layer['features']} for name, layer in tile.items()}
            print(json.dumps(out))
            """
        let json = try #require(try JSONSerialization.jsonObject(with: Data(try run(script, [file]).utf8)) as? [String: [String: [String: String]]])
        return json.mapValues { Dictionary(uniqueKeysWithValues: $0.map { (Int64($0.key)!, $0.value) }) }
    }

    /// Store ids of `layer` whose geometry meets `box`, by SpatiaLite.
    func idsMeeting(_ store: GeoStore, _ layer: Layer, _ box: BBox) throws -> Set<Int64> {
        try store.read { db in
            let s = try db.prepare("SELECT id FROM \(layer.rawValue) WHERE ST_Intersects(geom, BuildMbr(?, ?, ?, ?, 4326))")
            try s.bind([.real(box.minX), .real(box.minY), .real(box.maxX), .real(box.maxY)])
            var out = Set<Int64>()
            while try s.step() { out.insert(s.int64(0)) }
            return out
        }
    }

    @Test func tilesHoldTheFeaturesThatMeetThem() throws {
        let (server, db, _) = try ServerTests.demo.get()
        let store = try GeoStore(path: db)
        let dir = TemporaryDirectory()
        let layers: [Layer] = [.grids, .buildings, .roads, .resources]
        var checked = 0
        for tile in Self.tiles where tile.z >= 14 {
            let r = try curl("\(server.baseURL)/tiles/grids,buildings,roads,resources/\(tile).mvt")
            #expect(r.status == 200 && r.headers["content-type"] == "application/vnd.mapbox-vector-tile", "\(tile)")
            try r.body.write(to: URL(fileURLWithPath: dir.path("t.mvt")))
            let decoded = try decode(dir.path("t.mvt"))
            #expect(Set(decoded.keys).isSubset(of: Set(layers.map(\.rawValue))))
            for layer in layers {
                let got = Set((decoded[layer.rawValue] ?? [:]).keys)
                // Everything that meets the tile is in it; everything in it meets the tile with its buffer.
                let inside = try idsMeeting(store, layer, tile.bounds())
                let buffered = try idsMeeting(store, layer, tile.bounds(buffer: Double(VectorTiles.buffer)))
                #expect(inside.isSubset(of: got), "\(tile) \(layer): missing \(inside.subtracting(got).sorted().prefix(5))")
                #expect(got.isSubset(of: buffered), "\(tile) \(layer): extra \(got.subtracting(buffered).sorted().prefix(5))")
                checked += got.count
            }
            // Properties are the store's, as the layer's spec names them.
            let spec = TileLayerSpec.of(.grids)
            for (id, props) in decoded["grids"] ?? [:] {
                let values: [String: String] = try store.read { db in
                    let s = try db.prepare("SELECT \(spec.properties.joined(separator: ", ")) FROM grids WHERE id = \(id)")
                    _ = try s.step()
                    var out: [String: String] = [:]
                    for (i, name) in spec.properties.enumerated() {
                        switch s.value(Int32(i)) {
                        case .text(let t): out[name] = t
                        case .integer(let v): out[name] = String(v)
                        case .real(let v): out[name] = String(v)
                        case .null: break
                        }
                    }
                    return out
                }
                #expect(props == values, "grid \(id)")
            }
        }
        #expect(checked > 1_000)
    }

    /// The cases layer is the open cases, the map of what must be done; `cases=all` adds the closed ones.
    @Test func theCasesLayerHoldsTheOpenCasesUnlessAllAreAsked() throws {
        let dir = TemporaryDirectory()
        try DemoCity.build(from: Fixtures.demoCity.path, at: dir.path("cases.sqlite"))
        try DemoCity.addWeekOfCases(to: try GeoStore(path: dir.path("cases.sqlite")), count: 240)
        let server = try RunningServer(db: dir.path("cases.sqlite"))
        let store = try GeoStore(path: dir.path("cases.sqlite"))
        func open(_ ids: Set<Int64>) throws -> Set<Int64> {
            try store.read { db in
                let s = try db.prepare("SELECT id FROM incidents WHERE open = 1")
                var out = Set<Int64>()
                while try s.step() { out.insert(s.int64(0)) }
                return ids.intersection(out)
            }
        }
        var seen = (open: 0, closed: 0)
        for tile in Self.tiles where tile.z <= 14 {
            for cases in ["", "?cases=open", "?cases=all"] {
                let r = try curl("\(server.baseURL)/tiles/incidents/\(tile).mvt\(cases)")
                #expect(r.status == 200 || r.status == 204, "\(tile)\(cases): \(r.status)")
                try r.body.write(to: URL(fileURLWithPath: dir.path("t.mvt")))
                let got = r.status == 204 ? [] : Set((try decode(dir.path("t.mvt"))["incidents"] ?? [:]).keys)
                var inside = try idsMeeting(store, .incidents, tile.bounds())
                var buffered = try idsMeeting(store, .incidents, tile.bounds(buffer: Double(VectorTiles.buffer)))
                if cases != "?cases=all" {
                    (inside, buffered) = (try open(inside), try open(buffered))
                } else {
                    seen = (try open(inside).count, inside.count - (try open(inside)).count)
                }
                #expect(inside.isSubset(of: got) && got.isSubset(of: buffered), "\(tile)\(cases): missing \(inside.subtracting(got).count), extra \(got.subtracting(buffered).count)")
            }
        }
        #expect(seen.open > 0 && seen.closed > 0, "the demo's week has open and closed cases in view: \(seen)")
        #expect(try curl("\(server.baseURL)/tiles/incidents/\(Self.tiles[0]).mvt?cases=some").status == 400)
    }

    /// Spec 2.1 at the byte level, read with the protobuf classes the decoder ships: command ids and counts,
    /// no zero-length segments, rings closed by ClosePath, exterior rings positive and holes negative, and every
    /// key and value used.
    @Test func tilesAreValidPerSpec21() throws {
        let (server, _, _) = try ServerTests.demo.get()
        let dir = TemporaryDirectory()
        var files: [String] = []
        for (i, tile) in Self.tiles.enumerated() {
            let r = try curl("\(server.baseURL)/tiles/communities,grids,buildings,roads,resources/\(tile).mvt")
            guard r.status == 200 else { continue }
            try r.body.write(to: URL(fileURLWithPath: dir.path("\(i).mvt")))
            files.append(dir.path("\(i).mvt"))
        }
        try #require(files.count == Self.tiles.count)
        let script = """
            import sys
            from mapbox_vector_tile.Mapbox import vector_tile_pb2 as pb
            problems, features = [], 0
            def zz(v): return (v >> 1) ^ -(v & 1)
            for path in sys.argv[1:]:
                t = pb.tile(); t.ParseFromString(open(path, 'rb').read())
                names = [l.name for l in t.layers]
                if len(set(names)) != len(names): problems.append(f'{path}: duplicate layer names')
                for l in t.layers:
                    if l.version != 2 or l.extent != 4096: problems.append(f'{path} {l.name}: version/extent')
                    used_k, used_v = set(), set()
                    for f in l.features:
                        features += 1
                        if len(f.tags) % 2: problems.append(f'{l.name} {f.id}: odd tags')
                        for i in range(0, len(f.tags), 2): used_k.add(f.tags[i]); used_v.add(f.tags[i + 1])
                        g, i, x, y, rings = list(f.geometry), 0, 0, 0, []
                        while i < len(g):
                            cid, count = g[i] & 7, g[i] >> 3; i += 1
                            if cid not in (1, 2, 7) or count == 0: problems.append(f'{l.name} {f.id}: command {cid}x{count}'); break
                            if cid == 7:
                                if f.type != 3 or count != 1: problems.append(f'{l.name} {f.id}: ClosePath'); 
                                continue
                            if f.type != 1 and cid == 1 and count != 1: problems.append(f'{l.name} {f.id}: MoveTo count {count}')
                            for _ in range(count):
                                dx, dy = zz(g[i]), zz(g[i + 1]); i += 2
                                if cid == 2 and dx == 0 and dy == 0: problems.append(f'{l.name} {f.id}: zero-length segment')
                                x += dx; y += dy
                                if cid == 1: rings.append([(x, y)])
                                else: rings[-1].append((x, y))
                        if f.type == 3:
                            first = True
                            for r in rings:
                                if len(r) < 3: problems.append(f'{l.name} {f.id}: ring of {len(r)}')
                                a = sum(r[k][0] * r[(k + 1) % len(r)][1] - r[(k + 1) % len(r)][0] * r[k][1] for k in range(len(r)))
                                if a == 0: problems.append(f'{l.name} {f.id}: zero-area ring')
                                if first and a < 0: problems.append(f'{l.name} {f.id}: first ring not exterior')
                                first = False
                        if f.type == 2 and any(len(r) < 2 for r in rings): problems.append(f'{l.name} {f.id}: short line')
                    if used_k != set(range(len(l.keys))) or used_v != set(range(len(l.values))): problems.append(f'{l.name}: unused keys/values')
            print(features); print('\\n'.join(problems[:20]))
            """
        let out = try run(script, files).split(separator: "\n", omittingEmptySubsequences: false)
        #expect((Int(out.first ?? "") ?? 0) > 1_000)
        let problems = out.dropFirst().filter { !$0.isEmpty }
        #expect(problems.isEmpty, "\(problems.joined(separator: "\n"))")
    }

    /// Simplified grid mosaics stay seamless: decoded grid polygons of a tile never overlap, and their union
    /// has no hole that the grids' own union lacks (shapely, on the decoder's output).
    @Test func gridMosaicsStaySeamlessAtEveryZoom() throws {
        let (server, db, _) = try ServerTests.demo.get()
        let dir = TemporaryDirectory()
        let export = try runProcess(geoCLIPath, ["export", "--db", db, "--layer", "grids", "-o", dir.path("grids.geojson")])
        try #require(export.status == 0, "\(export.stderr)")
        var files: [String] = []
        for (i, tile) in Self.tiles.enumerated() {
            let r = try curl("\(server.baseURL)/tiles/grids/\(tile).mvt")
            try r.body.write(to: URL(fileURLWithPath: dir.path("\(i).mvt")))
            files.append("\(tile.z),\(tile.x),\(tile.y),\(dir.path("\(i).mvt"))")
        }
        let script = """
            import sys, json, math, mapbox_vector_tile
            from shapely.geometry import shape
            from shapely.ops import unary_union
            def holes(g):
                parts = getattr(g, 'geoms', [g])
                return sum(len(p.interiors) for p in parts)
            src = unary_union([shape(f['geometry']) for f in json.load(open(sys.argv[1]))['features']])
            print('source holes', holes(src))
            for item in sys.argv[2:]:
                z, x, y, path = item.split(',')
                polys = [shape(f['geometry']) for f in mapbox_vector_tile.decode(open(path, 'rb').read(), default_options={'y_coord_down': True}).get('grids', {}).get('features', [])]
                if not polys: print(z, 'empty'); continue
                overlap = sum(polys[i].intersection(polys[j]).area for i in range(len(polys)) for j in range(i + 1, len(polys)))
                union = unary_union(polys)
                print(z, len(polys), round(overlap, 6), holes(union))
            """
        let out = try run(script, [dir.path("grids.geojson")] + files).split(separator: "\n").map(String.init)
        let sourceHoles = Int(out[0].split(separator: " ").last!)!
        for line in out.dropFirst() {
            let parts = line.split(separator: " ")
            guard parts.count == 4 else { continue }
            #expect(Double(parts[2]) == 0, "z\(parts[0]): grid polygons overlap by \(parts[2]) square units")
            #expect(Int(parts[3])! <= sourceHoles, "z\(parts[0]): \(parts[3]) holes in the mosaic, the grids have \(sourceHoles)")
        }
        #expect(out.count == Self.tiles.count + 1)
    }

    @Test func httpBehaviourOfTiles() throws {
        let (server, _, _) = try ServerTests.demo.get()
        let tile = Self.tiles.first { $0.z == 14 }!
        let url = "\(server.baseURL)/tiles/grids,buildings/\(tile).mvt"
        let plain = try curl(url)
        #expect(plain.status == 200 && plain.headers["cache-control"] == "public, no-cache")
        let etag = try #require(plain.headers["etag"])
        #expect(etag.hasPrefix("\"") && etag.hasSuffix("\""))
        // gzip when accepted, the same bytes once inflated.
        let gz = try curl(url, headers: ["Accept-Encoding": "gzip"])
        #expect(gz.headers["content-encoding"] == "gzip" && gz.headers["etag"] == etag)
        let dir = TemporaryDirectory()
        try gz.body.write(to: URL(fileURLWithPath: dir.path("t.gz")))
        let inflated = try runProcess("/bin/sh", ["-c", "gzip -dc \(dir.path("t.gz")) | od -An -tx1 | tr -d ' \\n'"])
        #expect(inflated.stdout == plain.body.map { String(format: "%02x", $0) }.joined())
        #expect(try curl(url, headers: ["If-None-Match": etag]).status == 304)
        let head = try curl(url, method: "HEAD")
        #expect(head.status == 200 && head.body.isEmpty && head.headers["content-length"] == String(plain.body.count))
        // Empty tiles, unknown layers, tiles that do not exist, and a layer below its zoom range.
        #expect(try curl("\(server.baseURL)/tiles/grids/14/0/0.mvt").status == 204)
        #expect(try curl("\(server.baseURL)/tiles/buildings/\(TileID(z: 12, x: 2331, y: 1185)!).mvt").status == 204)
        let unknown = try curl("\(server.baseURL)/tiles/grids,parks/14/0/0.mvt")
        #expect(unknown.status == 404 && unknown.headers["content-type"] == "application/problem+json")
        for bad in ["/tiles/grids/3/8/0.mvt", "/tiles/grids/25/0/0.mvt", "/tiles/grids/a/0/0.mvt", "/tiles/grids/-1/0/0.mvt"] {
            let r = try curl(server.baseURL + bad)
            #expect(r.status == 400 && r.headers["content-type"] == "application/problem+json", "\(bad)")
        }
    }

    /// GDAL's MVT driver (gdal-bin's ogr2ogr) reads our tiles: counts, attributes and places match the store.
    @Test(.enabled(if: which("ogr2ogr") != nil, "needs gdal-bin")) func gdalReadsTiles() throws {
        let (server, db, _) = try ServerTests.demo.get()
        let store = try GeoStore(path: db)
        let tile = Self.tiles.first { $0.z == 14 }!
        for layer in [Layer.grids, .buildings, .resources] {
            let r = try runProcess(which("ogr2ogr")!, ["-f", "GeoJSON", "/vsistdout/", "-t_srs", "EPSG:4326",
                "MVT:\(server.baseURL)/tiles/grids,buildings,resources/\(tile).mvt", layer.rawValue])
            try #require(r.status == 0, "\(r.stderr)")
            let fc = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
            let features = try #require(fc["features"] as? [[String: Any]])
            // GDAL clips to the tile itself: what meets the tile, perhaps some of what meets only its buffer.
            let got = Set(features.compactMap { ($0["properties"] as? [String: Any])?["mvt_id"] as? Int }.map(Int64.init))
            #expect(try idsMeeting(store, layer, tile.bounds()).isSubset(of: got), "\(layer)")
            #expect(got.isSubset(of: try idsMeeting(store, layer, tile.bounds(buffer: Double(VectorTiles.buffer)))), "\(layer)")
            let spec = TileLayerSpec.of(layer)
            for f in features {
                let props = try #require(f["properties"] as? [String: Any])
                let id = try #require(props["mvt_id"] as? Int)
                let row = try store.read { db in
                    let s = try db.prepare("SELECT \(spec.properties.joined(separator: ", ")), MbrMinX(geom), MbrMinY(geom), MbrMaxX(geom), MbrMaxY(geom) FROM \(layer.rawValue) WHERE id = \(id)")
                    _ = try s.step()
                    return (0..<Int32(spec.properties.count + 4)).map { s.value($0) }
                }
                for (i, name) in spec.properties.enumerated() {
                    switch row[i] {
                    case .text(let t): #expect(props[name] as? String == t, "\(layer) \(id) \(name)")
                    case .integer(let v): #expect((props[name] as? Int).map(Int64.init) == v, "\(layer) \(id) \(name)")
                    case .real(let v): #expect(props[name] as? Double == v, "\(layer) \(id) \(name)")
                    case .null: #expect(props[name] == nil || props[name] is NSNull, "\(layer) \(id) \(name)")
                    }
                }
                // Placed where the store has it: every decoded coordinate within the feature's box, give or take
                // a tile unit (2.4 m at z14, about 0.00005°).
                var coordinates: [[Double]] = []
                func collect(_ any: Any) {
                    if let pair = any as? [Double], pair.count == 2 { coordinates.append(pair) } else if let list = any as? [Any] { list.forEach(collect) }
                }
                collect((f["geometry"] as? [String: Any])?["coordinates"] ?? [])
                let box = row.suffix(4).map { if case .real(let d) = $0 { return d } else { return .nan } }
                #expect(!coordinates.isEmpty && coordinates.allSatisfy { c in
                    c[0] >= box[0] - 1e-4 && c[0] <= box[2] + 1e-4 && c[1] >= box[1] - 1e-4 && c[1] <= box[3] + 1e-4
                }, "\(layer) \(id)")
            }
        }
    }

    @Test func tileJSONAndStyleDescribeTheLayers() throws {
        let (server, db, _) = try ServerTests.demo.get()
        let store = try GeoStore(path: db)
        let r = try curl("\(server.baseURL)/tiles/grids,buildings.json")
        #expect(r.status == 200 && r.headers["content-type"] == "application/json")
        let tj = try #require(try JSONSerialization.jsonObject(with: r.body) as? [String: Any])
        #expect(tj["tilejson"] as? String == "3.0.0")
        #expect(tj["tiles"] as? [String] == ["\(server.baseURL)/tiles/grids,buildings/{z}/{x}/{y}.mvt"])
        let bounds = try #require(tj["bounds"] as? [Double])
        let extent = try store.read { db in
            // SpatiaLite's exact extent of the geometries.
            let s = try db.prepare("SELECT MbrMinX(e), MbrMinY(e), MbrMaxX(e), MbrMaxY(e) FROM (SELECT Extent(geom) AS e FROM grids)")
            _ = try s.step()
            return BBox(minX: s.double(0), minY: s.double(1), maxX: s.double(2), maxY: s.double(3))
        }
        // (Foundation's JSON parser on Linux may be an ulp off: a nanodegree of slack.)
        #expect(bounds.count == 4 && bounds[0] <= extent.minX + 1e-9 && bounds[2] >= extent.maxX - 1e-9 && bounds[1] <= extent.minY + 1e-9
            && bounds[3] >= extent.maxY - 1e-9)
        let layers = try #require(tj["vector_layers"] as? [[String: Any]])
        #expect(layers.map { $0["id"] as? String } == ["grids", "buildings"])
        let gridFields = try #require(layers[0]["fields"] as? [String: String])
        #expect(Set(gridFields.keys) == Set(TileLayerSpec.of(.grids).properties) && gridFields["households"] == "Number")
        // The style's source is a TileJSON of every layer; every style layer draws a layer and fields that exist.
        let style = try #require(try JSONSerialization.jsonObject(with: try curl("\(server.baseURL)/style.json").body) as? [String: Any])
        #expect(style["version"] as? Int == 8)
        let source = try #require((style["sources"] as? [String: Any])?["geogrid"] as? [String: Any])
        let sourceURL = try #require(source["url"] as? String)
        let all = try #require(try JSONSerialization.jsonObject(with: try curl(sourceURL).body) as? [String: Any])
        let fields = Dictionary(uniqueKeysWithValues: (all["vector_layers"] as? [[String: Any]] ?? []).map { ($0["id"] as! String, Set(($0["fields"] as! [String: String]).keys)) })
        #expect(fields.count == Layer.builtIn.count)
        let styleLayers = try #require(style["layers"] as? [[String: Any]])
        var drawn = Set<String>()
        for l in styleLayers {
            guard let sourceLayer = l["source-layer"] as? String else { continue }
            drawn.insert(sourceLayer)
            let text = String(decoding: try JSONSerialization.data(withJSONObject: l), as: UTF8.self)
            for match in text.matches(of: /\["get","([a-z_]+)"\]/) { #expect(fields[sourceLayer]?.contains(String(match.1)) == true, "\(l["id"]!) uses \(match.1)") }
        }
        #expect(drawn == Set(Layer.builtIn.map(\.rawValue)))
    }

    /// Polygons stay OGC-valid after simplification, clipping and snapping (shapely on the decoded tiles of
    /// a 5 × 5 block at every zoom from 12 to 17): where the tile edge or simplification would make a ring touch
    /// itself, the encoder repairs it.
    @Test func decodedPolygonsAreValid() throws {
        let (server, _, _) = try ServerTests.demo.get()
        let dir = TemporaryDirectory()
        var files: [String] = []
        for z in 12...17 {
            let c = TileID.worldFraction(Position(24.9445, 60.1700))
            let n = Double(1 << z)
            for dx in -2...2 {
                for dy in -2...2 {
                    let tile = TileID(z: z, x: Int(c.x * n) + dx, y: Int(c.y * n) + dy)!
                    let r = try curl("\(server.baseURL)/tiles/communities,grids,buildings/\(tile).mvt")
                    guard r.status == 200 else { continue }
                    let path = dir.path("\(tile.z)-\(tile.x)-\(tile.y).mvt")
                    try r.body.write(to: URL(fileURLWithPath: path))
                    files.append(path)
                }
            }
        }
        let script = """
            import sys, mapbox_vector_tile
            from shapely.geometry import shape
            from shapely.validation import explain_validity
            total, bad = 0, []
            for path in sys.argv[1:]:
                for name, layer in mapbox_vector_tile.decode(open(path, 'rb').read(), default_options={'y_coord_down': True}).items():
                    for f in layer['features']:
                        g = shape(f['geometry']); total += 1
                        if not g.is_valid: bad.append(f"{path.split('/')[-1]} {name} {f['id']}: {explain_validity(g)}")
            print(total); print('\\n'.join(bad[:10]))
            """
        let out = try run(script, files).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect((Int(out.first ?? "") ?? 0) > 2_000)
        let problems = out.dropFirst().filter { !$0.isEmpty }
        #expect(problems.isEmpty, "\(problems.joined(separator: "\n"))")
    }

    /// Label glyphs: MapLibre's glyph protobuf, read here by a parser of its own, holds every digit (grid codes)
    /// and letter as a signed distance field of the size its metrics say, with inside and outside values; font
    /// stacks fall back in order; every font the style names is served.
    @Test(.enabled(if: FileManager.default.fileExists(atPath: Fixtures.repository.appendingPathComponent("var/glyphs").path),
        "needs var/glyphs (scripts/setup.sh makes them)"))
    func glyphsForTheStyle() throws {
        let (server, _, _) = try ServerTests.demo.get()
        let dir = TemporaryDirectory()
        let r = try curl("\(server.baseURL)/fonts/No%20Such%20Font,DejaVu%20Sans%20Bold/0-255.pbf")
        #expect(r.status == 200 && r.headers["content-type"] == "application/x-protobuf")
        try r.body.write(to: URL(fileURLWithPath: dir.path("g.pbf")))
        let script = """
            import sys
            def varint(b, i):
                v = s = 0
                while True:
                    c = b[i]; i += 1; v |= (c & 0x7f) << s; s += 7
                    if c < 0x80: return v, i
            def fields(b):
                i = 0
                while i < len(b):
                    key, i = varint(b, i)
                    if key & 7 == 0: v, i = varint(b, i); yield key >> 3, v
                    else:
                        n, i = varint(b, i); yield key >> 3, b[i:i + n]; i += n
            data = open(sys.argv[1], 'rb').read()
            stacks = [v for k, v in fields(data) if k == 1]
            st = dict((k, v) for k, v in fields(stacks[0]) if k in (1, 2))
            print(st[1].decode(), st[2].decode())
            bad = []
            ids = set()
            for k, g in fields(stacks[0]):
                if k != 3: continue
                f = {}
                for fk, fv in fields(g): f[fk] = fv
                ids.add(f[1])
                w, h = f[3], f[4]
                if w and h:
                    bm = f.get(2, b'')
                    if len(bm) != (w + 6) * (h + 6): bad.append(f'{f[1]}: bitmap {len(bm)} for {w}x{h}')
                    elif max(bm) < 192 or min(bm) > 64: bad.append(f'{f[1]}: no inside/outside')
            need = set(range(48, 58)) | set(range(65, 91)) | set(range(97, 123)) | {ord('ä'), ord('ö'), ord('å')}
            print(len(ids), sorted(need - ids)); print(bad[:5])
            """
        let out = try run(script, [dir.path("g.pbf")]).split(separator: "\n").map(String.init)
        #expect(out.first == "DejaVu Sans Bold 0-255")
        #expect(out.count == 3 && out[1].hasSuffix(" []") && (Int(out[1].split(separator: " ")[0]) ?? 0) > 150, "\(out)")
        #expect(out.last == "[]", "\(out)")
        #expect(try curl("\(server.baseURL)/fonts/DejaVu%20Sans/512-767.pbf").status == 200)
        #expect(try curl("\(server.baseURL)/fonts/Comic%20Sans/0-255.pbf").status == 404)
        #expect(try curl("\(server.baseURL)/fonts/DejaVu%20Sans/1-256.pbf").status == 404)
        // The style's labels: grid codes, in fonts that are served.
        let style = try #require(try JSONSerialization.jsonObject(with: try curl("\(server.baseURL)/style.json").body) as? [String: Any])
        let glyphs = try #require(style["glyphs"] as? String)
        let layers = style["layers"] as? [[String: Any]] ?? []
        let gridLabel = try #require(layers.first { $0["id"] as? String == "grids-label" })
        #expect(((gridLabel["layout"] as? [String: Any])?["text-field"] as? [String]) == ["get", "code"])
        for l in layers {
            for font in ((l["layout"] as? [String: Any])?["text-font"] as? [String]) ?? [] {
                let url = glyphs.replacingOccurrences(of: "{fontstack}", with: font.replacingOccurrences(of: " ", with: "%20"))
                    .replacingOccurrences(of: "{range}", with: "0-255")
                #expect(try curl(url).status == 200, "\(font)")
            }
        }
    }
}
