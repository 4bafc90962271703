import Foundation
@testable import GeoGrid
import Synchronization
import TestSupport
import Testing

/// Edits from many threads at once share commits: each answer is its own, a refused edit leaves no trace, and
/// every accepted edit is in the store and the audit exactly once.
@Suite struct GroupCommitTests {
    @Test func concurrentEditsEachLandOnceOrNotAtAll() throws {
        let (store, dir) = try makeStore()
        _ = dir
        let (token, _) = try store.createToken(role: .admin)
        let results = Mutex<[Int: Result<Int64, EditError>]>([:])
        let failures = Mutex<[String]>([])
        let n = 400
        DispatchQueue.concurrentPerform(iterations: 16) { worker in
            for i in stride(from: worker, to: n, by: 16) {
                // Every fifth is refused by the layer's rules (a negative floor count).
                let floors = i % 5 == 0 ? -1 : i % 12
                let x = Double(i % 20) * 0.001, y = Double(i / 20) * 0.001
                let f = Feature(geometry: .polygon([[Position(x, y), Position(x + 0.0005, y), Position(x + 0.0005, y + 0.0005), Position(x, y + 0.0005), Position(x, y)]]),
                    properties: [("name", .string("b\(i)")), ("floors", .number(Double(floors)))])
                let r: Result<Int64, EditError>
                do {
                    r = .success(try store.edit(.buildings, [.create(f)], by: token)[0].id)
                } catch let e as EditError {
                    r = .failure(e)
                } catch {
                    failures.withLock { $0.append("\(i): \(error)") }
                    continue
                }
                results.withLock { $0[i] = r }
            }
        }
        let all = results.withLock { $0 }
        #expect(failures.withLock { $0 }.isEmpty)
        #expect(all.count == n)
        var accepted: [Int64: Int] = [:]
        for (i, r) in all {
            switch r {
            case .success(let id):
                #expect(i % 5 != 0, "edit \(i) should have been refused")
                accepted[id] = i
            case .failure(let e):
                #expect(i % 5 == 0 && e.kind == .invalid && e.message.contains("floors"), "edit \(i): \(e)")
            }
        }
        #expect(accepted.count == n - n / 5, "every accepted edit has an id of its own")
        // The store, read by SQL: exactly the accepted features, each under the id its caller was given.
        let rows: [Int64: String] = try store.read { db in
            let s = try db.prepare("SELECT id, name FROM buildings")
            var out: [Int64: String] = [:]
            while try s.step() { out[s.int64(0)] = s.text(1) }
            return out
        }
        #expect(rows.count == accepted.count)
        for (id, i) in accepted { #expect(rows[id] == "b\(i)") }
        let audited = try store.read { try $0.scalar("SELECT count(*) FROM geogrid_audit").integer }
        #expect(audited == Int64(accepted.count))
        // And the in-memory index followed every commit.
        #expect(try store.shapeIndex(.buildings).count == accepted.count)
    }

    /// The WAL is copied back into the file by the store's checkpoint thread, not inside a writer's COMMIT:
    /// after a write of more than 1,000 pages the thread has run, and the file alone (without its log, read
    /// by a fresh connection) holds the rows.
    @Test func theLogIsCheckpointedByItsOwnThread() throws {
        let (store, dir) = try makeStore()
        let (token, _) = try store.createToken(role: .admin)
        let before = store.checkpointer.runs
        let features = (0..<3_000).map { i in
            let x = Double(i % 60) * 0.001, y = Double(i / 60) * 0.001
            return Feature(geometry: .polygon([[Position(x, y), Position(x + 0.0005, y), Position(x + 0.0005, y + 0.0005), Position(x, y + 0.0005), Position(x, y)]]),
                properties: [("name", .string("checkpointed \(i) " + String(repeating: "x", count: 2_000)))])
        }
        _ = try store.edit(.buildings, features.map { .create($0) }, by: token)
        let deadline = Date().addingTimeInterval(20)
        while store.checkpointer.runs == before && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        #expect(store.checkpointer.runs > before, "the checkpoint thread ran")
        let copy = dir.path("file-only.sqlite")
        try FileManager.default.copyItem(atPath: store.path, toPath: copy)
        let alone = try Connection(path: copy)
        #expect(try alone.scalar("SELECT count(*) FROM buildings WHERE name LIKE 'checkpointed %'").integer == 3_000)
    }

    /// A store closed has its WAL folded into the file even when its checkpoint thread had a connection open
    /// (SQLite folds it when the last connection closes): the file copied alone holds every row.
    @Test func aClosedStoresFileHoldsEverything() throws {
        let dir = TemporaryDirectory()
        let path: String
        do {
            let (store, _) = try makeStore(dir)
            path = store.path
            let (token, _) = try store.createToken(role: .admin)
            func buildings(_ n: Int, _ tag: String) -> [EditRequest] {
                (0..<n).map { i in
                    let x = Double(i % 60) * 0.001, y = Double(i / 60) * 0.001
                    return .create(Feature(geometry: .polygon([[Position(x, y), Position(x + 0.0005, y), Position(x + 0.0005, y + 0.0005), Position(x, y + 0.0005), Position(x, y)]]),
                        properties: [("name", .string("\(tag) \(i) " + String(repeating: "x", count: 2_000)))]))
                }
            }
            let before = store.checkpointer.runs
            _ = try store.edit(.buildings, buildings(3_000, "first"), by: token)
            let deadline = Date().addingTimeInterval(20)
            while store.checkpointer.runs == before && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
            #expect(store.checkpointer.runs > before)
            // Written after that checkpoint: in the WAL only, until the store closes.
            _ = try store.edit(.buildings, buildings(50, "last"), by: token)
        }
        let copy = dir.path("closed-copy.sqlite")
        try FileManager.default.copyItem(atPath: path, toPath: copy)
        let alone = try Connection(path: copy)
        #expect(try alone.scalar("SELECT count(*) FROM buildings WHERE name LIKE 'first %'").integer == 3_000)
        #expect(try alone.scalar("SELECT count(*) FROM buildings WHERE name LIKE 'last %'").integer == 50)
    }
}
