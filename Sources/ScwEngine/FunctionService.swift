import Foundation
import ScwDomain
import ScwStore
import Synchronization

/// Functions: the shared core (`ApplicationService`) plus what only functions have: their code, uploaded and
/// downloaded through pre-signed URLs (S3 style, one use, `X-Amz-Expires=3600`), at most 100 MiB.
public typealias FunctionService = ApplicationService<Function>

extension ApplicationService where A == Function {
    /// Largest accepted code archive (Scaleway's limit for a zip upload).
    public static var maxArchiveBytes: Int { 100 * 1024 * 1024 }
    /// Lifetime of a pre-signed URL (the recorded S3 URLs say `X-Amz-Expires=3600`).
    static var urlLifetimeSeconds: Int64 { 3600 }

    /// A pre-signed upload grant for exactly `contentLength` bytes; returns the token to put in the URL.
    public func uploadGrant(_ id: FunctionID, contentLength: Int?, region: Region, by principal: Principal) throws(ScwError) -> String {
        guard let contentLength else { throw .invalid("content_length", .required, "content_length is required") }
        guard (1...Self.maxArchiveBytes).contains(contentLength) else {
            throw .invalid("content_length", .constraint, "content_length must be between 1 and \(Self.maxArchiveBytes) bytes")
        }
        _ = try get(id, region: region, by: principal)
        return try grant(id, purpose: "upload", contentLength: contentLength)
    }

    /// A pre-signed download grant for the uploaded archive (404 `Function was not found` if none was uploaded).
    public func downloadGrant(_ id: FunctionID, region: Region, by principal: Principal) throws(ScwError) -> String {
        let f = try get(id, region: region, by: principal)
        guard f.hasCode else { throw .notFound(.function, id: id.rawValue) }
        return try grant(id, purpose: "download", contentLength: 0)
    }

    /// Stores an archive given whole (fixtures); false when the grant does not match (expired, used, wrong size).
    public func acceptUpload(_ id: FunctionID, token: String, archive: Data) throws(ScwError) -> Bool {
        try database.storeUpload(token: token, function: id, archive: archive, now: clock.now())
    }

    /// The number of bytes an upload URL's token grants (checked before its body is read); nil when it grants none:
    /// unknown, expired, used, or for another function.
    public func grantedUploadSize(_ id: FunctionID, token: String) throws(ScwError) -> Int? {
        try database.uploadGrantSize(token: token, function: id, now: clock.now())
    }

    /// A private file (0600) to receive the body of a PUT to an upload URL as it arrives.
    public func stageUpload(_ id: FunctionID) throws(ScwError) -> StagedFile {
        do { return try workspace.makeFile("upload-\(id.rawValue)") } catch {
            throw .unavailable("the upload could not be received: no private file could be created")
        }
    }

    /// Stores a received upload as the function's code; false when the grant does not match (expired, used, wrong
    /// size). The file is copied to the store in chunks, off the cooperative pool.
    public func acceptUpload(_ id: FunctionID, token: String, file: StagedFile) async throws(ScwError) -> Bool {
        file.close()
        let (database, path, size, now) = (database, file.url.path, file.size, clock.now())
        return try await offload { () -> Result<Bool, ScwError> in
            do throws(ScwError) { return .success(try database.storeUpload(token: token, function: id, file: path, size: size, now: now)) }
            catch { return .failure(error) }
        }.get()
    }

    /// The archive behind a download URL.
    public func download(_ id: FunctionID, token: String) throws(ScwError) -> Data? {
        try database.download(token: token, function: id, now: clock.now())
    }

    private func grant(_ id: FunctionID, purpose: String, contentLength: Int) throws(ScwError) -> String {
        let bytes = ids.nextBytes(count: 24)
        let token = bytes.map { String(format: "%02x", $0) }.joined()
        try database.grantURL(token: token, function: id, purpose: purpose, contentLength: contentLength,
                              expiresAt: clock.now().adding(nanoseconds: Self.urlLifetimeSeconds * 1_000_000_000))
        return token
    }
}

/// The server's own base URL (the bound host and the port actually listened on), which pre-signed URLs point at:
/// never a request's `Host` header, which the client chooses.
public final class ServerAddress: Sendable {
    private let base = Mutex("http://127.0.0.1:7290")

    /// Creates the default address (the embedded defaults).
    public init() {}

    /// `http://host:port`; the wildcard addresses (`0.0.0.0`, `::`) are shown as `127.0.0.1`, as the export line does.
    public var baseURL: String { base.withLock { $0 } }

    /// The host clients use for a bound host: the wildcard addresses (`0.0.0.0`, `::`) are shown as `127.0.0.1`
    /// (the export line, the ready file and the pre-signed URLs all show this).
    public static func shownHost(_ host: String) -> String {
        host == "0.0.0.0" || host == "::" || host.isEmpty ? "127.0.0.1" : host
    }

    /// Records the bound host and port.
    public func set(host: String, port: Int) {
        let shown = Self.shownHost(host)
        let bracketed = shown.contains(":") && !shown.hasPrefix("[") ? "[\(shown)]" : shown
        base.withLock { $0 = "http://\(bracketed):\(port)" }
    }
}
