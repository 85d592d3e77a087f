/// A harness's oracle: a property that must hold for every input.
///
/// A violation stops the process (under libFuzzer this is recorded as a crash with its input), with a message
/// naming the property. The message never echoes input bytes.
public enum FuzzCheck {
    /// Stops the process when `condition` is false.
    public static func expect(_ condition: Bool, _ property: @autoclosure () -> String) {
        if !condition { fatalError("fuzz property violated: \(property())") }
    }
}
