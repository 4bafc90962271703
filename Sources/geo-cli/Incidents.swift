import ArgumentParser
import Foundation
import GeoGrid

/// `geo-cli incident report|show|list|transition|move|overdue|stats|import|config`: the cases, on the store's
/// own file. geo-cli acts as the file's administrator (audited as `geo-cli (<user>)`), or as a token's holder
/// with `--token` (or GEOGRID_TOKEN), whose role and scope are then checked as over HTTP.
struct IncidentCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "incident", abstract: "Cases: report, list, move them through the workflow, overdue lists and statistics.",
        subcommands: [Report.self, Show.self, List.self, Transition.self, Move.self, Overdue.self, Stats.self, ImportCases.self, Config.self])

    struct Identity: ParsableArguments {
        @Option(help: "Act as this token's holder (its role and scope are checked); default: the file's administrator. Also GEOGRID_TOKEN.")
        var token: String?

        func resolve(_ store: GeoStore) throws -> Token {
            guard let secret = token ?? ProcessInfo.processInfo.environment["GEOGRID_TOKEN"] else { return .local() }
            guard let t = try store.authenticate(secret) else { throw CLIError("the token is not known, or it was revoked or has expired") }
            return t
        }
    }

    static func show(_ record: IncidentRecord, json: Bool) {
        if json {
            var out: [UInt8] = []
            record.json(into: &out)
            print(String(decoding: out, as: UTF8.self))
            return
        }
        let f = record.feature
        func p(_ k: String) -> String {
            switch f[property: k] {
            case .string(let s)?: s
            case .number(let n)?: number(n)
            case .bool(let b)?: b ? "yes" : "no"
            default: ""
            }
        }
        print("\(p("case_number"))  id \(f.id.map { if case .int(let i) = $0 { String(i) } else { "" } } ?? "")  \(p("category"))\(p("subcategory").isEmpty ? "" : "/" + p("subcategory"))  \(p("priority"))")
        print("stage \(p("stage"))  light \(p("light").isEmpty ? "-" : p("light"))  department \(p("department")) (\(p("department_level")))  grid \(p("grid_code")) (\(p("owner")))")
        if !p("title").isEmpty { print("title: \(p("title"))") }
        if !p("red_at").isEmpty { print("yellow at \(p("yellow_at")), red at \(p("red_at"))") }
        for h in record.history ?? [] {
            print("  \(h["time"]?.stringValue ?? "")  \(h["action"]?.stringValue ?? "")  \(h["from"]?.stringValue ?? "-") → \(h["to"]?.stringValue ?? "")  \(h["by"]?.stringValue ?? "")\(h["note"]?.stringValue.map { "  “\($0)”" } ?? "")\(h["late"] == .bool(true) ? "  (late)" : "")")
        }
    }

    struct Report: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Report a case at a point: placed in its grid, routed, with its situation package.")
        @OptionGroup var store: StoreOptions
        @OptionGroup var identity: Identity
        @OptionGroup var point: PointOptions
        @Option(help: "A category code (geo-cli incident config show lists them).") var category: String
        @Option var subcategory: String?
        @Option(help: "low, normal, high or urgent (default: the category's).") var priority: String?
        @Option(help: "immediate or promised.") var kind: String?
        @Option(help: "The date a promised case is due (YYYY-MM-DD).") var promisedDate: String?
        @Option var title: String?
        @Option var description: String?
        @Option(help: "A channel code (grid_worker, hotline, …).") var channel: String?
        @Option var reporterName: String?
        @Option var reporterContact: String?
        @Option var buildingId: Int64?
        @Option(parsing: .unconditional) var floor: Int64?
        @Option var locationDetail: String?
        @Option(help: "When it was reported (ISO 8601; without an offset, in the store's time zone); default now.") var time: String?
        @Flag(help: "Print the case as GeoJSON, with its situation.") var json = false

        func run() throws {
            let store = try self.store.openForWork()
            let config = try store.incidentConfig()
            var r = IncidentReport(position: point.crs.toWGS84(try point.position()), category: category)
            r.subcategory = subcategory; r.priority = priority; r.kind = kind; r.promisedDate = promisedDate; r.title = title; r.description = description
            r.channel = channel; r.reporterName = reporterName; r.reporterContact = reporterContact; r.buildingID = buildingId; r.floor = floor
            r.locationDetail = locationDetail
            if let time {
                guard let t = config.calendar.parse(time) else { throw CLIError("--time must be ISO 8601, not \(time)") }
                r.reportedAt = t
            }
            let record = try IncidentDesk(store: store).report(r, by: try identity.resolve(store))
            IncidentCommand.show(record, json: json)
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A case with its history (and, with --json, its situation package).")
        @OptionGroup var store: StoreOptions
        @Argument(help: "The case's id.") var id: Int64
        @Flag(help: "Print GeoJSON.") var json = false

        func run() throws {
            let store = try self.store.openForWork()
            guard let record = try IncidentDesk(store: store).incident(id, personal: true) else { throw CLIError("no case \(id)") }
            IncidentCommand.show(record, json: json)
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List cases (lights as they are now).")
        @OptionGroup var store: StoreOptions
        @Option(help: "Stages, comma-separated.") var stage: String?
        @Option(help: "green, yellow or red (comma-separated).") var light: String?
        @Option var grid: String?
        @Option(help: "A community, street or district code.") var area: String?
        @Option var department: String?
        @Option var category: String?
        @Option var channel: String?
        @Flag(help: "Only open cases.") var open = false
        @Option(help: "Reported at or after (ISO 8601).") var since: String?
        @Option(help: "Reported before (ISO 8601).") var until: String?
        @Option var limit = 100
        @Flag(help: "Print a GeoJSON FeatureCollection.") var json = false

        func run() throws {
            let store = try self.store.openForWork()
            var q = IncidentQuery()
            func list(_ s: String?) -> [String] { s.map { $0.split(separator: ",").map(String.init) } ?? [] }
            q.stages = list(stage); q.lights = list(light)
            for l in q.lights where !Incident.lights.contains(l) { throw CLIError("--light must be green, yellow or red, not \(l)") }
            q.grids = list(grid); q.areas = list(area); q.departments = list(department)
            q.categories = list(category); q.channels = list(channel)
            if open { q.open = true }
            if let since { guard let t = Timestamp(iso8601: since) else { throw CLIError("--since must be ISO 8601") }; q.since = t }
            if let until { guard let t = Timestamp(iso8601: until) else { throw CLIError("--until must be ISO 8601") }; q.until = t }
            guard (1...100_000).contains(limit) else { throw CLIError("--limit must be 1 to 100000") }
            q.limit = limit
            let (features, matched) = try IncidentDesk(store: store).incidents(q) { _ in true }
            if json {
                printJSON(.object([("type", .string("FeatureCollection")), ("numberMatched", .number(Double(matched))), ("features", .array(features.map { f in
                    var out: [UInt8] = []
                    GeoJSONWriter().feature(f, into: &out)
                    return (try? JSONParser.parse(out)) ?? .null
                }))]))
                return
            }
            func p(_ f: Feature, _ k: String) -> String { f[property: k]?.stringValue ?? "" }
            printTable(["id", "case", "category", "stage", "light", "department", "grid", "reported"], features.map { f in
                [f.id.map { if case .int(let i) = $0 { String(i) } else { "" } } ?? "", p(f, "case_number"), p(f, "category"), p(f, "stage"), p(f, "light"),
                    p(f, "department"), p(f, "grid_code"), p(f, "reported_at")]
            })
            printErr("\(features.count) of \(matched) cases")
        }
    }

    struct Transition: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Move a case on in the workflow (a stage or an action: returned, escalated, reassigned, …).")
        @OptionGroup var store: StoreOptions
        @OptionGroup var identity: Identity
        @Argument(help: "The case's id.") var id: Int64
        @Option(help: "The stage or action.") var to: String
        @Option var note: String?
        @Option var department: String?
        @Option var assignee: String?
        @Option(name: .customLong("co-department"), help: "A co-handling department (repeatable).") var coDepartments: [String] = []
        @Flag(help: "The reporter was answered (回告).") var reporterAnswered = false
        @Option var noAnswerReason: String?
        @Option(help: "The reporter's satisfaction, 1–5.") var satisfaction: Int?
        @Flag(help: "Print the case as GeoJSON.") var json = false

        func run() throws {
            let store = try self.store.openForWork()
            var t = TransitionRequest(to: to, note: note, department: department)
            t.assignee = assignee
            t.coDepartments = coDepartments.isEmpty ? nil : coDepartments
            t.reporterAnswered = reporterAnswered ? true : nil
            t.noAnswerReason = noAnswerReason
            if let satisfaction {
                guard (1...5).contains(satisfaction) else { throw CLIError("--satisfaction must be 1 to 5") }
                t.satisfaction = satisfaction
            }
            let record = try IncidentDesk(store: store).transition(id, t, by: try identity.resolve(store))
            IncidentCommand.show(record, json: json)
        }
    }

    struct Move: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Move a case's point: its grid, areas and situation follow.")
        @OptionGroup var store: StoreOptions
        @OptionGroup var identity: Identity
        @Argument(help: "The case's id.") var id: Int64
        @OptionGroup var point: PointOptions
        @Flag(help: "Print the case as GeoJSON.") var json = false

        func run() throws {
            let store = try self.store.openForWork()
            let record = try IncidentDesk(store: store).move(id, to: point.crs.toWGS84(try point.position()), by: try identity.resolve(store))
            IncidentCommand.show(record, json: json)
        }
    }

    struct Overdue: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Open cases that are red now, by grid, community, street, district, department or person.")
        @OptionGroup var store: StoreOptions
        @Option(help: "grid, community, street, district, department or person.") var by = "department"
        @Flag(help: "Print JSON.") var json = false

        func run() throws {
            let store = try self.store.openForWork()
            let answer = try IncidentDesk(store: store).overdue(by: by)
            if json { return printJSON(answer) }
            for g in answer["groups"]?.arrayValue ?? [] {
                print("\(g["key"]?.stringValue ?? "(none)")\(g["zh"]?.stringValue.map { " \($0)" } ?? ""): \(number(g["count"]?.numberValue ?? 0))")
                for c in g["cases"]?.arrayValue ?? [] {
                    print("  \(c["case_number"]?.stringValue ?? "")  \(c["stage"]?.stringValue ?? "")  red since \(c["red_at"]?.stringValue ?? "") (\(number(c["overdue_hours"]?.numberValue ?? 0)) h)")
                }
            }
            printErr("\(number(answer["total"]?.numberValue ?? 0)) overdue cases")
        }
    }

    struct Stats: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Statistics of a period for the assessment bulletin: received, closed, on time, overdue, time per stage.")
        @OptionGroup var store: StoreOptions
        @Option(help: "YYYY-MM (default: this month), YYYY, or YYYY-MM-DD/YYYY-MM-DD.") var period: String?
        @Option(help: "department, grid, community, street, district, category or channel.") var by = "department"
        @Flag(help: "Print CSV.") var csv = false
        @Flag(help: "Print JSON.") var json = false

        func run() throws {
            let store = try self.store.openForWork()
            let stats = try IncidentDesk(store: store).stats(period: period, by: by)
            if json { return printJSON(stats.json) }
            if csv { return print(stats.csv, terminator: "") }
            printTable(["key", "name", "received", "closed", "on time", "overdue now", "returned", "at source"], (stats.rows + [stats.total]).map { r in
                [r.key ?? "(all)", r.zh ?? "", String(r.received), String(r.closed), r.onTimeRate.map { String(format: "%.1f%%", $0 * 100) } ?? "-",
                    String(r.overdueNow), String(r.returned), String(r.closedAtSource)]
            })
        }
    }

    struct ImportCases: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "import", abstract: "Import past cases (a call log) from CSV or GeoJSON, all or nothing.",
            discussion: """
                Each row needs a position (lon/lat or WKT columns, or a GeoJSON point) and a category; a `time` \
                (or reported_at) column in ISO 8601 is when it was reported, read in the store's time zone when it has \
                no offset. Optional columns: stage and stage times (registered_at, dispatched_at, accepted_at, \
                handling_at, handled_at, closed_at, evaluated_at). Other names through --map member=column.
                """)
        @OptionGroup var store: StoreOptions
        @OptionGroup var identity: Identity
        @Argument(help: "The file; - for standard input.") var file: String
        @Option(help: "geojson, geojsonseq or csv (default: from the file name).") var format: SourceFormat?
        @Option(name: .customLong("map"), help: "Take a member from a differently named column: member=column (repeatable).") var mappings: [String] = []
        @Option(help: "The channel of rows that name none.") var channel = "hotline"
        @Option(help: "Time zone of times without an offset (default: the store's calendar's).") var timeZone: String?
        @Flag(help: "Import the valid rows and leave out the others.") var skipInvalid = false
        @Option(help: "With --skip-invalid: write the left-out rows and their reasons here (newline-delimited JSON).") var rejects: String?
        @OptionGroup var columns: CSVColumns

        func validate() throws {
            if rejects != nil && !skipInvalid { throw ValidationError("--rejects goes with --skip-invalid") }
        }

        func run() throws {
            let store = try self.store.openForWork()
            var options = IncidentImportOptions(format: format ?? SourceFormat(guessingFrom: file))
            for m in mappings {
                let parts = m.split(separator: "=", maxSplits: 1).map(String.init)
                guard parts.count == 2, IncidentReport.members.contains(parts[0]) || ["stage"].contains(parts[0]) || parts[0].hasSuffix("_at") else {
                    throw CLIError("--map \(m): give member=column, a member being one of \((IncidentReport.members + ["stage"]).joined(separator: ", ")) or a stage time")
                }
                options.mapping[parts[0]] = parts[1]
            }
            options.channel = channel
            options.skipInvalid = skipInvalid
            columns.apply(to: &options.csv)
            if let timeZone {
                guard let zone = TimeZone(identifier: timeZone) else { throw CLIError("--time-zone: unknown zone \(timeZone) (an IANA name such as Asia/Shanghai)") }
                options.timeZone = zone
            }
            let bar = ProgressBar(label: "reading cases")
            let report = try IncidentDesk(store: store).importCases(from: try InputBytes(path: file), options: options, by: try identity.resolve(store),
                progress: bar?.callback)
            bar?.finish()
            if let rejects { try writeRejects(report.rejected, to: rejects) }
            var line = "imported \(report.imported) cases"
            if skipInvalid { line += ", left out \(report.rejected.count)" + (rejects.map { " (see \($0))" } ?? "") }
            line += "; lights now: " + Incident.lights.map { "\(report.lights[$0] ?? 0) \($0)" }.joined(separator: ", ")
            printErr(line)
            if !report.outside.isEmpty {
                printErr("\(report.outside.count) outside every area (owner outside), for the centre to assign: \(report.outside.prefix(10).joined(separator: ", "))\(report.outside.count > 10 ? ", …" : "")")
            }
            if skipInvalid && rejects == nil {
                for r in report.rejected.prefix(20) { printErr("  left out row \(r.index)\(r.line.map { " (line \($0))" } ?? ""): \(r.reason)") }
            }
        }
    }

    struct Config: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The catalogues, workflow, deadlines and calendar of cases: show them, or load a city's.",
            discussion: """
                Parts: \(IncidentConfig.parts.joined(separator: ", ")). `load` takes JSON files named after their part \
                (categories.json, …) or one JSON object with a member per part; each is checked with the others before \
                any is stored. --holidays adds a file of dates (YYYY-MM-DD [name], `working` for a make-up working day) \
                to the calendar.
                """)
        @OptionGroup var store: StoreOptions
        @Argument(help: "show or load.") var action: String
        @Argument(help: "Files to load.") var files: [String] = []
        @Option(help: "A holidays file to add to the calendar.") var holidays: String?
        @Option(help: "show: only this part.") var part: String?

        func run() throws {
            let store = try self.store.openForWork()
            switch action {
            case "show":
                let docs = try store.incidentConfigDocuments()
                if let part {
                    guard let d = docs[part] else { throw CLIError("no part \(part) (parts: \(IncidentConfig.parts.joined(separator: ", ")))") }
                    return printJSON(d)
                }
                printJSON(.object(IncidentConfig.parts.compactMap { p in docs[p].map { (p, $0) } }))
            case "load":
                guard !files.isEmpty || holidays != nil else { throw CLIError("give files to load, or --holidays FILE") }
                var docs: [String: JSONValue] = [:]
                for file in files {
                    guard let data = FileManager.default.contents(atPath: file) else { throw CLIError("cannot read \(file)") }
                    let json: JSONValue
                    do { json = try JSONParser.parse(Array(data)) } catch { throw CLIError("\(file): not JSON: \(error)") }
                    let name = ((file as NSString).lastPathComponent as NSString).deletingPathExtension
                    if IncidentConfig.parts.contains(name) {
                        docs[name] = json
                    } else if case .object(let m) = json, !m.isEmpty, m.allSatisfy({ IncidentConfig.parts.contains($0.0) }) {
                        for (k, v) in m { docs[k] = v }
                    } else {
                        throw CLIError("\(file): name it after its part (\(IncidentConfig.parts.joined(separator: ", "))).json, or give an object with a member per part")
                    }
                }
                if let holidays {
                    guard let data = FileManager.default.contents(atPath: holidays) else { throw CLIError("cannot read \(holidays)") }
                    let current = try docs["calendar"] ?? store.incidentConfigDocuments()["calendar"]!
                    var calendar: WorkCalendar
                    do {
                        calendar = try WorkCalendar.parse(json: current)
                        try calendar.addHolidays(fromText: String(decoding: data, as: UTF8.self))
                    } catch { throw CLIError("\(holidays): \(error)") }
                    docs["calendar"] = calendar.json
                }
                try store.loadIncidentConfig(docs)
                printErr("loaded \(docs.keys.sorted().joined(separator: ", "))")
            default:
                throw CLIError("the action is show or load, not \(action)")
            }
        }
    }
}

/// A number as people write it: whole numbers without a fraction.
func number(_ v: Double) -> String { v == v.rounded() && abs(v) < 1e15 ? String(Int64(v)) : String(v) }
