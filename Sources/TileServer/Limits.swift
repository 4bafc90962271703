import Foundation
import GeoGrid
import HTTPTypes
import Hummingbird
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import Synchronization

/// What one client may take of the server: the size of a body, the pace of a token's requests, and how long a
/// connection may sit idle or take to send its request. The defaults are safe for a city's service on the
/// open network; `geo-cli serve` takes each as an option (README, "Limits").
public struct ServerLimits: Sendable {
    /// The largest request body taken, in bytes (a FeatureCollection of edits, a plan's proposal, a case):
    /// more is a 413 before it is parsed.
    public var maxBodyBytes = 32 << 20
    /// Requests per second each token may make, sustained; 0 for no limit. A token may go `burst` requests
    /// ahead of that pace (a map loading its tiles at once), then gets 429 with `Retry-After`.
    public var requestsPerSecond: Double = 100
    /// How far ahead of its pace a token may go; 0 for twice the rate.
    public var burst = 0
    /// Seconds a connection may wait for its next request (and for that request's head to arrive whole)
    /// before it is closed; 0 for no limit. A response being written (a stream of events) is never cut.
    public var idleTimeout: Double = 60
    /// Seconds a request's body may take to arrive after its head; then the request gets 408 and its
    /// connection is closed. 0 for no limit.
    public var requestTimeout: Double = 60

    public init() {}

    var effectiveBurst: Double { burst > 0 ? Double(burst) : max(1, requestsPerSecond * 2) }
}

extension Request {
    /// The whole body, refused with 413 beyond `limit` bytes: at once when Content-Length says so, else as soon
    /// as that many have arrived. A body that ends early (the client went away) is a 400; nothing is written
    /// from a body that was not read whole.
    func body(upTo limit: Int) async throws -> [UInt8] {
        let tooLarge = Problem(.contentTooLarge, "the body is larger than this server takes (\(Self.size(limit)))")
        if let length = headers[.contentLength].flatMap({ Int($0) }), length > limit { throw tooLarge }
        var request = self
        do {
            return Array(try await request.collectBody(upTo: limit).readableBytesView)
        } catch is NIOTooManyBytesError {
            throw tooLarge
        } catch {
            // The parser's own description can quote the bytes it refused: a sentence is enough.
            let cause = "\(error)"
            throw Problem.badRequest("the body could not be read whole (\(cause.count > 120 ? cause.prefix(120) + "…" : cause))")
        }
    }

    static func size(_ bytes: Int) -> String {
        bytes >= 1 << 20 && bytes % (1 << 20) == 0 ? "\(bytes >> 20) MiB" : bytes >= 1 << 10 && bytes % (1 << 10) == 0 ? "\(bytes >> 10) KiB" : "\(bytes) bytes"
    }
}

/// Requests per token as token buckets: each token's bucket holds up to `burst` requests and refills at
/// `rate` per second; a request finding it empty gets 429 with `Retry-After` (whole seconds until there is
/// room again). Buckets are keyed by the secret's SHA-256 (the secret itself is never kept), only for
/// secrets of a token's shape; anonymous requests are not counted. Full buckets are forgotten, so made-up
/// tokens cannot grow the table.
final class RateLimiter: Sendable {
    struct Bucket {
        var level: Double
        var at: Double
    }

    let rate: Double
    let burst: Double
    private let buckets = Mutex<[String: Bucket]>([:])

    init(rate: Double, burst: Double) {
        self.rate = rate
        self.burst = burst
    }

    /// nil when the request may go ahead; else the seconds to wait.
    func take(_ key: String, now: Double = ProcessInfo.processInfo.systemUptime) -> Int? {
        buckets.withLock { table in
            var bucket = table[key] ?? Bucket(level: burst, at: now)
            bucket.level = min(burst, bucket.level + (now - bucket.at) * rate)
            bucket.at = now
            if table.count > 4096 {
                // Forget the buckets that have filled again: their next request would find them full anyway.
                table = table.filter { min(burst, $0.value.level + (now - $0.value.at) * rate) < burst }
            }
            guard bucket.level >= 1 else {
                table[key] = bucket
                return max(1, Int(((1 - bucket.level) / rate).rounded(.up)))
            }
            bucket.level -= 1
            table[key] = bucket
            return nil
        }
    }

    var count: Int { buckets.withLock { $0.count } }
}

struct RateLimitMiddleware<Context: RequestContext>: RouterMiddleware {
    let limiter: RateLimiter

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let header = request.headers[.authorization], let secret = Self.secret(header) else { return try await next(request, context) }
        if let wait = limiter.take(GeoStore.tokenHash(secret)) {
            var problem = Problem(.tooManyRequests,
                "this token has made more than \(Self.number(limiter.rate)) requests a second (\(Self.number(limiter.burst)) at once); try again in \(wait) s")
            problem.headers = [.retryAfter: String(wait)]
            throw problem
        }
        return try await next(request, context)
    }

    /// The secret of a `Bearer` header when it has a token's shape.
    static func secret(_ header: String) -> String? {
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        let secret = parts[1].trimmingCharacters(in: .whitespaces)
        return secret.hasPrefix("gg_") && secret.utf8.count < 200 ? secret : nil
    }

    static func number(_ x: Double) -> String { x == x.rounded() ? String(Int(x)) : String(x) }
}

/// Guards each connection below the router. A request whose body is still arriving `timeout` after its head (a
/// client sending a byte now and then holds a connection and a task for as long as it likes otherwise) is
/// answered 408 and its connection closed. A request the HTTP parser refuses (a request line and headers
/// beyond its 80 KiB, say a query string of megabytes, or bytes that are not HTTP) is answered with a problem
/// saying so, 431 or 400, instead of an empty 400. Hummingbird's idle timeout covers the rest (a head that never
/// completes, a connection left open between requests).
final class ConnectionGuard: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    let timeout: TimeAmount
    private var deadline: Scheduled<Void>?
    /// Whether an answer is being written (then a 408 or a parser's refusal cannot be sent in its place).
    private var answering = false
    private var closing = false
    /// Requests read whose answer is not written whole yet, and the refusal that waits for them (a pipelined
    /// request the parser refused after ones it took: those are answered first).
    private var inFlight = 0
    /// A request's head was read and its end not yet: a parser error now is that body's, and its handler answers it.
    private var readingBody = false
    private var closeAfterAnswer = false
    private var pending: (HTTPResponse.Status, String)?

    /// `seconds` 0: no deadline for bodies.
    init(seconds: Double) {
        timeout = .nanoseconds(Int64(seconds * 1e9))
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !closing else { return }
        switch unwrapInboundIn(data) {
        case .head:
            inFlight += 1
            readingBody = true
            deadline?.cancel()
            guard timeout.nanoseconds > 0 else { break }
            let loop = context.eventLoop.assumeIsolatedUnsafeUnchecked()
            deadline = loop.scheduleTask(in: timeout) { [weak self] in self?.expire(context) }
        case .body:
            break
        case .end:
            readingBody = false
            deadline?.cancel()
            deadline = nil
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if closing {
            // The handler's own answer comes after the 408; the connection is closing.
            promise?.fail(ChannelError.ioOnClosedChannel)
            return
        }
        switch unwrapOutboundIn(data) {
        case .head: answering = true
        case .end:
            answering = false
            inFlight -= 1
            context.write(data, promise: promise)
            if closeAfterAnswer {
                closing = true
                context.flush()
                context.close(promise: nil)
                return
            }
            if inFlight <= 0, let (status, detail) = pending {
                pending = nil
                refuse(context, status, detail)
            }
            return
        case .body: break
        }
        context.write(data, promise: promise)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        deadline?.cancel()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard let parse = error as? HTTPParserError, !closing, pending == nil else { return context.fireErrorCaught(error) }
        if readingBody {
            // The body's reader fails with it and its handler answers (400); nothing may follow that answer.
            closeAfterAnswer = true
            return context.fireErrorCaught(error)
        }
        deadline?.cancel()
        let refusal: (HTTPResponse.Status, String) = parse == .headerOverflow
            ? (.requestHeaderFieldsTooLarge,
                "the request line and headers are larger than this server reads (80 KiB): send a long query (a CQL2 filter) in fewer characters, or as several requests")
            : (.badRequest, "the request is not HTTP/1.1 this server can read (\(parse))")
        if inFlight > 0 {
            // Nothing more is read from this connection; the refusal follows the answers owed.
            pending = refusal
            context.channel.setOption(ChannelOptions.autoRead, value: false).whenComplete { _ in }
        } else {
            refuse(context, refusal.0, refusal.1)
        }
    }

    private func expire(_ context: ChannelHandlerContext) {
        deadline = nil
        guard context.channel.isActive else { return }
        if !answering {
            let seconds = RateLimitMiddleware<BasicRequestContext>.number(Double(timeout.nanoseconds) / 1e9)
            refuse(context, .requestTimeout, "the request's body did not arrive within \(seconds) s of its head")
        } else {
            closing = true
            context.close(promise: nil)
        }
    }

    /// Answers with a problem (the path is not known here) and closes the connection.
    private func refuse(_ context: ChannelHandlerContext, _ status: HTTPResponse.Status, _ detail: String) {
        closing = true
        var body: [UInt8] = []
        GeoJSONWriter.value(.object([
            ("type", .string("about:blank")), ("title", .string(status.reasonPhrase)), ("status", .number(Double(status.code))), ("detail", .string(detail)),
        ]), into: &body)
        var head = HTTPResponse(status: status)
        head.headerFields = [.contentType: "application/problem+json", .contentLength: String(body.count), .connection: "close"]
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(ByteBuffer(bytes: body))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        context.close(promise: nil)
    }
}
