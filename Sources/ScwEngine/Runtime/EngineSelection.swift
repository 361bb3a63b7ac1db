import Foundation
import Logging

/// What runs deployed containers (`--runtime`): local processes, a container engine, or the engine when one answers.
/// Functions always run as processes. Chosen by the operator on the command line (trusted).
public enum RuntimeMode: String, Sendable, CaseIterable {
    case process, container, auto
}

/// Finds the engine `--runtime container|auto` asks for.
public enum EngineSelection {
    /// The engine to use: nil for `process`, and for `auto` when no engine answers `GET /_ping`; `container` without an
    /// answering engine throws, so that a CI job meant to run real images does not silently run processes instead.
    public static func resolve(_ mode: RuntimeMode, environment: [String: String], logger: Logger) async throws(EngineError) -> EngineClient? {
        guard mode != .process else { return nil }
        do throws(EngineError) {
            let client = EngineClient(endpoint: try EngineEndpoint.locate(environment: environment))
            let ping = try await client.call(.GET, "/_ping", timeout: .seconds(3))
            guard ping.status == 200 else {
                throw EngineError("the engine at unix://\(client.endpoint.socketPath) answered \(ping.status) to /_ping: \(ping.errorMessage)")
            }
            let version = await version(of: client)
            logger.info("containers run through the engine", metadata: ["socket": "\(client.endpoint.socketPath)", "engine": "\(version)"])
            return client
        } catch {
            guard mode == .auto else { throw EngineError("--runtime container: \(error.message)") }
            logger.info("no container engine answers: containers run as local processes", metadata: ["reason": "\(error.message)"])
            return nil
        }
    }

    /// The engine's name and version as `GET /version` tells them (`Podman Engine 4.3.1`, `Docker Engine 27.3.1`).
    static func version(of client: EngineClient) async -> String {
        struct Answer: Decodable {
            struct Component: Decodable { var Name: String; var Version: String }
            var Version: String?
            var ApiVersion: String?
            var Components: [Component]?
        }
        guard let answer = try? await client.json(.GET, "/version", body: nil as String?, as: Answer.self, timeout: .seconds(3)) else {
            return "unknown"
        }
        let main = answer.Components?.first { $0.Name.hasSuffix("Engine") }
        return "\(main.map { "\($0.Name) \($0.Version)" } ?? "engine \(answer.Version ?? "?")") (API \(answer.ApiVersion ?? "?"))"
    }
}
