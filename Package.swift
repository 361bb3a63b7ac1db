// swift-tools-version:6.1
import PackageDescription

// Layers (see README "Layout"): Domain <- Store <- Engine <- API <- App <- CLI.
// Each layer is its own target so that the API cannot reach SQL and the domain knows no JSON or HTTP.
let package = Package(
    name: "scw-mock",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "scw-mock", targets: ["scw-mock"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        // Function archives: zipped (fixtures' `code:` folders) and unpacked with limits, in process.
        .package(url: "https://github.com/weichsel/ZIPFoundation.git", from: "0.9.20"),
        // Workload processes: launched with their own process group, output read as async streams, torn down in steps.
        .package(url: "https://github.com/swiftlang/swift-subprocess.git", from: "1.0.2"),
    ],
    targets: [
        // Debian's libargon2 (libargon2-dev): Argon2id PHC strings for secret environment variables.
        .systemLibrary(name: "CArgon2", providers: [.apt(["libargon2-dev"])]),
        .target(name: "CProcessShim"),
        .target(
            name: "ScwDomain",
            dependencies: [
                "CArgon2",
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // RSA keys, Scaleway-exact RS256 tokens and the strict verifier.
        .target(
            name: "ScwKeys",
            dependencies: [
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
            ]
        ),
        .target(
            name: "ScwStore",
            dependencies: ["ScwDomain", .product(name: "GRDB", package: "GRDB.swift")]
        ),
        .target(
            name: "ScwEngine",
            dependencies: [
                "ScwDomain", "ScwStore", "ScwKeys",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "ZIPFoundation", package: "ZIPFoundation"),
                .product(name: "Subprocess", package: "swift-subprocess"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        .target(
            name: "ScwAPI",
            dependencies: [
                "ScwDomain", "ScwEngine", "ScwKeys",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "NIOHTTPTypesHTTP1", package: "swift-nio-extras"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ]
        ),
        .target(
            name: "ScwMockApp",
            dependencies: [
                "ScwDomain", "ScwStore", "ScwEngine", "ScwAPI", "ScwKeys",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "ZIPFoundation", package: "ZIPFoundation"),
            ]
        ),
        .executableTarget(
            name: "scw-mock",
            dependencies: [
                "ScwMockApp", "ScwEngine", "ScwStore", "ScwDomain", "ScwKeys", "CProcessShim",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .testTarget(name: "ScwDomainTests", dependencies: ["ScwDomain"]),
        .testTarget(name: "ScwKeysTests", dependencies: ["ScwKeys"]),
        .testTarget(name: "ScwStoreTests", dependencies: ["ScwStore", "ScwDomain"]),
        .testTarget(
            name: "ScwEngineTests",
            dependencies: [
                "ScwDomain", "ScwEngine",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Subprocess", package: "swift-subprocess"),
            ]
        ),
        .testTarget(
            name: "ScwAPITests",
            dependencies: [
                "ScwMockApp", "ScwAPI", "ScwDomain", "ScwKeys", "ScwEngine", "ScwStore",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ],
            exclude: ["Golden"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
