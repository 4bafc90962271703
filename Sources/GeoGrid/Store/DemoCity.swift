import Foundation

/// The demo city: data/boundaries loaded into a new store, one layer file each.
public enum DemoCity {
    /// Layer files are `<folder>/<layer>.geojson`, loaded in `Layer.allCases` order.
    public static func file(for layer: Layer, in folder: String) -> String {
        (folder as NSString).appendingPathComponent("\(layer.rawValue).geojson")
    }

    /// Builds the store beside `path` and moves it into place at the end, replacing what was there:
    /// a failure leaves the old file untouched and no half-built store behind.
    public static func build(
        from folder: String, at path: String, onLayer: (Layer, ImportReport) -> Void = { _, _ in },
        progress: (@Sendable (Layer, Int, Int) -> Void)? = nil
    ) throws {
        let fm = FileManager.default
        let building = path + ".building"
        let parent = (path as NSString).deletingLastPathComponent
        if !parent.isEmpty { try fm.createDirectory(atPath: parent, withIntermediateDirectories: true) }
        func remove(_ p: String) { for suffix in ["", "-wal", "-shm"] { try? fm.removeItem(atPath: p + suffix) } }
        remove(building)
        do {
            // The store closes at the end of this scope, checkpointing its WAL into the file.
            let store = try GeoStore(path: building, create: true)
            for layer in Layer.mapLayers {
                let file = Self.file(for: layer, in: folder)
                guard fm.fileExists(atPath: file) else { throw StoreError("the demo data has no \(file)") }
                let report = try store.importFeatures(
                    from: InputBytes(path: file), options: ImportOptions(layer: layer, format: .geojson),
                    progress: progress.map { p in { @Sendable done, total in p(layer, done, total) } })
                onLayer(layer, report)
            }
        } catch {
            remove(building)
            throw error
        }
        remove(path)
        try fm.moveItem(atPath: building, toPath: path)
    }
}
