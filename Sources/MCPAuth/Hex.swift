import Crypto

/// Lower-case hex of bytes and SHA-256 digests. Hand-written because `String(format: "%02x")` per
/// byte cost 50 µs per API key check on Linux (`bench auth`), more than everything else in it.
enum Hex {
    private static let digits = Array("0123456789abcdef".utf8)

    static func encode<Bytes: Sequence>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
        var out: [UInt8] = []
        out.reserveCapacity(64)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Hex SHA-256 of the UTF-8 of `text`.
    static func sha256(_ text: String) -> String {
        encode(SHA256.hash(data: Array(text.utf8)))
    }
}
