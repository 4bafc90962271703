/// Lower-case hexadecimal text of bytes (digests in tokens' hashes and ETags), without Foundation's
/// `String(format:)`, which costs more than the SHA-256 it prints.
enum Hex {
    private static let digits = Array("0123456789abcdef".utf8)

    static func string<S: Sequence<UInt8>>(_ bytes: S) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.underestimatedCount * 2)
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
