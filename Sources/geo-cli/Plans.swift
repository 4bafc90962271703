import ArgumentParser
import Foundation
import GeoGrid

/// `geo-cli plan create|check|diff|apply|rollback|history`: boundary plans on the store's own file, as its
/// administrator or (`--token`) as a planner whose scope is checked.
struct PlanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan", abstract: "Boundary plans: propose, check, preview, apply with an effective date, roll back.",
        subcommands: [Create.self, Check.self, Diff.self, Apply.self, Rollback.self, History.self, Settings.self])

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Store a proposal (a GeoJSON FeatureCollection of grids with codes) as a draft plan; prints its id alone on the last line.")
        @OptionGroup var store: StoreOptions
        @OptionGroup var identity: IncidentCommand.Identity
        @Argument(help: "The proposal: a GeoJSON file, or - for standard input.") var file: String
        @Option(help: "The plan's title.") var title: String?
        @Flag(help: "Give grids without a code the next free code of their community.") var assignCodes = false

        func run() throws {
            let data = file == "-" ? FileHandle.standardInput.readDataToEndOfFile() : try Data(contentsOf: URL(fileURLWithPath: file))
            let proposal: JSONValue
            do { proposal = try JSONParser.parse([UInt8](data)) } catch { throw CLIError("\(file): not JSON: \(error)") }
            let store = try self.store.openForWork()
            let plan = try PlanDesk(store: store).create(proposal, title: title, assignCodes: assignCodes, by: try identity.resolve(store))
            print("plan \(plan.id): \(plan.grids.count) grid(s) for \(plan.communities.joined(separator: ", ")) (draft; check it with geo-cli plan check)")
            print(plan.id)
        }
    }

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The plan's findings (errors block apply), or with --city those of the grids in force; exits non-zero when there is an error.")
        @OptionGroup var store: StoreOptions
        @Argument(help: "The plan's id (not with --city).") var id: Int64?
        @Flag(help: "Check the grids in force in every community (or those given with --community) instead of a plan.") var city = false
        @Option(help: "With --city: only this community (repeatable).") var community: [String] = []
        @Flag(help: "Print {\"findings\": […]} as JSON.") var json = false

        func validate() throws {
            guard (id == nil) == city else { throw ValidationError("give a plan's id, or --city (not both)") }
            guard community.isEmpty || city else { throw ValidationError("--community goes with --city") }
        }

        func run() throws {
            let desk = PlanDesk(store: try store.openForWork())
            let start = Date()
            let findings = try id.map { try desk.check($0) } ?? desk.checkCity(communities: community.isEmpty ? nil : community)
            let subject = id.map { "plan \($0)" } ?? "the grids in force"
            if json {
                printJSON(.object((id.map { [("plan", JSONValue.number(Double($0)))] } ?? []) + [("findings", .array(findings.map(\.json)))]))
            } else if findings.isEmpty {
                print("\(subject): no findings")
            } else {
                printTable(["severity", "kind", "grids", "message"], findings.map { [$0.severity.rawValue, $0.kind, $0.grids.joined(separator: " "), $0.message] })
                let errors = findings.filter { $0.severity == .error }.count
                print("\(subject): \(errors) error(s), \(findings.count - errors) warning(s) in \(String(format: "%.2f", Date().timeIntervalSince(start))) s")
            }
            if findings.contains(where: { $0.severity == .error }) { throw ExitCode(1) }
        }
    }

    struct Diff: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "What applying the plan would change: buildings, households, open cases and workers.")
        @OptionGroup var store: StoreOptions
        @Argument var id: Int64
        @Flag(help: "Print the impact as JSON.") var json = false
        @Flag(help: "Print the moved buildings as a GeoJSON FeatureCollection (each with from and to).") var geojson = false

        func run() throws {
            let impact = try PlanDesk(store: try store.openForWork()).impact(id)
            if json { return printJSON(impact.json) }
            if geojson {
                var out: [UInt8] = Array("{\"type\":\"FeatureCollection\",\"features\":[".utf8)
                for (i, f) in impact.featureCollection.enumerated() {
                    if i > 0 { out.append(UInt8(ascii: ",")) }
                    GeoJSONWriter().feature(f, into: &out)
                }
                out.append(contentsOf: "]}".utf8)
                return print(String(decoding: out, as: UTF8.self))
            }
            print("\(impact.buildings.count) building(s) change grid (\(impact.buildings.reduce(0) { $0 + $1.households }) households, "
                + "\(impact.buildings.reduce(0) { $0 + $1.population }) residents); \(impact.cases.count) open case(s) change grid")
            printTable(["grid", "buildings", "households", "population", "open cases"], impact.grids.map { g in
                [g.code] + [(g.before.buildings, g.after.buildings), (Int(g.before.households), Int(g.after.households)),
                    (Int(g.before.population), Int(g.after.population)), (g.before.openCases, g.after.openCases)].map { $0.0 == $0.1 ? "\($0.0)" : "\($0.0) → \($0.1)" }
            })
            if !impact.workers.isEmpty {
                printTable(["worker", "households", "open cases"], impact.workers.map { w in
                    [w.name, "\(w.before.households) → \(w.after.households)", "\(w.before.openCases) → \(w.after.openCases)"]
                })
            }
        }
    }

    struct Apply: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Apply a checked plan from a date (refused, non-zero exit, while an error stands).")
        @OptionGroup var store: StoreOptions
        @OptionGroup var identity: IncidentCommand.Identity
        @Argument var id: Int64
        @Option(help: "The first day the new grids are in force (YYYY-MM-DD, today or later).") var effective: String

        func run() throws {
            let store = try self.store.openForWork()
            let plan = try PlanDesk(store: store).apply(id, effective: effective, by: try identity.resolve(store))
            print("plan \(plan.id) applied: in force from \(plan.effective ?? effective)\(plan.inForce ? "" : " (buildings and cases move on that day)")")
        }
    }

    struct Rollback: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Restore the grids before an applied plan, as a new, logged plan; prints its id.")
        @OptionGroup var store: StoreOptions
        @OptionGroup var identity: IncidentCommand.Identity
        @Argument var id: Int64

        func run() throws {
            let store = try self.store.openForWork()
            let plan = try PlanDesk(store: store).rollback(id, by: try identity.resolve(store))
            print("plan \(id) rolled back by plan \(plan.id)")
            print(plan.id)
        }
    }

    struct History: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Every plan, newest first: status, effective date, who applied it.")
        @OptionGroup var store: StoreOptions
        @Flag var json = false

        func run() throws {
            let plans = try PlanDesk(store: try store.openForWork()).plans()
            if json { return printJSON(.array(plans.map(\.summary))) }
            printTable(["id", "status", "effective", "applied by", "communities", "grids", "title"], plans.map { p in
                [String(p.id), p.status.rawValue + (p.rollbackOf.map { " (undoes \($0))" } ?? ""), p.effective ?? "-", p.appliedBy ?? "-",
                    p.communities.joined(separator: " "), String(p.gridCount), p.title ?? ""]
            })
        }
    }

    struct Settings: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show the checks' thresholds in force, or load a `plans` document (JSON) that replaces them.",
            discussion: """
                {"tolerance_m2": 1, "sliver_width_m": 2, "cut_share": 0.02, "size": {"preset": "households_200_300"} or \
                {"by": "population", "min": 1500, "max": 2500}, "grids_per_community": {"min": 2, "max": 5}, \
                "communities": {"<12-digit code>": {…the same, for that community…}}}. Presets: \
                \(PlanCheckSettings.presets.keys.sorted().joined(separator: ", ")).
                """)
        @OptionGroup var store: StoreOptions
        @OptionGroup var identity: IncidentCommand.Identity
        @Option(help: "A JSON file (or - for standard input) to load.") var load: String?

        func run() throws {
            let store = try GeoStore(path: self.store.db)
            let desk = PlanDesk(store: store)
            if let load {
                let data = load == "-" ? FileHandle.standardInput.readDataToEndOfFile() : try Data(contentsOf: URL(fileURLWithPath: load))
                let doc: JSONValue
                do { doc = try JSONParser.parse([UInt8](data)) } catch { throw CLIError("\(load): not JSON: \(error)") }
                try desk.loadSettings(doc, by: try identity.resolve(store))
                print("plans settings loaded")
                return
            }
            printJSON(try desk.settingsDocument() ?? .object([("note", .string("the defaults: tolerance 1 m², sliver width 2 m, cut share 0.02, size 300–500 households"))]))
        }
    }
}
