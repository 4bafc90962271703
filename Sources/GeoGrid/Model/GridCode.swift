/// A unit-grid code as practised in Chinese grid management: 6 digits of district (the GB/T 2260
/// administrative division code), 3 of street (乡镇/街道), 3 of community (社区/村), then the grid's
/// sequence number: 3 digits in the 15-digit form of DB11/T 2157-2023, 2 in the older 14-digit form.
public struct GridCode: Hashable, Sendable, CustomStringConvertible {
    public let rawValue: String

    public init?(_ text: String) {
        let bytes = Array(text.utf8)
        guard bytes.count == 15 || bytes.count == 14, bytes.allSatisfy({ $0 >= 48 && $0 <= 57 }) else { return nil }
        // The leading district code is a GB/T 2260 code: provinces start at 11, nothing starts with 0.
        guard bytes[0] != 48 else { return nil }
        // Sequence numbers start at 1.
        guard bytes[12...].contains(where: { $0 != 48 }) else { return nil }
        rawValue = text
    }

    public var description: String { rawValue }
    public var isLegacy: Bool { rawValue.utf8.count == 14 }
    public var district: String { String(rawValue.prefix(6)) }
    public var street: String { String(rawValue.prefix(9)) }
    public var community: String { String(rawValue.prefix(12)) }
    public var sequence: Int { Int(rawValue.dropFirst(12))! }

    /// Why `text` is not a grid code, for error messages.
    public static func problem(with text: String) -> String {
        let n = text.count
        if !text.allSatisfy(\.isASCII) || !text.allSatisfy(\.isNumber) { return "grid code '\(text)' must be digits only" }
        if n != 15 && n != 14 { return "grid code '\(text)' has \(n) digits; expected 15 (6 district + 3 street + 3 community + 3 sequence) or the older 14" }
        if text.hasPrefix("0") { return "grid code '\(text)' starts with 0; the first 6 digits are a district code" }
        return "grid code '\(text)' has sequence number 0; sequences start at 1"
    }
}

/// The code of an area above the grids: a district (6 digits), a street (9) or a community (12).
public enum AreaLevel: String, Sendable, CaseIterable {
    case district, street, community

    public var codeLength: Int {
        switch self {
        case .district: 6
        case .street: 9
        case .community: 12
        }
    }

    public var parent: AreaLevel? {
        switch self {
        case .district: nil
        case .street: .district
        case .community: .street
        }
    }
}
