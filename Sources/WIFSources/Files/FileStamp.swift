#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What identifies one version of a file: device, inode, size and modification time of its target.
public struct FileStamp: Hashable, Sendable {
    let device: UInt64
    let inode: UInt64
    let size: Int64
    let modifiedSeconds: Int
    let modifiedNanoseconds: Int

    /// Which file this is, whatever is written to it: device and inode.
    public var identity: FileIdentity { FileIdentity(device: device, inode: inode) }

    /// The stamp of the file at `path` (its symlink target), or nil when it cannot be read.
    public init?(path: String) {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        device = UInt64(info.st_dev)
        inode = UInt64(info.st_ino)
        size = Int64(info.st_size)
        #if canImport(Darwin)
        modifiedSeconds = info.st_mtimespec.tv_sec
        modifiedNanoseconds = info.st_mtimespec.tv_nsec
        #else
        modifiedSeconds = info.st_mtim.tv_sec
        modifiedNanoseconds = info.st_mtim.tv_nsec
        #endif
    }
}

/// A file's device and inode: the same for as long as it is the same file, whatever is written to it.
public struct FileIdentity: Hashable, Sendable {
    let device: UInt64
    let inode: UInt64
}
