import FoundationEssentials
public import WIFCore

/// wif's own signing keys, kept as PEM files (`*.pem`, PKCS#8 P-256) in a keys folder.
///
/// Every key in the folder is published in the JWKS. With one key, it signs; with several, the file
/// `active` names the `kid` that signs (the others stay published for rotation by overlap).
public struct SigningKeyStore: Sendable {
    public let folder: String

    public init(folder: String) {
        self.folder = folder
    }

    /// The loaded keys: the active signer and every key to publish.
    public struct Keys: Sendable {
        public let active: SigningKey
        public let published: [SigningKey]
    }

    /// Loads the keys; when the folder has none and `generateIfMissing` is set, creates one first
    /// (mode 0600), as `wif serve` does on a developer's first start.
    public func load(generateIfMissing: Bool) throws -> Keys {
        let state = StateDirectory(path: folder)
        var names = (try? FileManager.default.contentsOfDirectory(atPath: folder))?.filter { $0.hasSuffix(".pem") }.sorted() ?? []
        if names.isEmpty {
            guard generateIfMissing else { throw SigningKeyError("no signing key (*.pem) in \(folder)") }
            try state.ensureFolder("")
            let key = SigningKey.generate()
            try state.writeSecret("\(key.keyID).pem", key.pemRepresentation)
            names = ["\(key.keyID).pem"]
        }
        var keys: [SigningKey] = []
        for name in names {
            guard let pem = try state.read(name) else { continue }
            do {
                keys.append(try SigningKey(pem: pem))
            } catch {
                throw SigningKeyError("\(folder)/\(name) is not a P-256 private key in PEM form")
            }
        }
        if keys.count == 1 { return Keys(active: keys[0], published: keys) }
        guard let activeID = try state.read("active")?.split(whereSeparator: \.isWhitespace).first.map(String.init) else {
            throw SigningKeyError("\(folder) holds \(keys.count) keys: name the signing one's kid in \(folder)/active")
        }
        guard let active = keys.first(where: { $0.keyID == activeID }) else {
            throw SigningKeyError("\(folder)/active names kid \(activeID), which no key in the folder has")
        }
        return Keys(active: active, published: keys)
    }
}

public struct SigningKeyError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
