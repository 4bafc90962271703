import Foundation
import Hummingbird

/// `GET /fonts/{fontstack}/{range}.pbf`: the glyphs MapLibre draws labels with, made from a Debian font by
/// scripts/make-glyphs.py (run by the set-up) into `folder`. A font stack names fonts by preference; the first
/// present answers. A range not made (beyond 0–511) is an empty set of glyphs, as glyph servers answer.
struct GlyphsAPI {
    let folder: String

    func add(to router: Router<BasicRequestContext>) {
        router.get("fonts/:fontstack/:range") { request, context in
            // Path parameters come percent-encoded ("DejaVu%20Sans").
            let raw = context.parameters.get("fontstack") ?? "", last = context.parameters.get("range") ?? ""
            let stack = raw.removingPercentEncoding ?? raw
            let bounds = last.hasSuffix(".pbf") ? last.dropLast(4).split(separator: "-").compactMap { Int($0) } : []
            guard bounds.count == 2, bounds[0] % 256 == 0, bounds[1] == bounds[0] + 255, bounds[0] >= 0, bounds[1] <= 65_535 else {
                throw Problem(.notFound, "glyph ranges are /fonts/{fontstack}/{start}-{start+255}.pbf with start a multiple of 256")
            }
            let fonts = stack.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            // A font is a folder directly in `folder`, named plainly: no "/", no "..", so a font stack never
            // reaches another file of the machine.
            let installed = fonts.filter { font in
                var isFolder: ObjCBool = false
                return !font.isEmpty && !font.contains("/") && !font.contains("\\") && font != "." && font != ".."
                    && FileManager.default.fileExists(atPath: (folder as NSString).appendingPathComponent(font), isDirectory: &isFolder) && isFolder.boolValue
            }
            guard let font = installed.first else {
                throw Problem(.notFound, "no font of \"\(stack)\" in \(folder) (scripts/setup.sh makes DejaVu Sans and DejaVu Sans Bold)")
            }
            let path = ((folder as NSString).appendingPathComponent(font) as NSString).appendingPathComponent(last)
            let data = FileManager.default.contents(atPath: path) ?? Self.empty(font: font, range: "\(bounds[0])-\(bounds[1])")
            return Response(status: .ok, headers: [.contentType: "application/x-protobuf", .cacheControl: "public, max-age=86400"],
                body: .init(byteBuffer: ByteBuffer(bytes: data)))
        }
    }

    /// A glyphs message with one font stack of no glyphs.
    static func empty(font: String, range: String) -> Data {
        func field(_ n: UInt8, _ bytes: [UInt8]) -> [UInt8] {
            var len = bytes.count, varint: [UInt8] = []
            while len >= 0x80 {
                varint.append(UInt8(len & 0x7F) | 0x80)
                len >>= 7
            }
            varint.append(UInt8(len))
            return [n << 3 | 2] + varint + bytes
        }
        return Data(field(1, field(1, Array(font.utf8)) + field(2, Array(range.utf8))))
    }
}
