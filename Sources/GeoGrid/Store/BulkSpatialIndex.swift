/// Keeps a layer's R*Tree in step during an import, in bulk.
///
/// SpatiaLite keeps its R*Tree by triggers that run per row: a geometry-constraint check (`ggi_`), a
/// timestamp update (`tmi_`), and a delete plus `RTreeAlign` call that formats and runs SQL (`gii_`). For an
/// import that is most of the cost. Inside the import's transaction this drops those three triggers (their SQL
/// is read from the schema and restored verbatim), lets the rows be inserted, then indexes their boxes, stamps
/// `geometry_columns_time` once and recreates the triggers. A rollback restores the triggers with everything
/// else, DDL being transactional in SQLite; other connections never see the store without them, since the
/// writer holds the write lock throughout and readers see the last commit.
///
/// Indexing: when the import adds at least as many entries as the R*Tree holds, the tree is packed anew
/// (`RTreePacker`) from the old and new entries in Hilbert order, written straight into SQLite's R*Tree shadow
/// tables; otherwise the new boxes are inserted through the virtual table, in Hilbert order.
final class BulkSpatialIndex {
    private let db: Connection
    private let table: String
    private let triggers: [String]
    private var entries: [RTreePacker.Entry] = []

    init(db: Connection, layer: Layer) throws {
        self.db = db
        self.table = layer.name
        let names = ["ggi_\(table)_geom", "tmi_\(table)_geom", "gii_\(table)_geom"]
        let s = try db.prepare("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND name = ?")
        var found: [String] = []
        for name in names {
            s.reset()
            try s.bind(.text(name), at: 1)
            guard try s.step(), let sql = s.text(1) else { throw StoreError("\(table): SpatiaLite trigger \(name) is missing") }
            found.append(sql)
        }
        triggers = found
        for name in names { try db.execute("DROP TRIGGER \"\(name)\"") }
    }

    func add(id: Int64, box: BBox) {
        entries.append(RTreePacker.Entry(id: id, box: RTreePacker.FloatBox(outwardsOf: box)))
    }

    func finish() throws {
        if !entries.isEmpty {
            let rtree = "idx_\(table)_geom"
            let existing = Int(try db.scalar("SELECT count(*) FROM \"\(rtree)_rowid\"").integer ?? 0)
            if entries.count >= existing {
                try repack(rtree)
            } else {
                let s = try db.prepare("INSERT OR REPLACE INTO \"\(rtree)\" (pkid, xmin, xmax, ymin, ymax) VALUES (?, ?, ?, ?, ?)")
                for e in RTreePacker.hilbertSorted(entries) {
                    s.reset()
                    try s.bind([.integer(e.id), .real(Double(e.box.minX)), .real(Double(e.box.maxX)), .real(Double(e.box.minY)), .real(Double(e.box.maxY))])
                    try s.step()
                }
            }
            try db.execute("""
                UPDATE geometry_columns_time SET last_insert = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
                WHERE Lower(f_table_name) = Lower('\(table)') AND Lower(f_geometry_column) = 'geom'
                """)
        }
        for sql in triggers { try db.execute(sql) }
        entries = []
    }

    /// Packs the whole tree anew into the shadow tables `<rtree>_node`, `_parent` and `_rowid`.
    private func repack(_ rtree: String) throws {
        var all = entries
        let old = try db.prepare("SELECT pkid, xmin, xmax, ymin, ymax FROM \"\(rtree)\"")
        while try old.step() {
            // Stored values are 32-bit floats already: the conversion back is exact.
            all.append(RTreePacker.Entry(id: old.int64(0), box: RTreePacker.FloatBox(
                minX: Float(old.double(1)), maxX: Float(old.double(2)), minY: Float(old.double(3)), maxY: Float(old.double(4)))))
        }
        // The node size is fixed when the R*Tree is created; the root (node 1) always exists and has it.
        let nodeSize = Int(try db.scalar("SELECT length(data) FROM \"\(rtree)_node\" WHERE nodeno = 1").integer ?? 0)
        guard nodeSize > 4 + 24 else { throw StoreError("\(rtree): unexpected R*Tree node size \(nodeSize)") }
        let tree = RTreePacker.pack(all, nodeSize: nodeSize)
        try db.execute("DELETE FROM \"\(rtree)_node\"; DELETE FROM \"\(rtree)_parent\"; DELETE FROM \"\(rtree)_rowid\"")
        let node = try db.prepare("INSERT INTO \"\(rtree)_node\" (nodeno, data) VALUES (?, ?)")
        for (i, blob) in tree.nodes.enumerated() {
            node.reset()
            try node.bind(.integer(Int64(i + 1)), at: 1)
            try node.bind(blob: blob, at: 2)
            try node.step()
        }
        let parent = try db.prepare("INSERT INTO \"\(rtree)_parent\" (nodeno, parentnode) VALUES (?, ?)")
        for (child, p) in tree.parents {
            parent.reset()
            try parent.bind([.integer(child), .integer(p)])
            try parent.step()
        }
        let rowid = try db.prepare("INSERT INTO \"\(rtree)_rowid\" (rowid, nodeno) VALUES (?, ?)")
        for (id, leaf) in tree.leafOf {
            rowid.reset()
            try rowid.bind([.integer(id), .integer(leaf)])
            try rowid.step()
        }
    }
}

/// Packs boxes into the node blobs of SQLite's R*Tree module (ext/rtree), bottom-up in Hilbert order.
///
/// The format, from SQLite's rtree.c: a node is a fixed-size blob; bytes 0–1 hold the tree's depth (read from
/// the root, node 1, only), bytes 2–3 the number of cells, big-endian; each cell is an 8-byte big-endian
/// integer (a row id in leaves, a child node number above) followed by the box as 32-bit big-endian floats in
/// column order (xmin, xmax, ymin, ymax); the rest of the blob is zero. `_parent` maps each node but the root
/// to its parent, `_rowid` each row id to its leaf.
enum RTreePacker {
    struct FloatBox {
        var minX: Float, maxX: Float, minY: Float, maxY: Float

        init(minX: Float, maxX: Float, minY: Float, maxY: Float) {
            self.minX = minX
            self.maxX = maxX
            self.minY = minY
            self.maxY = maxY
        }

        /// The smallest float box holding `b`: minima rounded down, maxima up, as SQLite's R*Tree does.
        init(outwardsOf b: BBox) {
            func down(_ v: Double) -> Float {
                let f = Float(v)
                return Double(f) > v ? f.nextDown : f
            }
            func up(_ v: Double) -> Float {
                let f = Float(v)
                return Double(f) < v ? f.nextUp : f
            }
            self.init(minX: down(b.minX), maxX: up(b.maxX), minY: down(b.minY), maxY: up(b.maxY))
        }

        func union(_ o: FloatBox) -> FloatBox {
            FloatBox(minX: min(minX, o.minX), maxX: max(maxX, o.maxX), minY: min(minY, o.minY), maxY: max(maxY, o.maxY))
        }
    }

    struct Entry {
        var id: Int64
        var box: FloatBox
    }

    struct Tree {
        /// Node blobs; node number i + 1, the root first.
        var nodes: [[UInt8]]
        var parents: [(child: Int64, parent: Int64)]
        var leafOf: [(id: Int64, leaf: Int64)]
    }

    static func hilbertSorted(_ entries: [Entry]) -> [Entry] {
        var extent = BBox.empty
        for e in entries { extent.extend(BBox(minX: Double(e.box.minX), minY: Double(e.box.minY), maxX: Double(e.box.maxX), maxY: Double(e.box.maxY))) }
        return entries.map { e in
            (Hilbert.key(Position((Double(e.box.minX) + Double(e.box.maxX)) / 2, (Double(e.box.minY) + Double(e.box.maxY)) / 2), in: extent), e)
        }.sorted { $0.0 < $1.0 }.map(\.1)
    }

    static func pack(_ entries: [Entry], nodeSize: Int) -> Tree {
        let capacity = (nodeSize - 4) / 24
        // Levels from the leaves up; each node is a list of (id or child index in the level below, box).
        var levels: [[[Entry]]] = []
        var current = hilbertSorted(entries)
        repeat {
            var nodes: [[Entry]] = []
            var i = 0
            while i < current.count {
                nodes.append(Array(current[i..<min(i + capacity, current.count)]))
                i += capacity
            }
            levels.append(nodes)
            current = nodes.enumerated().map { index, cells in
                Entry(id: Int64(index), box: cells.dropFirst().reduce(cells[0].box) { $0.union($1.box) })
            }
        } while levels.last!.count > 1

        // Number the nodes from the root down: the root is node 1.
        let depth = levels.count - 1
        var firstNumber = [Int](repeating: 0, count: levels.count)
        var next = 1
        for level in stride(from: depth, through: 0, by: -1) {
            firstNumber[level] = next
            next += levels[level].count
        }
        var tree = Tree(nodes: [], parents: [], leafOf: [])
        tree.nodes.reserveCapacity(next - 1)
        for level in stride(from: depth, through: 0, by: -1) {
            for (index, cells) in levels[level].enumerated() {
                let number = Int64(firstNumber[level] + index)
                var blob = [UInt8](repeating: 0, count: nodeSize)
                if level == depth { put16(&blob, 0, UInt16(depth)) }
                put16(&blob, 2, UInt16(cells.count))
                for (c, cell) in cells.enumerated() {
                    let ref = level == 0 ? cell.id : Int64(firstNumber[level - 1]) + cell.id
                    let at = 4 + c * 24
                    put64(&blob, at, UInt64(bitPattern: ref))
                    for (k, v) in [cell.box.minX, cell.box.maxX, cell.box.minY, cell.box.maxY].enumerated() {
                        put32(&blob, at + 8 + 4 * k, v.bitPattern)
                    }
                    if level == 0 { tree.leafOf.append((cell.id, number)) } else { tree.parents.append((ref, number)) }
                }
                tree.nodes.append(blob)
            }
        }
        return tree
    }

    private static func put16(_ b: inout [UInt8], _ at: Int, _ v: UInt16) {
        b[at] = UInt8(v >> 8)
        b[at + 1] = UInt8(v & 0xFF)
    }

    private static func put32(_ b: inout [UInt8], _ at: Int, _ v: UInt32) {
        for i in 0..<4 { b[at + i] = UInt8((v >> (24 - 8 * UInt32(i))) & 0xFF) }
    }

    private static func put64(_ b: inout [UInt8], _ at: Int, _ v: UInt64) {
        for i in 0..<8 { b[at + i] = UInt8((v >> (56 - 8 * UInt64(i))) & 0xFF) }
    }
}
