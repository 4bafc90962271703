/// GeoGrid: a grid-map store and spatial core for emergency response.
public enum GeoGridInfo {
    public static let version = "0.1.0"
}
