import Foundation

public struct IncidentImportOptions: Sendable {
    public var format: SourceFormat
    /// Report member ← source column (`category=type`, `reported_at=call_time`).
    public var mapping: [String: String] = [:]
    public var skipInvalid = false
    public var csv = CSVOptions()
    /// The channel of rows that name none.
    public var channel = "hotline"
    /// The zone of times without an offset, when not the calendar's (the store's).
    public var timeZone: TimeZone?
    public init(format: SourceFormat) { self.format = format }
}

public struct IncidentImportReport: Sendable {
    public var imported = 0
    public var rejected: [RejectedFeature] = []
    /// Cases outside every area (owner `outside`), taken and listed for the centre to assign.
    public var outside: [String] = []
    public var lights: [String: Int] = [:]
}

extension IncidentDesk {
    /// The members an imported row may give besides a report's: its stage and the times it reached stages.
    static let importMembers: Set<String> = Set(["stage"] + Layer.incidents.fields.filter { $0.type == .timestamp && $0.name.hasSuffix("_at") }.map(\.name))

    /// Imports past cases (a call log, a year of cases) in one transaction: each row is checked like a report,
    /// placed in its grid, routed, numbered in the year it was reported, given its stage and stage times when
    /// the file has them (`stage`, `registered_at`, `dispatched_at`, … read in the calendar's zone when they
    /// have no offset), a history from those times, and its light at this moment from its current stage's limits.
    /// A row without a usable position or category aborts the import, or with `skipInvalid` is left out and
    /// reported with its line. Situation packages are made on request (`recomputeSituation`), not here, and
    /// imports raise no live events (they are history, not news); the import is one audit row.
    public func importCases(from input: InputBytes, options: IncidentImportOptions, by token: Token,
        progress: (@Sendable (_ done: Int, _ total: Int) -> Void)? = nil
    ) throws -> IncidentImportReport {
        guard token.role == .admin || token.role == .dispatcher, token.scopes.isEmpty else {
            throw EditError(kind: .forbidden, message: "importing cases needs a dispatcher or admin token without a scope")
        }
        let config = try store.incidentConfig()
        let now = clock()
        let locator = try store.locator()
        var parsing = config.calendar
        if let zone = options.timeZone { parsing.timeZone = zone }
        // Source column → member: the mapping inverted, and `time` for reported_at.
        var rename: [String: String] = ["time": "reported_at"]
        for (member, source) in options.mapping { rename[source] = member }
        let total = input.data.count
        // Two stages on two threads, as the feature import: this one reads, checks, places and routes the rows in
        // batches; the writer's thread numbers and writes them as they come. Rows keep their order.
        let channel = Channel<[(CaseRow, [(String, Timestamp)])]>(capacity: 8)
        let rejected = RejectedRows()
        let names = rename, calendarForTimes = parsing
        let producer = Thread {
            var batch: [(CaseRow, [(String, Timestamp)])] = []
            do {
                try self.readCases(input, names, calendarForTimes, options, config, now, locator, rejected, total, progress) { c in
                    batch.append(c)
                    if batch.count == 2000 {
                        guard channel.send(batch) else { throw CancellationError() }
                        batch = []
                    }
                }
                if !batch.isEmpty { _ = channel.send(batch) }
                channel.finish(nil)
            } catch {
                channel.finish(error)
            }
        }
        producer.start()
        var report = IncidentImportReport()
        let calendar = config.calendar
        do {
            try store.write { db in try self.writeCases(db, channel, &report, calendar, config, now, token, input.name, rejected) }
        } catch {
            channel.cancel()
            channel.waitUntilFinished()
            throw error
        }
        report.rejected = rejected.list
        return report
    }

    /// The rows that were left out, gathered by the reading thread and read after it finished.
    final class RejectedRows: @unchecked Sendable {
        var list: [RejectedFeature] = []
    }

    /// The reading stage: each record checked like a report, placed, routed and given its stage and history times.
    func readCases(_ input: InputBytes, _ rename: [String: String], _ parsing: WorkCalendar, _ options: IncidentImportOptions,
        _ config: IncidentConfig, _ now: Timestamp, _ locator: Locator, _ rejected: RejectedRows, _ total: Int,
        _ progress: (@Sendable (_ done: Int, _ total: Int) -> Void)?, _ emit: ((CaseRow, [(String, Timestamp)])) throws -> Void
    ) throws {
        var reader = FeatureReader(format: options.format)
        reader.csvOptions = options.csv
        try reader.read(input) { record in
            func reject(_ reason: String) throws {
                guard options.skipInvalid else { throw ImportError(description: "\(record.label): \(reason)") }
                let source = String(decoding: input.data[record.source], as: UTF8.self)
                rejected.list.append(RejectedFeature(index: record.index, line: record.line, reason: reason, source: source))
            }
            let feature: Feature
            switch record.result {
            case .failure(let p): return try reject(p.reason)
            case .success(let f): feature = f
            }
            guard case .point(let p) = feature.geometry else { return try reject("a case is a point, not \(feature.geometry.kind.rawValue)") }
            let properties = feature.properties.map { (rename[$0.0] ?? $0.0, $0.1) }
            do {
                var r = try IncidentReport.parse(properties.filter { !Self.importMembers.contains($0.0) || $0.0 == "reported_at" }, at: p, calendar: parsing)
                r.channel = r.channel ?? options.channel
                var c = try prepare(r, config: config, now: now, locator: locator)
                c.set("channel", r.channel)
                guard config.channel(r.channel!) != nil else { throw FeatureProblem("channel '\(r.channel!)' is not in the catalogue") }
                // The stage and the times it was reached, when the row has them.
                var times: [(String, Timestamp)] = []
                for (k, v) in properties where k.hasSuffix("_at") && k != "reported_at" && Self.importMembers.contains(k) {
                    guard v != .null, !(v.stringValue?.isEmpty ?? false) else { continue }
                    guard let text = v.stringValue, let t = parsing.parse(text) else { throw FeatureProblem("\(k) must be an ISO 8601 time") }
                    guard t >= c.time("reported_at")!, t.seconds <= now.seconds + 300 else { throw FeatureProblem("\(k) \(text) is before the report or in the future") }
                    times.append((k, t))
                }
                times.sort { $0.1 < $1.1 }
                if let stageValue = properties.first(where: { $0.0 == "stage" })?.1.stringValue, !stageValue.isEmpty {
                    guard let stage = config.workflow.stage(stageValue) else {
                        throw FeatureProblem("stage '\(stageValue)' is not a stage of the workflow (\(config.workflow.stages.map(\.code).joined(separator: ", ")))")
                    }
                    // Whether the case went red on its way: each stage it passed, against that stage's limit from
                    // when it was reached, as the file's times tell.
                    c.set("overdue", false)
                    var at = c.time("reported_at")!
                    for (field, t) in times {
                        guard let next = config.workflow.stages.first(where: { $0.timestamp == field }) else { continue }
                        setDeadlines(&c, config: config, since: at, now: at)
                        if let red = c.time("red_at"), t >= red { c.set("overdue", true) }
                        c.set("stage", next.code)
                        c.set("open", next.open)
                        at = t
                    }
                    let late = c["overdue"]
                    c.set("stage", stage.code)
                    c.set("open", stage.open)
                    let since = stage.timestamp.flatMap { f in times.first { $0.0 == f }?.1 } ?? times.last?.1 ?? c.time("reported_at")!
                    c.set("stage_since", since)
                    for (k, t) in times { c.set(k, t) }
                    setDeadlines(&c, config: config, since: since, now: now)
                    if late == .integer(1) { c.set("overdue", true) }
                } else if !times.isEmpty {
                    throw FeatureProblem("stage times (\(times.map(\.0).joined(separator: ", "))) need the stage the case is at")
                }
                try emit((c, times))
            } catch let e as FeatureProblem {
                try reject(e.reason)
            } catch let e as EditError {
                try reject(e.message)
            }
            if let progress, record.index % 1000 == 0 { progress(record.offset, total) }
        }
        progress?(total, total)
    }

    /// The writing stage, in the writer's transaction: numbers, rows and histories as the batches arrive, then the
    /// year counters and one audit row.
    func writeCases(_ db: Connection, _ channel: Channel<[(CaseRow, [(String, Timestamp)])]>, _ report: inout IncidentImportReport, _ calendar: WorkCalendar,
        _ config: IncidentConfig, _ now: Timestamp, _ token: Token, _ name: String, _ rejected: RejectedRows
    ) throws {
        do {
            // A page cache that holds the whole import, so that no page is written to the log twice (spilled mid-way,
            // then again at commit); back to SQLite's default after it.
            try db.execute("PRAGMA cache_size = -262144")
            defer { try? db.execute("PRAGMA cache_size = -2000") }
            // Case numbers per year, from where the store's counters stand.
            var last: [Int: Int64] = [:]
            let counters = try db.prepare("SELECT year, last FROM geogrid_case_numbers")
            while try counters.step() { last[Int(counters.int64(0))] = counters.int64(1) }
            let insert = try db.prepare(Importer.insertSQL(Self.layer))
            // SpatiaLite's per-row R*Tree triggers set aside for the import, the boxes indexed in bulk at its end.
            let spatial = try BulkSpatialIndex(db: db, layer: Self.layer)
            let history = try db.prepare("""
                INSERT INTO geogrid_incident_history (incident_id, time, token_id, token_name, action, from_stage, to_stage, department, note, late)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'imported', 0)
                """)
            let tokenID: FieldValue = token.id > 0 ? .integer(token.id) : .null
            let tokenName: FieldValue = token.name.map(FieldValue.text) ?? .null
            while let batch = try channel.receive() { for (var c, times) in batch {
                let reported = c.time("reported_at")!
                let year = Int(WorkCalendar.date(calendar.local(reported).day).prefix(4))!
                let n = (last[year] ?? 0) + 1
                last[year] = n
                let digits = String(n)
                c.set("case_number", "\(year)-" + String(repeating: "0", count: max(0, 6 - digits.count)) + digits)
                insert.reset()
                let row = c.row
                try Importer.bind(row, SpatiaLiteBlob.encode(row.geometry), to: insert)
                do { try insert.step() } catch let e as SQLiteError where e.isConstraint { throw StoreError(Importer.explain(e)) }
                let id = db.lastInsertRowID
                spatial.add(id: id, box: BBox(minX: c.position.lon, minY: c.position.lat, maxX: c.position.lon, maxY: c.position.lat))
                // The history the file tells: reported, then each stage reached (the stage a time belongs to).
                var steps: [(Timestamp, String?, String)] = [(reported, nil, config.workflow.initial)]
                var at = config.workflow.initial
                for (field, t) in times {
                    guard let stage = config.workflow.stages.first(where: { $0.timestamp == field }) else { continue }
                    steps.append((t, at, stage.code))
                    at = stage.code
                }
                if at != c.stage { steps.append((c.time("stage_since") ?? reported, at, c.stage)) }
                for (t, from, to) in steps {
                    history.reset()
                    try history.bind([.integer(id), .text(t.text), tokenID, tokenName, .text(from == nil ? "report" : to), from.map(FieldValue.text) ?? .null,
                        .text(to), c["department"]])
                    try history.step()
                }
                report.imported += 1
                if c.text("owner") == "outside" { report.outside.append(c.caseNumber) }
                if let light = c.light(at: now) { report.lights[light, default: 0] += 1 }
            } }
            channel.waitUntilFinished()
            try spatial.finish()
            let save = try db.prepare("INSERT OR REPLACE INTO geogrid_case_numbers (year, last) VALUES (?, ?)")
            for (year, n) in last {
                save.reset()
                try save.bind([.integer(Int64(year)), .integer(n)])
                try save.step()
            }
            let audit = try db.prepare("INSERT INTO geogrid_audit (time, token_id, token_name, collection, feature_id, operation, before, after) VALUES (?, ?, ?, 'incidents', NULL, 'import', NULL, ?)")
            var out: [UInt8] = []
            GeoJSONWriter.value(.object([("file", .string(name)), ("imported", .number(Double(report.imported))), ("rejected", .number(Double(rejected.list.count)))]), into: &out)
            try audit.bind([.text(now.text), tokenID, tokenName, .text(String(decoding: out, as: UTF8.self))])
            try audit.step()
        }
    }
}
