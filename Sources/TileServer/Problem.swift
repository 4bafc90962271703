import Foundation
import GeoGrid
import Hummingbird

/// An HTTP error as RFC 9457 problem details (`application/problem+json`): what went wrong, in one sentence a
/// client can show, with the status and the request's path.
public struct Problem: Error, HTTPResponseError, Sendable {
    public var status: HTTPResponse.Status
    public var detail: String
    /// A short, fixed summary of the problem type (the status's reason unless given).
    public var title: String?
    /// Headers the answer carries (WWW-Authenticate with a 401, Allow with a 405).
    public var headers: HTTPFields = [:]
    /// Extension members (RFC 9457 §3.2): a refused transition's `stage` and `allowed`.
    public var members: [(String, JSONValue)] = []

    public init(_ status: HTTPResponse.Status, _ detail: String, title: String? = nil) {
        self.status = status
        self.detail = detail
        self.title = title
    }

    public static func badRequest(_ detail: String) -> Problem { Problem(.badRequest, detail) }

    /// The request's `If-Match`, refused when it is there but empty: RFC 9110 §13.1.1 makes it `*` or a list of
    /// entity tags, and an empty one is a client's mistake (400), not an ETag that no longer matches (412).
    static func ifMatch(_ request: Request) throws -> String? {
        guard let value = request.headers[.ifMatch] else { return nil }
        guard !value.trimmingCharacters(in: .whitespaces).isEmpty else { throw badRequest("If-Match is empty: send the ETag last read, or *") }
        return value
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var response = Self.response(status: status, title: title ?? status.reasonPhrase, detail: detail, instance: request.uri.path, members: members)
        for field in headers { response.headers.append(field) }
        return response
    }

    static func response(status: HTTPResponse.Status, title: String, detail: String, instance: String, members: [(String, JSONValue)] = []) -> Response {
        let body = JSONValue.object([
            ("type", .string("about:blank")), ("title", .string(title)), ("status", .number(Double(status.code))),
            ("detail", .string(detail)), ("instance", .string(instance)),
        ] + members)
        var bytes: [UInt8] = []
        GeoJSONWriter.value(body, into: &bytes)
        return Response(status: status, headers: [.contentType: "application/problem+json"], body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}

extension HTTPResponse.Status {
    /// RFC 4918 §11.5, which HTTPTypes does not name.
    static let insufficientStorage = HTTPResponse.Status(code: 507, reasonPhrase: "Insufficient Storage")
}

extension Problem {
    /// The store's refusals of a write as problems: 401, 403, 404, 409 (with the stage and what it allows),
    /// 412, 422.
    static func from(_ e: EditError) -> Problem {
        switch e.kind {
        case .unauthenticated: return Auth.unauthorized(e.message)
        case .forbidden: return Problem(.forbidden, e.message)
        case .notFound: return Problem(.notFound, e.message)
        case .preconditionFailed: return Problem(.preconditionFailed, e.message)
        case .invalid: return Problem(.unprocessableContent, e.message)
        case .conflict:
            var p = Problem(.conflict, e.message)
            if let stage = e.stage { p.members.append(("stage", .string(stage))) }
            if let allowed = e.allowed { p.members.append(("allowed", .array(allowed.map(JSONValue.string)))) }
            return p
        }
    }

    /// A write the disk could not take: 507 when it is full, 503 for another I/O error. Either way the
    /// transaction was rolled back, so nothing of the request was written and it can be sent again.
    static func storage(_ error: SQLiteError) -> Problem {
        error.isDiskFull
            ? Problem(.insufficientStorage, "the disk of the store is full: nothing of this request was written; send it again once space is freed")
            : Problem(.serviceUnavailable, "the store could not write to its disk (an I/O error): nothing of this request was written; send it again later")
    }

    /// Runs a write, turning the store's refusals into problems.
    static func editing<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch let e as EditError { throw from(e) }
    }
}

/// Turns every error a handler throws into problem details: ours as they are, Hummingbird's own (an unknown
/// route, a bad method) with their status, anything else as a 500 whose cause is logged, not shown.
struct ProblemMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let problem as Problem {
            return try problem.response(from: request, context: context)
        } catch let error as ParameterError {
            return try Problem.badRequest(error.description).response(from: request, context: context)
        } catch let error as HTTPError {
            let detail = error.body ?? (error.status == .notFound ? "no such resource: \(request.uri.path)" : error.status.reasonPhrase)
            var response = Problem.response(status: error.status, title: error.status.reasonPhrase, detail: detail, instance: request.uri.path)
            for field in error.headers { response.headers.append(field) }
            return response
        } catch let error as SQLiteError where error.isDiskFull || error.isIOError {
            context.logger.error("the store could not write", metadata: ["path": .string(request.uri.path), "error": .string("\(error)")])
            return try Problem.storage(error).response(from: request, context: context)
        } catch let error as any HTTPResponseError {
            return Problem.response(status: error.status, title: error.status.reasonPhrase, detail: "\(error)", instance: request.uri.path)
        } catch {
            context.logger.error("request failed", metadata: ["path": .string(request.uri.path), "error": .string("\(error)")])
            return Problem.response(status: .internalServerError, title: "Internal Server Error",
                detail: "the server could not answer; the cause is in its log", instance: request.uri.path)
        }
    }
}
