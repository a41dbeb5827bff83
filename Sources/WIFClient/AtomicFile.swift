public import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes a file so that a reader sees the old content or the new, never a part: a temporary file in the
/// same folder, created with `mode` (0600 by default: a token is a credential), written, flushed to disk,
/// then renamed over the target.
public enum AtomicFile {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    public static func write(_ bytes: some Collection<UInt8>, to path: String, mode: mode_t = 0o600) throws(Failure) {
        let url = URL(fileURLWithPath: path)
        let temporary = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString).tmp").path
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard descriptor >= 0 else { throw Failure(description: "cannot create \(temporary): \(String(cString: strerror(errno)))") }
        var failure: String?
        let content = Array(bytes)
        var written = 0
        while written < content.count, failure == nil {
            let count = content[written...].withUnsafeBytes { systemWrite(descriptor, $0) }
            if count < 0, errno != EINTR { failure = "cannot write \(temporary): \(String(cString: strerror(errno)))" }
            written += max(count, 0)
        }
        // The mode is set again in case the umask narrowed it at creation.
        if failure == nil, fchmod(descriptor, mode) != 0 { failure = "cannot set the mode of \(temporary)" }
        if failure == nil, fsync(descriptor) != 0 { failure = "cannot flush \(temporary): \(String(cString: strerror(errno)))" }
        close(descriptor)
        if failure == nil, rename(temporary, path) != 0 { failure = "cannot replace \(path): \(String(cString: strerror(errno)))" }
        if let failure {
            unlink(temporary)
            throw Failure(description: failure)
        }
    }
}

private func systemWrite(_ descriptor: Int32, _ buffer: UnsafeRawBufferPointer) -> Int {
    write(descriptor, buffer.baseAddress, buffer.count)
}
