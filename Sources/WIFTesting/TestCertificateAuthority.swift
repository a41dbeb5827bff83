import Crypto
public import Foundation
import SwiftASN1
import X509

/// A certificate authority made at test time, and a server certificate it signed for `127.0.0.1` and
/// `localhost`, written as PEM files so that wif's TLS listener and real clients (which trust the CA file)
/// meet as they would in production.
public struct TestCertificateAuthority: Sendable {
    /// The CA certificate, PEM: what clients trust.
    public let caFile: URL
    /// The server's certificate chain and key, PEM: what `wif serve --tls-certificate --tls-key` reads.
    public let certificateFile: URL
    public let keyFile: URL
    public let caPEM: String

    private let caKey: P256.Signing.PrivateKey
    private let caName: DistinguishedName

    /// Creates the CA and a first server certificate in `folder`.
    public init(in folder: URL, commonName: String = "wif test CA") throws {
        caKey = P256.Signing.PrivateKey()
        caName = try DistinguishedName { CommonName(commonName) }
        let now = Date()
        let ca = try Certificate(
            version: .v3,
            serialNumber: Certificate.SerialNumber(),
            publicKey: Certificate.PublicKey(caKey.publicKey),
            notValidBefore: now.addingTimeInterval(-60),
            notValidAfter: now.addingTimeInterval(24 * 3600),
            issuer: caName,
            subject: caName,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                Critical(KeyUsage(keyCertSign: true, cRLSign: true))
            },
            issuerPrivateKey: Certificate.PrivateKey(caKey)
        )
        caPEM = try ca.serializeAsPEM().pemString
        caFile = folder.appendingPathComponent("ca.pem")
        certificateFile = folder.appendingPathComponent("tls.crt")
        keyFile = folder.appendingPathComponent("tls.key")
        try caPEM.write(to: caFile, atomically: true, encoding: .utf8)
        try issueServerCertificate()
    }

    /// Writes a fresh server key and certificate over ``certificateFile`` and ``keyFile`` (renewal), and
    /// returns the certificate's serial number, for telling one certificate from the next.
    @discardableResult
    public func issueServerCertificate() throws -> String {
        let key = P256.Signing.PrivateKey()
        let serial = Certificate.SerialNumber()
        let now = Date()
        let certificate = try Certificate(
            version: .v3,
            serialNumber: serial,
            publicKey: Certificate.PublicKey(key.publicKey),
            notValidBefore: now.addingTimeInterval(-60),
            notValidAfter: now.addingTimeInterval(24 * 3600),
            issuer: caName,
            subject: try DistinguishedName { CommonName("localhost") },
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true))
                try ExtendedKeyUsage([.serverAuth])
                SubjectAlternativeNames([.dnsName("localhost"), .ipAddress(ASN1OctetString(contentBytes: [127, 0, 0, 1]))])
            },
            issuerPrivateKey: Certificate.PrivateKey(caKey)
        )
        try key.pemRepresentation.write(to: keyFile, atomically: true, encoding: .utf8)
        try certificate.serializeAsPEM().pemString.write(to: certificateFile, atomically: true, encoding: .utf8)
        return serial.description
    }
}
