import CSupport
import Foundation

/// The process's memory allocator, for long-running services.
public enum Allocator {
    /// glibc gives each thread that allocates under contention an arena of its own, up to eight per core, and
    /// keeps what each arena freed. Under mixed load (tiles of megabytes beside small answers, on every NIO and
    /// blocking-pool thread) the server's resident memory grew about 10% a minute with no data to show for it
    /// (benchmarks/mixed-load.py); one arena per core kept it flat (+1%) and answered slightly faster. A
    /// MALLOC_ARENA_MAX in the environment still wins. Returns whether the bound was set.
    @discardableResult
    public static func boundArenasForService() -> Bool {
        guard ProcessInfo.processInfo.environment["MALLOC_ARENA_MAX"] == nil else { return false }
        return geogrid_bound_malloc_arenas(Int32(max(2, ProcessInfo.processInfo.activeProcessorCount))) == 1
    }
}
