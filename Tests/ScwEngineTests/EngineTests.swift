import Foundation
import Testing

@testable import ScwEngine

/// The pieces of the container runtime that need no engine: reading the engine's multiplexed log stream, the image
/// reference a pull asks for, which socket is used, and which containers the start-up sweep removes.
@Suite struct EngineTests {
    /// One frame of Docker's log stream: stream (1 stdout, 2 stderr), three zero bytes, big-endian length, payload.
    static func frame(_ stream: UInt8, _ text: String) -> [UInt8] {
        let payload = Array(text.utf8)
        let size = UInt32(payload.count)
        return [stream, 0, 0, 0, UInt8(size >> 24), UInt8(size >> 16 & 0xff), UInt8(size >> 8 & 0xff), UInt8(size & 0xff)] + payload
    }

    @Test func framesAreSplitIntoStdoutAndStderrWhateverTheChunks() {
        let stream = Self.frame(1, "listening\n") + Self.frame(2, "warning: slow\n") + Self.frame(1, "")
        // Every way of cutting the stream gives the same payloads in the same order.
        for cut in 0...stream.count {
            let demux = LogDemultiplexer()
            let frames = demux.feed(stream[..<cut]) + demux.feed(stream[cut...])
            let read = frames.map { "\($0.stream):\(String(decoding: $0.payload, as: UTF8.self))" }
            #expect(read == ["stdout:listening\n", "stderr:warning: slow\n", "stdout:"], "cut at \(cut)")
        }
    }

    @Test func aStreamWithoutFrameHeadersIsRawStdout() {
        let demux = LogDemultiplexer()
        let frames = demux.feed(Array("plain output\n".utf8))
        #expect(frames.count == 1 && frames[0].stream == "stdout" && frames[0].payload == Array("plain output\n".utf8))
    }

    @Test func aPullNamesOneTagNeverAllOfThem() {
        func split(_ image: String) -> [String] {
            let reference = EngineSupervisor.splitReference(image)
            return [reference.name, reference.tag]
        }
        #expect(split("nginx") == ["nginx", "latest"])
        #expect(split("rg.fr-par.scw.cloud/team/api:1.0") == ["rg.fr-par.scw.cloud/team/api", "1.0"])
        #expect(split("localhost:5000/api") == ["localhost:5000/api", "latest"])
        #expect(split("api@sha256:abc") == ["api", "sha256:abc"])
    }

    @Test func theSocketIsDockerHostsOrAWellKnownOne() throws {
        #expect(try EngineEndpoint.locate(environment: ["DOCKER_HOST": "unix:///tmp/engine.sock"]).socketPath == "/tmp/engine.sock")
        // A TCP engine would carry the workloads' secrets in clear: refused.
        #expect(throws: EngineError.self) { try EngineEndpoint.locate(environment: ["DOCKER_HOST": "tcp://10.0.0.1:2375"]) }
    }

    @Test func theSweepRemovesWhatDeadRunsLeftOnly() {
        let me = EngineIdentity.current(databasePath: "/tmp/a/state.sqlite")
        let machine = EngineIdentity.machine()
        let instance = EngineIdentity.instanceLabel, server = EngineIdentity.serverLabel
        // The same store, started by an earlier server: left over.
        #expect(me.isLeftover([instance: me.instance, server: "\(machine)/999999999"]))
        // This server's own containers are never swept, whatever the store.
        #expect(!me.isLeftover([instance: me.instance, server: me.server]))
        // Another store's server that still runs (pid 1 stands for it): kept.
        #expect(!me.isLeftover([instance: "other", server: "\(machine)/1"]))
        // Another store's server that is gone from this machine: left over. On another machine: not ours to judge.
        #expect(me.isLeftover([instance: "other", server: "\(machine)/999999999"]))
        #expect(!me.isLeftover([instance: "other", server: "another-boot/pid:[1]/999999999"]))
        // Not the mock's at all.
        #expect(!me.isLeftover([:]))
        #expect(EngineIdentity.current(databasePath: "/tmp/b/state.sqlite").instance != me.instance)
    }
}
