import Foundation
import TestSupport
import Testing

/// Issue 13's mixed load, shorter: `benchmarks/mixed-load.py` against the debug geo-cli for 20 s at 64
/// connections over a store with 40,000 past cases. The script is the judge (it exits non-zero on any FAIL);
/// the test also reads its PASS lines, so a script that stopped judging cannot pass.
@Suite struct LoadTests {
    @Test func mixedLoadHasNoErrorsFlatMemoryAndAConsistentStore() async throws {
        let dir = TemporaryDirectory()
        let script = Fixtures.repository.appendingPathComponent("benchmarks/mixed-load.py").path
        let python = venvPython ?? "/usr/bin/python3"
        // The load and its processes block: on a thread of its own, not one of Swift's few cooperative ones.
        let result = try await offCooperativePool {
            try runProcess(python, [script, CLITests.executable, dir.path("load"), "--seconds", "20", "--past-cases", "40000"])
        }
        let out = result.stdout
        #expect(result.status == 0, "mixed-load failed:\n\(out)\n\(result.stderr)")
        for criterion in ["zero errors: 0", "resident memory flat", "store consistent afterwards"] {
            #expect(out.split(separator: "\n").contains { $0.hasPrefix("PASS  \(criterion)") }, "no PASS for \(criterion):\n\(out)")
        }
        for route in ["tile", "tile_cases", "items_cql2", "locate", "nearest", "around", "report", "transition", "edit"] {
            #expect(out.split(separator: "\n").contains { $0.hasPrefix(route + " ") }, "no answers on \(route):\n\(out)")
        }
    }
}
