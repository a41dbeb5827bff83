public import Foundation

/// The Python virtual environment of the interop and deployment tests (the PyPI packages pinned in
/// Tests/Interop/requirements.txt), built once per test process by scripts/interop-setup.sh when it is
/// missing or stale. `WIF_INTEROP_PYTHON` names another interpreter instead.
public enum InteropVenv {
    /// The repository root.
    public static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The venv's python.
    public static func python() async throws -> String {
        if let configured = ProcessInfo.processInfo.environment["WIF_INTEROP_PYTHON"] { return configured }
        try await setup.value
        return root.appendingPathComponent(".build-interop/venv/bin/python").path
    }

    /// A program the venv installed (`bin/NAME` beside its python).
    public static func program(_ name: String) async throws -> String {
        URL(fileURLWithPath: try await python()).deletingLastPathComponent().appendingPathComponent(name).path
    }

    /// The one run of scripts/interop-setup.sh per test process.
    private static let setup = Task {
        let result = try await ChildProcess.run(URL(fileURLWithPath: "/bin/bash"), [root.appendingPathComponent("scripts/interop-setup.sh").path])
        guard result.status == 0 else { throw Failure(description: "scripts/interop-setup.sh failed (\(result.status)): \(result.errorText)") }
    }

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }
}
