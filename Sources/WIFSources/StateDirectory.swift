import FoundationEssentials

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// wif's local state folder (signing keys, the development issuer's key). Files are written atomically
/// with mode 0600, folders with 0700.
public struct StateDirectory: Sendable {
    public let path: String

    public init(path: String) {
        self.path = path
    }

    /// A path inside the state folder.
    public func file(_ relative: String) -> String { path + "/" + relative }

    /// Creates `relative` (and the state folder) with mode 0700 if missing.
    public func ensureFolder(_ relative: String) throws {
        try FileManager.default.createDirectory(atPath: file(relative), withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
    }

    /// Reads a text file, or nil when it does not exist.
    public func read(_ relative: String) throws -> String? {
        let target = file(relative)
        guard FileManager.default.fileExists(atPath: target) else { return nil }
        guard let data = FileManager.default.contents(atPath: target), let text = String(validating: data, as: UTF8.self) else {
            throw StateDirectoryError("cannot read \(target)")
        }
        return text
    }

    /// Writes a secret text file atomically (temporary file with 0600, then rename). Fails if it exists
    /// and `replace` is false, so two processes never overwrite each other's new key.
    public func writeSecret(_ relative: String, _ text: String, replace: Bool = false) throws {
        let target = file(relative)
        let temporary = target + ".tmp-\(UInt64.random(in: 0...UInt64.max))"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard fd >= 0 else { throw StateDirectoryError("cannot create \(temporary)") }
        let bytes = Array(text.utf8)
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        fsync(fd)
        close(fd)
        guard written == bytes.count else {
            unlink(temporary)
            throw StateDirectoryError("cannot write \(temporary)")
        }
        if !replace {
            // link(2) fails when the target exists: no silent overwrite.
            let linked = link(temporary, target)
            unlink(temporary)
            guard linked == 0 else { throw StateDirectoryError("\(target) already exists") }
        } else {
            guard rename(temporary, target) == 0 else {
                unlink(temporary)
                throw StateDirectoryError("cannot replace \(target)")
            }
        }
    }
}

public struct StateDirectoryError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
