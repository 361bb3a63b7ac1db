import ScwDomain
import Testing

@Suite struct SecretHasherTests {
    @Test func legacyProfileMatchesScalewayV1Beta1() {
        let hash = SecretHasher.hash("test_secret", profile: .legacy)
        #expect(hash.hasPrefix("$argon2id$v=19$m=65536,t=1,p=2$"))
        let parts = hash.split(separator: "$")
        #expect(parts.count == 5)
        #expect(parts[3].count == 22)  // 16-byte salt, base64 without padding
        #expect(parts[4].count == 43)  // 32-byte hash
        #expect(SecretHasher.verify("test_secret", against: hash))
        #expect(!SecretHasher.verify("test_secreT", against: hash))
    }

    @Test func v1ProfileMatchesScalewayV1() {
        let hash = SecretHasher.hash("value1", profile: .containersV1)
        #expect(hash.hasPrefix("$argon2id$v=19$m=65536,t=3,p=64$"))
        #expect(SecretHasher.verify("value1", against: hash))
    }

    @Test func saltIsFreshForEveryHash() {
        #expect(SecretHasher.hash("x", profile: .legacy) != SecretHasher.hash("x", profile: .legacy))
    }

    @Test func constantTimeEquality() {
        #expect(ConstantTime.equals("abc", "abc"))
        #expect(!ConstantTime.equals("abc", "abd"))
        #expect(!ConstantTime.equals("abc", "abcd"))
        #expect(!ConstantTime.equals("", "a"))
    }
}
