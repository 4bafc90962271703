#if canImport(Glibc)
import Glibc
#endif

/// An array of `count` elements written once by `fill`, whose memory is asked to come in 2 MiB pages where the
/// system allows it (Linux's transparent huge pages in `madvise` mode, Debian's default). The nearest-resource
/// index reads a few lines each from arrays of tens of megabytes at random: with 4 KiB pages nearly every such
/// read also missed the TLB.
func largeArray<T>(count: Int, _ fill: (UnsafeMutableBufferPointer<T>) -> Void) -> [T] {
    [T](unsafeUninitializedCapacity: count) { buffer, initialised in
        #if canImport(Glibc)
        // Large allocations are fresh, untouched mappings: advise the whole 2 MiB pages inside before filling.
        let bytes = count * MemoryLayout<T>.stride
        if bytes >= 4 << 20, let base = buffer.baseAddress {
            let huge = 2 << 20
            let start = (Int(bitPattern: UnsafeRawPointer(base)) + huge - 1) / huge * huge
            let end = (Int(bitPattern: UnsafeRawPointer(base)) + bytes) / huge * huge
            if end > start { _ = madvise(UnsafeMutableRawPointer(bitPattern: start), end - start, 14 /* MADV_HUGEPAGE */) }
        }
        #endif
        fill(buffer)
        initialised = count
    }
}
