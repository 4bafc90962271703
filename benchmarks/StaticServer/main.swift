import Foundation
import Hummingbird

// Hummingbird's own ceiling for the HTTP benchmark (benchmarks/http.sh): one route answering the same N bytes
// with the headers a tile response carries, and nothing else.
//   bench-static-server PORT BYTES
let args = CommandLine.arguments
let port = args.count > 1 ? Int(args[1]) ?? 8099 : 8099
let size = args.count > 2 ? Int(args[2]) ?? 25_000 : 25_000
let bytes = ByteBuffer(bytes: (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31) })
let router = Router()
router.get("static") { _, _ in
    Response(status: .ok, headers: [.contentType: "application/vnd.mapbox-vector-tile", .cacheControl: "public, max-age=60", .eTag: "\"static\""],
        body: .init(byteBuffer: bytes))
}
let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)))
try await app.runService()
