import ArgumentParser
import Foundation
import ScwDomain
import ScwKeys
import ScwStore

/// `scw-mock keys …`: key files for fixtures.
struct Keys: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Manage RSA key files for seeded namespaces.", subcommands: [Generate.self, Export.self])

    /// `scw-mock keys generate --out FILE [--bits N]`.
    struct Generate: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Write a new RSA private key (PKCS#8 PEM) to a file.")

        @Option(help: "Where to write the key (created with mode 0600; an existing file is not overwritten).")
        var out: String
        @Option(help: "Key size in bits: 2048, 3072 or 4096.")
        var bits: Int = 4096

        func run() throws {
            guard [2048, 3072, 4096].contains(bits) else { throw ValidationError("bits must be 2048, 3072 or 4096") }
            guard !FileManager.default.fileExists(atPath: out) else { throw ValidationError("\(out) already exists") }
            let key = try NamespaceKey.generate(bits: bits)
            guard FileManager.default.createFile(atPath: out, contents: Data(key.privatePEM.utf8), attributes: [.posixPermissions: 0o600]) else {
                throw ValidationError("cannot write \(out)")
            }
            print("wrote a \(bits)-bit RSA key to \(out)")
        }
    }
}

extension Keys {
    /// `scw-mock keys export --database PATH --namespace-id ID --out FILE`: the one way a namespace's private key leaves
    /// the store on purpose (besides `GET /_mock/state`, an export of test data), e.g. to pin it in a fixture's key_file.
    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a namespace's private key (PEM) from a mock's database to a file.",
            discussion: "Reads the SQLite store (also while the server runs). Exit codes: 0 written; 1 no such database, namespace or key; 64 bad arguments.")

        @Option(help: "The mock's SQLite file (serve's --database).")
        var database: String = ".scw-mock/state.sqlite"
        @Option(help: "The namespace whose key to export.")
        var namespaceId: String
        @Option(help: "Where to write the key (created with mode 0600; an existing file is not overwritten).")
        var out: String

        func run() throws {
            guard let id = NamespaceID(namespaceId) else { throw ValidationError("namespace id must be a UUID") }
            guard FileManager.default.fileExists(atPath: database) else { throw fail("no database at \(database)") }
            guard !FileManager.default.fileExists(atPath: out) else { throw ValidationError("\(out) already exists") }
            let store = try AppDatabase.open(path: database)
            guard let pem = try store.namespaceKeyPEM(id) else {
                throw fail(try store.namespace(id: id) == nil ? "no namespace \(namespaceId)" : "namespace \(namespaceId) has no key yet")
            }
            guard FileManager.default.createFile(atPath: out, contents: Data(pem.utf8), attributes: [.posixPermissions: 0o600]) else {
                throw ValidationError("cannot write \(out)")
            }
            print("wrote the key of namespace \(namespaceId) to \(out)")
        }

        private func fail(_ message: String) -> ExitCode {
            FileHandle.standardError.write(Data("error: \(message)\n".utf8))
            return ExitCode(1)
        }
    }
}

/// `scw-mock token …`: offline token checks.
struct TokenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "token", abstract: "Work with Scaleway serverless tokens.",
                                                    subcommands: [Verify.self])

    /// `scw-mock token verify --public-key FILE [--namespace-id ID] [--container-id ID] TOKEN`.
    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Verify a token offline with the same strict rules as the gateway; print its claims or why it fails.",
            discussion: """
            RS256 only; no crit; canonical base64url; exp checked strictly (now < exp); nbf and iat with a \(TokenVerifier.defaultLeewaySeconds) s \
            leeway. On success prints "valid" and the token's payload JSON as sent.

            Exit codes: 0 valid; 1 refused (the reason is printed); 2 the public key file is missing, unreadable or \
            not an RSA public key; 64 bad arguments.
            """)

        @Option(help: "PEM public key (PKCS#1 or SPKI), e.g. the tokens API's public_key or /_mock/namespaces/ID/public-key.")
        var publicKey: String
        @Option(help: "The namespace the token must grant.")
        var namespaceId: String?
        @Option(help: "The container (or function) the token must grant.")
        var containerId: String?
        @Argument(help: "The JWT.")
        var token: String

        func run() throws {
            guard namespaceId != nil || containerId != nil else { throw ValidationError("give --namespace-id, --container-id or both") }
            let key: NamespacePublicKey
            do {
                key = try NamespacePublicKey(pem: try String(contentsOfFile: publicKey, encoding: .utf8))
            } catch {
                let why = FileManager.default.isReadableFile(atPath: publicKey) ? "not a PEM RSA public key" : "cannot read the file"
                FileHandle.standardError.write(Data("error: --public-key \(publicKey): \(why)\n".utf8))
                throw ExitCode(2)
            }
            let target = TokenTarget(namespaceID: namespaceId ?? "", applicationID: containerId)
            var now = timespec()
            clock_gettime(CLOCK_REALTIME, &now)
            do {
                _ = try TokenVerifier(publicKey: key).verify(token, for: target, nowNanoseconds: Int64(now.tv_sec) * 1_000_000_000 + Int64(now.tv_nsec))
                // The payload as the token carries it (an `aud` array, extra members), not claims rebuilt from the model.
                let payload = Base64URL.decode(token.split(separator: ".", omittingEmptySubsequences: false)[1])!
                print("valid")
                print(String(decoding: payload, as: UTF8.self))
            } catch {
                print("invalid: \(error)")
                throw ExitCode(1)
            }
        }
    }
}
