import Foundation
import Synchronization
import ZIPFoundation

/// The server's private folder (0700) under the temporary directory: functions' unpacked code and uploads being
/// received. Created on first use, removed at shutdown; one left behind by a server that was killed is removed by
/// the next server that creates its own (its name carries the process id).
public final class PrivateWorkspace: Sendable {
    static let prefix = "scw-mock-private-"
    private let folder = Mutex<URL?>(nil)

    /// Creates the workspace (nothing on disk yet).
    public init() {}

    /// The folder, created (mode 0700) on the first call.
    public func root() throws -> URL {
        try folder.withLock { current in
            if let current { return current }
            Self.sweepLeftovers()
            let base = FileManager.default.temporaryDirectory.path
            var template = Array("\(base)/\(Self.prefix)\(getpid())-XXXXXX".utf8CString)
            // mkdtemp creates the folder with mode 0700, under a name nobody could have prepared.
            guard template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) != nil else {
                throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: base])
            }
            let url = URL(fileURLWithPath: String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self), isDirectory: true)
            current = url
            return url
        }
    }

    /// A new private sub-folder (mode 0700) named after `label`.
    public func makeFolder(_ label: String) throws -> URL {
        let url = try root().appendingPathComponent("\(label)-\(UUID().uuidString.prefix(8).lowercased())", isDirectory: true)
        guard mkdir(url.path, 0o700) == 0 else { throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: url.path]) }
        return url
    }

    /// A new empty private file (mode 0600), opened for writing.
    public func makeFile(_ label: String) throws -> StagedFile {
        let url = try root().appendingPathComponent("\(label)-\(UUID().uuidString.lowercased())")
        let fd = open(url.path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: url.path]) }
        return StagedFile(url: url, descriptor: fd)
    }

    /// Removes the whole folder (shutdown).
    public func removeAll() {
        folder.withLock { current in
            if let current { try? FileManager.default.removeItem(at: current) }
            current = nil
        }
    }

    /// Removes the private folders of servers of this user that are no longer running (killed without a shutdown).
    static func sweepLeftovers() {
        let base = FileManager.default.temporaryDirectory
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: base.path) else { return }
        for name in names where name.hasPrefix(prefix) {
            guard let pid = Int32(name.dropFirst(prefix.count).prefix { $0 != "-" }), pid != getpid(),
                  kill(pid, 0) != 0, errno == ESRCH else { continue }
            var info = stat()
            let path = base.appendingPathComponent(name).path
            guard lstat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR, info.st_uid == getuid() else { continue }
            try? FileManager.default.removeItem(atPath: path)
        }
    }
}

/// A private file being written (an upload as it arrives); removed by `discard()` unless kept.
public final class StagedFile: @unchecked Sendable {
    public let url: URL
    private var descriptor: Int32
    /// Bytes written so far.
    public private(set) var size = 0

    init(url: URL, descriptor: Int32) {
        self.url = url
        self.descriptor = descriptor
    }

    /// Appends bytes.
    public func write(_ bytes: some Collection<UInt8>) throws {
        let contiguous: Void? = try bytes.withContiguousStorageIfAvailable { try Self.writeAll($0, to: descriptor) }
        if contiguous == nil { try Array(bytes).withUnsafeBufferPointer { try Self.writeAll($0, to: descriptor) } }
        size += bytes.count
    }

    /// Closes the file (it stays on disk until `discard()`).
    public func close() {
        if descriptor >= 0 { _ = Glibc.close(descriptor) }
        descriptor = -1
    }

    /// Closes and removes the file.
    public func discard() {
        close()
        unlink(url.path)
    }

    static func writeAll(_ buffer: UnsafeBufferPointer<UInt8>, to fd: Int32) throws {
        var offset = 0
        while offset < buffer.count {
            let n = Glibc.write(fd, buffer.baseAddress! + offset, buffer.count - offset)
            if n < 0 {
                if errno == EINTR { continue }
                throw CocoaError(.fileWriteUnknown, userInfo: [NSUnderlyingErrorKey: NSError(domain: NSPOSIXErrorDomain, code: Int(errno))])
            }
            offset += n
        }
    }

    deinit { close() }
}

/// Unpacks a function's zip archive in process, refusing what could harm the host: more code than Scaleway allows,
/// too many entries, zip bombs (declared or actual expansion over a ratio), entries that would land outside the
/// folder, and symbolic links. Bytes are counted as they are written, so a header that lies about sizes gains nothing.
public struct CodeUnpacker: Sendable {
    /// Scaleway: at most 500 MiB of code per function once unpacked.
    public var maxBytes: Int = 500 * 1024 * 1024
    /// Entries (files and folders) in one archive.
    public var maxEntries: Int = 20_000
    /// Largest expansion of one entry (unpacked size / compressed size), checked once it is over `ratioFloorBytes`.
    public var maxRatio: Int = 200
    /// Entries up to this size may expand more (a small file of repeated text is no bomb).
    public var ratioFloorBytes: Int = 1024 * 1024

    /// Creates an unpacker with Scaleway's limits.
    public init() {}

    /// Why an archive was refused; `message` ends up in the function's `error_message`.
    public struct Refusal: Error, Sendable, Equatable {
        public var message: String
    }

    /// Unpacks `archive` into the existing, empty folder `folder`. On a refusal the folder's content is left as is:
    /// the caller removes the folder.
    public func unpack(_ archive: Data, into folder: URL) throws(Refusal) {
        let zip: Archive
        do { zip = try Archive(data: archive, accessMode: .read) } catch {
            throw Refusal(message: "the uploaded archive could not be unpacked as a zip file")
        }
        // First the central directory: count, declared sizes, names and types, before anything is written.
        var entries: [(entry: Entry, path: [String])] = []
        var declared: UInt64 = 0
        for entry in zip {
            guard entries.count < maxEntries else {
                throw Refusal(message: "the uploaded archive holds more than \(maxEntries) entries (limit: \(maxEntries) files and folders)")
            }
            let name = entry.path
            guard entry.type != .symlink else {
                throw Refusal(message: "the uploaded archive's entry \(Self.shown(name)) is a symbolic link: symbolic links are refused")
            }
            guard let path = Self.normalized(name) else {
                throw Refusal(message: "the uploaded archive's entry \(Self.shown(name)) points outside the function's folder")
            }
            declared &+= entry.uncompressedSize
            guard entry.uncompressedSize <= UInt64(maxBytes), declared <= UInt64(maxBytes) else { throw tooBig() }
            if entry.type == .file, entry.uncompressedSize > UInt64(ratioFloorBytes),
               entry.uncompressedSize > max(entry.compressedSize, 1) &* UInt64(maxRatio) {
                throw expands(name)
            }
            entries.append((entry, path))
        }
        // Then the bytes, counted as they come out of the decompressor.
        var total = 0
        for (entry, path) in entries where !path.isEmpty {
            let target = path.reduce(folder) { $0.appendingPathComponent($1) }
            guard target.standardizedFileURL.path.hasPrefix(folder.standardizedFileURL.path + "/") else {
                throw Refusal(message: "the uploaded archive's entry \(Self.shown(entry.path)) points outside the function's folder")
            }
            let isFolder = entry.type == .directory
            try makeFolders(path.dropLast(isFolder ? 0 : 1), in: folder, entry: entry.path)
            if isFolder { continue }
            // The owner's execute bit is kept (a Go or Rust handler binary, a script); nothing is shared with others.
            let mode = entry.fileAttributes[.posixPermissions]
            let executable = ((mode as? UInt16).map(Int.init) ?? (mode as? NSNumber)?.intValue ?? 0) & 0o100 != 0
            let fd = open(target.path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, executable ? 0o700 : 0o600)
            guard fd >= 0 else { throw Refusal(message: "the uploaded archive's entry \(Self.shown(entry.path)) could not be written") }
            defer { _ = Glibc.close(fd) }
            var written = 0
            let compressed = Int(clamping: entry.compressedSize)
            let limit = (maxBytes: maxBytes, maxRatio: maxRatio, floor: ratioFloorBytes)
            var refusal: Refusal?
            let checksum: CRC32
            do {
                checksum = try zip.extract(entry, bufferSize: 64 * 1024) { chunk in
                    written += chunk.count
                    total += chunk.count
                    if total > limit.maxBytes { refusal = tooBig(); throw refusal! }
                    if UInt64(written) > entry.uncompressedSize {
                        refusal = Refusal(message: "the uploaded archive's entry \(Self.shown(entry.path)) holds more bytes than its header declares")
                        throw refusal!
                    }
                    if written > limit.floor, written > max(compressed, 1) &* limit.maxRatio { refusal = expands(entry.path); throw refusal! }
                    try chunk.withUnsafeBytes { try StagedFile.writeAll($0.bindMemory(to: UInt8.self), to: fd) }
                }
            } catch {
                throw refusal ?? Refusal(message: "the uploaded archive's entry \(Self.shown(entry.path)) is corrupt or could not be written")
            }
            guard UInt64(written) == entry.uncompressedSize, checksum == entry.checksum else {
                throw Refusal(message: "the uploaded archive's entry \(Self.shown(entry.path)) is corrupt (its size or checksum does not match)")
            }
        }
    }

    private func tooBig() -> Refusal {
        Refusal(message: "the uploaded archive unpacks to more than \(maxBytes) bytes (limit: \(maxBytes / 1024 / 1024) MiB of code per function)")
    }

    private func expands(_ name: String) -> Refusal {
        Refusal(message: "the uploaded archive's entry \(Self.shown(name)) expands more than \(maxRatio) times (limit: a compression ratio of \(maxRatio) for entries over \(ratioFloorBytes / 1024 / 1024) MiB)")
    }

    /// Creates the folders of a path inside `folder` (mode 0700); an existing component must be a real folder.
    private func makeFolders(_ components: ArraySlice<String>, in folder: URL, entry: String) throws(Refusal) {
        var current = folder
        for component in components {
            current.appendPathComponent(component, isDirectory: true)
            if mkdir(current.path, 0o700) == 0 { continue }
            var info = stat()
            guard errno == EEXIST, lstat(current.path, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR else {
                throw Refusal(message: "the uploaded archive's entry \(Self.shown(entry)) could not be written")
            }
        }
    }

    /// The components of an entry's name once `.` and `..` are resolved (backslashes count as separators); nil when
    /// it is absolute or climbs above the archive's root.
    static func normalized(_ name: String) -> [String]? {
        guard !name.isEmpty, !name.contains("\0") else { return nil }
        let unified = name.replacingOccurrences(of: "\\", with: "/")
        guard !unified.hasPrefix("/") else { return nil }
        var parts: [String] = []
        for component in unified.split(separator: "/", omittingEmptySubsequences: true) {
            switch component {
            case ".": continue
            case "..":
                guard !parts.isEmpty else { return nil }
                parts.removeLast()
            default: parts.append(String(component))
            }
        }
        return parts
    }

    /// An entry's name as shown in a message: quoted, at most 200 characters.
    static func shown(_ name: String) -> String {
        let cut = name.count > 200 ? name.prefix(200) + "…" : Substring(name)
        return "\"\(cut.unicodeScalars.map { $0.value < 0x20 ? "?" : String($0) }.joined())\""
    }
}
