import CLibFuzzer
import Foundation
import FuzzHarness

// The libFuzzer driver. Built only by scripts/fuzz.sh (GEOGRID_FUZZ=1, -sanitize=fuzzer,address); the target to
// fuzz is named by GEOGRID_FUZZ_TARGET and the rest of the command line is libFuzzer's.

guard let name = ProcessInfo.processInfo.environment["GEOGRID_FUZZ_TARGET"], let chosen = FuzzTarget(rawValue: name) else {
    FileHandle.standardError.write(Data("set GEOGRID_FUZZ_TARGET to one of: \(FuzzTarget.allCases.map(\.rawValue).joined(separator: ", "))\n".utf8))
    exit(2)
}
// A global, not the guard's binding: the callback is a C function pointer and cannot capture context.
let target = chosen

var argc = CommandLine.argc
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    if let problem = target.run(bytes) { fatalError("\(target.rawValue): \(problem)") }
    return 0
})
