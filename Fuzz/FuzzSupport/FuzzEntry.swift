/// The one entry point of every harness: libFuzzer in a fuzzing build, a replay of files otherwise.
///
/// A fuzzing build (`-sanitize=fuzzer,address -DFUZZING`, see `scripts/fuzz.sh`) hands the process arguments
/// to libFuzzer's driver, which then calls the harness once per generated input. SwiftPM links an executable
/// target's `main` to the target's own entry point, so libFuzzer's `main` cannot be used; its documented
/// `LLVMFuzzerRunDriver` is called instead. A plain build replays the files and directories given as
/// arguments (`FuzzReplay`), so the harnesses build and run with a normal `swift build`.
public enum FuzzEntry {
    /// Runs `harness` under libFuzzer (fuzzing build) or over the argument files (plain build).
    public static func main(_ harness: @escaping (UnsafeRawBufferPointer) -> Void) {
        #if FUZZING
        installedHarness = harness
        var argc = CommandLine.argc
        var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
        exit(llvmFuzzerRunDriver(&argc, &argv, fuzzTestOneInput))
        #else
        FuzzReplay.run(harness)
        #endif
    }
}

#if FUZZING
#if canImport(Glibc)
import Glibc
#endif

/// The harness libFuzzer's callback runs. Written once in `FuzzEntry.main` before the driver starts, then only
/// read, from the driver's thread: no concurrent access.
nonisolated(unsafe) private var installedHarness: ((UnsafeRawBufferPointer) -> Void)?

/// libFuzzer's per-input callback; also the symbol its archive's own `main` (linked, but not the entry point)
/// refers to.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    installedHarness?(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}

/// libFuzzer's `int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*cb)(const uint8_t *, size_t))`.
@_silgen_name("LLVMFuzzerRunDriver")
private func llvmFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt
#endif
