/// Validation rules for namespaces and their variables, with Scaleway's messages where they are known.
/// Limits follow Scaleway's containers-limitations page (100 variables, 1,000 characters a value,
/// 100 secrets of at most 65,536 bytes; `PORT` and `SCW_*` reserved).
public enum NamespaceRules {
    /// Longest name accepted (a DNS label; the real limit is not documented).
    public static let maxNameLength = 63
    public static let maxDescriptionLength = 255
    public static let maxVariables = 100
    public static let maxVariableValueLength = 1000
    public static let maxSecrets = 100
    public static let maxSecretValueBytes = 65536
    public static let maxKeyLength = 256
    public static let maxTags = 100
    public static let maxTagLength = 128

    /// The real API's message (scaleway-cli #3165).
    public static let nameMessage = "namespace name must begin with a letter, followed by letters, numbers or hyphens, and end with a letter or number."

    /// Checks a namespace name: lower-case letter first, then letters, digits or hyphens, ending with a letter or digit.
    public static func nameProblem(_ name: String, argument: String = "name") -> ArgumentProblem? {
        let bytes = Array(name.utf8)
        func letter(_ b: UInt8) -> Bool { b >= 97 && b <= 122 }
        func digit(_ b: UInt8) -> Bool { b >= 48 && b <= 57 }
        guard let first = bytes.first, let last = bytes.last, letter(first), letter(last) || digit(last),
              bytes.allSatisfy({ letter($0) || digit($0) || $0 == 45 })
        else { return ArgumentProblem(argumentName: argument, reason: .constraint, helpMessage: nameMessage) }
        guard bytes.count <= maxNameLength else {
            return ArgumentProblem(argumentName: argument, reason: .constraint,
                                   helpMessage: "name must be at most \(maxNameLength) characters long")
        }
        return nil
    }

    /// Whether `key` is a usable variable name: a letter or `_` first, then letters, digits, `_`, `-` or `.`.
    public static func isValidVariableKey(_ key: String) -> Bool {
        let bytes = Array(key.utf8)
        func alpha(_ b: UInt8) -> Bool { (b >= 65 && b <= 90) || (b >= 97 && b <= 122) || b == 95 }
        guard let first = bytes.first, alpha(first), bytes.count <= maxKeyLength else { return false }
        return bytes.allSatisfy { alpha($0) || ($0 >= 48 && $0 <= 57) || $0 == 45 || $0 == 46 }
    }

    /// `PORT` and every `SCW_*` name are set by the platform.
    public static func isReservedVariableKey(_ key: String) -> Bool {
        key == "PORT" || key.uppercased().hasPrefix("SCW_")
    }

    /// Problems with a set of plain environment variables.
    public static func environmentProblems(_ env: [String: String], argument: String = "environment_variables") -> [ArgumentProblem] {
        var problems: [ArgumentProblem] = []
        if env.count > maxVariables {
            problems.append(.init(argumentName: argument, reason: .constraint,
                                  helpMessage: "at most \(maxVariables) environment variables are allowed"))
        }
        for (key, value) in env.sorted(by: { $0.key < $1.key }) {
            problems += keyProblems(key, argument: argument)
            if value.count > maxVariableValueLength {
                problems.append(.init(argumentName: "\(argument).\(key)", reason: .constraint,
                                      helpMessage: "value must be at most \(maxVariableValueLength) characters long"))
            }
            if value.utf8.contains(0) {
                problems.append(.init(argumentName: "\(argument).\(key)", reason: .format, helpMessage: "value must not contain NUL"))
            }
        }
        return problems
    }

    /// Problems with secret keys and plain values (before hashing).
    public static func secretProblems(_ secrets: [(key: String, value: String?)], argument: String = "secret_environment_variables") -> [ArgumentProblem] {
        var problems: [ArgumentProblem] = []
        if secrets.count > maxSecrets {
            problems.append(.init(argumentName: argument, reason: .constraint,
                                  helpMessage: "at most \(maxSecrets) secret environment variables are allowed"))
        }
        var seen = Set<String>()
        for (key, value) in secrets {
            problems += keyProblems(key, argument: argument)
            if !seen.insert(key).inserted {
                problems.append(.init(argumentName: "\(argument).\(key)", reason: .constraint, helpMessage: "key is listed twice"))
            }
            if let value, value.utf8.count > maxSecretValueBytes {
                problems.append(.init(argumentName: "\(argument).\(key)", reason: .constraint,
                                      helpMessage: "value must be at most \(maxSecretValueBytes) bytes long"))
            }
            if let value, value.utf8.contains(0) {
                problems.append(.init(argumentName: "\(argument).\(key)", reason: .format, helpMessage: "value must not contain NUL"))
            }
        }
        return problems
    }

    /// Problems with description and tags.
    public static func metadataProblems(description: String?, tags: [String]?) -> [ArgumentProblem] {
        var problems: [ArgumentProblem] = []
        if let description, description.count > maxDescriptionLength {
            problems.append(.init(argumentName: "description", reason: .constraint,
                                  helpMessage: "description must be at most \(maxDescriptionLength) characters long"))
        }
        if let tags {
            if tags.count > maxTags {
                problems.append(.init(argumentName: "tags", reason: .constraint, helpMessage: "at most \(maxTags) tags are allowed"))
            }
            for tag in tags where tag.count > maxTagLength || tag.utf8.contains(0) {
                problems.append(.init(argumentName: "tags", reason: .constraint,
                                      helpMessage: "each tag must be at most \(maxTagLength) characters, without NUL"))
                break
            }
        }
        return problems
    }

    private static func keyProblems(_ key: String, argument: String) -> [ArgumentProblem] {
        if !isValidVariableKey(key) {
            return [.init(argumentName: "\(argument).\(key)", reason: .format,
                          helpMessage: "variable names start with a letter or underscore, followed by letters, digits, '_', '-' or '.'")]
        }
        if isReservedVariableKey(key) {
            return [.init(argumentName: "\(argument).\(key)", reason: .constraint,
                          helpMessage: "PORT and SCW_* variables are reserved by the platform")]
        }
        return []
    }
}
