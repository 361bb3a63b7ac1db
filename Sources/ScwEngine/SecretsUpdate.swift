import ScwDomain

/// Secret semantics shared by namespaces and containers: v1beta1 merges, v1 replaces and keeps
/// `""`-valued keys. New values are hashed before any transaction opens (Argon2id is slow by design).
enum SecretsUpdate {
    /// Problems with the keys and plain values of a change.
    static func problems(_ change: SecretChange) -> [ArgumentProblem] {
        switch change {
        case .unchanged: return []
        case .merge(let entries): return NamespaceRules.secretProblems(entries)
        case .replace(let map): return NamespaceRules.secretProblems(map.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })
        }
    }

    /// Problems with the secrets a change leaves: a v1beta1 merge can go past the limits that each request keeps to.
    /// Checked as on creation (count, keys, sizes of the values still known in clear); nothing to check when unchanged.
    static func resultProblems(_ change: SecretChange, _ result: [HashedSecret], plain: [String: String]) -> [ArgumentProblem] {
        if case .unchanged = change { return [] }
        return NamespaceRules.secretProblems(result.map { ($0.key, plain[$0.key]) })
    }

    /// Hashes every new plain value of a change, keyed by variable name, at the configured cost (`--secret-hash-cost`),
    /// with the salts `ids` gives (random, or fixed under `--deterministic-ids`).
    static func hash(_ change: SecretChange, profile: SecretHashProfile, cost: SecretHashCost, ids: any IDSource = RandomIDSource()) async -> [String: String] {
        let values: [(String, String)]
        switch change {
        case .unchanged: return [:]
        case .merge(let entries): values = entries.compactMap { e in e.value.map { (e.key, $0) } }
        case .replace(let map): values = map.filter { !$0.value.isEmpty }.map { ($0.key, $0.value) }
        }
        if values.isEmpty { return [:] }
        return await offload { Dictionary(values.map { ($0.0, SecretHasher.hash($0.1, profile: profile, cost: cost, salt: ids.salt(for: $0.1))) }, uniquingKeysWith: { a, _ in a }) }
    }

    /// The plain values after a change (same semantics as the hashes: merge, or replace keeping `""`-valued keys).
    static func applyPlain(_ change: SecretChange, to current: [String: String]) -> [String: String] {
        switch change {
        case .unchanged:
            return current
        case .merge(let entries):
            var result = current
            for (key, value) in entries { result[key] = value }
            return result
        case .replace(let map):
            var result: [String: String] = [:]
            for (key, value) in map {
                if !value.isEmpty { result[key] = value } else if let kept = current[key] { result[key] = kept }
            }
            return result
        }
    }

    /// The secrets after a change, given the hashes of its new values.
    static func apply(_ change: SecretChange, to current: [HashedSecret], fresh: [String: String]) -> [HashedSecret] {
        switch change {
        case .unchanged:
            return current
        case .merge(let entries):
            var result = current
            for (key, value) in entries {
                if value == nil {
                    result.removeAll { $0.key == key }
                } else if let hash = fresh[key] {
                    if let i = result.firstIndex(where: { $0.key == key }) { result[i].hashedValue = hash } else {
                        result.append(HashedSecret(key: key, hashedValue: hash))
                    }
                }
            }
            return result
        case .replace(let map):
            return map.keys.sorted().compactMap { key in
                if let hash = fresh[key] { return HashedSecret(key: key, hashedValue: hash) }
                // "" keeps the current secret; a new key with "" has nothing to keep.
                return current.first { $0.key == key }
            }
        }
    }
}
