import CPROJ

public struct ProjError: Error, CustomStringConvertible, Sendable {
    public var description: String
}

/// A PROJ transformation from a source CRS to WGS84 longitude/latitude. Axis order is normalised
/// for visualisation (easting/longitude first) on both sides, so EPSG:4326 and EPSG:4490 take
/// (lon, lat) like GeoJSON. A PJ and its context belong to one thread: not Sendable.
public final class ProjTransform {
    private let context: OpaquePointer
    private let pj: OpaquePointer
    public let source: String

    public init(from source: String, to target: String = "OGC:CRS84") throws(ProjError) {
        self.source = source
        guard let ctx = proj_context_create() else { throw ProjError(description: "PROJ: cannot create a context") }
        // PROJ logs errors to stderr by default; GeoGrid reports them itself.
        proj_log_level(ctx, PJ_LOG_NONE)
        guard let raw = proj_create_crs_to_crs(ctx, source, target, nil) else {
            let message = String(cString: proj_context_errno_string(ctx, proj_context_errno(ctx)))
            proj_context_destroy(ctx)
            throw ProjError(description: "unknown CRS '\(source)': \(message)")
        }
        guard let normalised = proj_normalize_for_visualization(ctx, raw) else {
            proj_destroy(raw)
            proj_context_destroy(ctx)
            throw ProjError(description: "PROJ cannot normalise the axis order of '\(source)'")
        }
        proj_destroy(raw)
        context = ctx
        pj = normalised
    }

    deinit {
        proj_destroy(pj)
        proj_context_destroy(context)
    }

    /// Transforms one position; PROJ signals failure with HUGE_VAL and an errno.
    public func transform(_ p: Position) throws(ProjError) -> Position {
        let out = proj_trans(pj, PJ_FWD, proj_coord(p.lon, p.lat, 0, 0))
        guard out.xy.x.isFinite, out.xy.y.isFinite, out.xy.x != .greatestFiniteMagnitude else {
            let message = String(cString: proj_context_errno_string(context, proj_errno(pj)))
            proj_errno_reset(pj)
            throw ProjError(description: "cannot transform (\(p.lon), \(p.lat)) from \(source): \(message)")
        }
        return Position(out.xy.x, out.xy.y)
    }
}
