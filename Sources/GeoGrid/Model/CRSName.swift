import Foundation

/// Normalises the many spellings of a CRS (`urn:ogc:def:crs:EPSG::4490`,
/// `http://www.opengis.net/def/crs/EPSG/0/4490`, `EPSG:4490`) to `AUTHORITY:CODE`.
public enum CRSName {
    public static func canonical(_ name: String) -> String {
        let s = name.trimmingCharacters(in: .whitespaces)
        let lower = s.lowercased()
        if lower == "crs84" || lower.hasSuffix(":crs84") || lower.hasSuffix("/crs84") { return "OGC:CRS84" }
        for prefix in ["urn:ogc:def:crs:", "http://www.opengis.net/def/crs/", "https://www.opengis.net/def/crs/"] where lower.hasPrefix(prefix) {
            // urn:ogc:def:crs:EPSG:<version>:4490 and …/def/crs/EPSG/0/4490
            let rest = s.dropFirst(prefix.count)
            let parts = rest.split(whereSeparator: { $0 == ":" || $0 == "/" }).map(String.init)
            if let authority = parts.first, let code = parts.last, parts.count >= 2 {
                return "\(authority.uppercased()):\(code)"
            }
        }
        if let colon = s.firstIndex(of: ":") {
            return s[..<colon].uppercased() + s[colon...]
        }
        return s
    }

    /// True for the CRSs whose GeoJSON coordinates are already what GeoGrid stores (WGS84 lon/lat).
    /// EPSG:4326 in a GeoJSON `crs` member is read lon/lat, as GDAL and every GeoJSON reader do.
    public static func isLonLatWGS84(_ name: String) -> Bool {
        let c = canonical(name)
        return c == "OGC:CRS84" || c == "EPSG:4326"
    }
}
