import Foundation

/// A fresh directory under the system's temporary directory, for one test.
func makeTemporaryDirectory() -> String {
    let path = NSTemporaryDirectory() + "store-tests-" + UUID().uuidString
    try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}
