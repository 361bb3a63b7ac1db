import Foundation
import ScwDomain
import ScwStore

/// What the runtime launches for one deploy: the command, where it runs, the variables the kind adds, the HTTP path
/// readiness is probed on, and a function's unpacked code (removed when the next deploy replaces it).
struct LaunchPlan: Sendable {
    var command: [String]
    var workingDirectory: String?
    /// Variables the kind or a fixture mapping adds under the application's own (which win).
    var environment: [String: String]
    var httpProbePath: String?
    var codeFolder: URL?
}

/// Why a deploy cannot launch anything (becomes the application's `error_message`).
struct LaunchRefusal: Error {
    var message: String
}

/// The runtime's kind hooks: what a container or function runs, and how a failure reads in `error_message`.
protocol RunnableApplication: StoredApplication {
    func launchPlan(in runtime: RuntimeCoordinator) async -> Result<LaunchPlan, LaunchRefusal>
    func failureMessage(_ why: String) -> String
}

extension Container: RunnableApplication {
    /// What runs: the fixtures' mapping for the image, else the container's command and args, else the sample app.
    func launchPlan(in runtime: RuntimeCoordinator) async -> Result<LaunchPlan, LaunchRefusal> {
        var plan = LaunchPlan(command: spec.command.isEmpty ? runtime.settings.sampleAppCommand : spec.command + spec.args,
                              environment: spec.environmentVariables)
        if let mapping = runtime.mappings.withLock({ $0.images.first { !$0.command.isEmpty && $0.matches(spec.image) } }) {
            plan.command = mapping.command + (spec.command.isEmpty ? spec.args : [])
            plan.workingDirectory = mapping.workingDirectory
            plan.environment = mapping.environment.merging(spec.environmentVariables) { _, new in new }
        }
        plan.httpProbePath = httpProbePath
        return .success(plan)
    }

    /// The path of the container's HTTP probe (startup, else liveness); nil for a TCP probe.
    var httpProbePath: String? {
        if case .http(let path) = (spec.startupProbe ?? spec.livenessProbe).check { return path }
        return nil
    }

    /// Scaleway's own wording first, then what the mock saw. An image the engine could not pull reads as Scaleway's
    /// "Image was not found in container registry." followed by the engine's reason.
    func failureMessage(_ why: String) -> String {
        if why.hasPrefix(EngineSupervisor.imageNotFoundMessage) { return why }
        if case .http(let path) = (spec.startupProbe ?? spec.livenessProbe).check {
            return "Container is unable to start OR does not respond to HTTP requests on port \(spec.port) and path \(path): \(why)"
        }
        return "Container is unable to start OR is not listening on port \(spec.port): \(why)"
    }
}

extension Function: RunnableApplication {
    /// What runs: a fixture mapping for the runtime runs its command in the unpacked code, with the handler in
    /// SCW_HANDLER; without one, the sample app. A function without uploaded code fails as Scaleway's does.
    func launchPlan(in runtime: RuntimeCoordinator) async -> Result<LaunchPlan, LaunchRefusal> {
        guard hasCode else { return .failure(LaunchRefusal(message: Function.noCodeMessage)) }
        var env = spec.environmentVariables
        env["SCW_HANDLER"] = spec.handler
        env["SCW_RUNTIME"] = spec.runtime
        var plan = LaunchPlan(command: runtime.settings.sampleAppCommand, environment: env)
        guard let mapping = runtime.mappings.withLock({ $0.runtimes.first { $0.matches(spec.runtime) } }) else { return .success(plan) }
        guard let archive = try? runtime.database.functionArchive(id) else {
            return .failure(LaunchRefusal(message: "the uploaded archive could not be unpacked as a zip file"))
        }
        // Unpacking is disk and CPU work: off the cooperative pool (`offload`).
        let key = id.rawValue
        switch await offload({ runtime.unpack(archive, for: key) }) {
        case .failure(let refusal): return .failure(LaunchRefusal(message: refusal.message))
        case .success(let folder): plan.codeFolder = folder
        }
        plan.command = mapping.command
        plan.workingDirectory = plan.codeFolder?.path
        plan.environment = mapping.environment.merging(env) { _, new in new }
        return .success(plan)
    }

    func failureMessage(_ why: String) -> String { why }
}
