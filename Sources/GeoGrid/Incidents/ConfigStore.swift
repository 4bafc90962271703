import Foundation

extension GeoStore {
    /// The documents in force: each one the city loaded (`geogrid_config`), else GeoGrid's default.
    public func incidentConfigDocuments() throws -> [String: JSONValue] {
        var docs = try IncidentConfig.defaultDocuments()
        let stored: [(String, String)] = try read { db in
            let s = try db.prepare("SELECT name, value FROM geogrid_config")
            var out: [(String, String)] = []
            while try s.step() { out.append((s.text(0) ?? "", s.text(1) ?? "")) }
            return out
        }
        for (name, text) in stored where IncidentConfig.parts.contains(name) {
            docs[name] = try JSONParser.parse(text)
        }
        return docs
    }

    /// When a city last loaded configuration documents; nil while the defaults are in force.
    public func incidentConfigUpdated() throws -> String? {
        try read { try $0.scalar("SELECT max(updated) FROM geogrid_config").text }
    }

    /// The incident configuration in force, read once and kept until a load changes it.
    public func incidentConfig() throws -> IncidentConfig {
        if let c = incidentConfigCache.withLock({ $0 }) { return c }
        let docs = try incidentConfigDocuments()
        do {
            let c = try IncidentConfig.parse(docs)
            incidentConfigCache.withLock { $0 = c }
            return c
        } catch { throw StoreError("the store's incident configuration: \(error)") }
    }

    /// Replaces configuration documents (categories, channels, departments, routing, workflow, deadlines,
    /// calendar): checked together with those they refer to, then stored in one transaction.
    public func loadIncidentConfig(_ documents: [String: JSONValue]) throws {
        for name in documents.keys where !IncidentConfig.parts.contains(name) {
            throw StoreError("no configuration part '\(name)' (parts: \(IncidentConfig.parts.joined(separator: ", ")))")
        }
        var merged = try incidentConfigDocuments()
        for (k, v) in documents { merged[k] = v }
        do { _ = try IncidentConfig.parse(merged) } catch { throw StoreError("\(error)") }
        let now = Timestamp.now.text
        try write { db in
            let s = try db.prepare("INSERT OR REPLACE INTO geogrid_config (name, value, updated) VALUES (?, ?, ?)")
            for (name, value) in documents.sorted(by: { $0.key < $1.key }) {
                var out: [UInt8] = []
                GeoJSONWriter.value(value, into: &out)
                s.reset()
                try s.bind([.text(name), .text(String(decoding: out, as: UTF8.self)), .text(now)])
                try s.step()
            }
        }
        incidentConfigCache.withLock { $0 = nil }
    }
}
