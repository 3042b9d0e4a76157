import COTLPCurl
import Foundation

/// gzip (RFC 1952) compression of OTLP request bodies (`OTEL_EXPORTER_OTLP_COMPRESSION=gzip`),
/// with the zlib that libcurl already links: libcurl decompresses responses but never compresses
/// request bodies, and no Swift package in reach does gzip without pulling in a server framework.
enum Gzip {
    struct Failure: Error, CustomStringConvertible {
        let code: Int32
        var description: String { "zlib error \(code)" }
    }

    static func compress(_ input: Data, level: Int32 = 6) throws -> Data {
        var stream = z_stream()
        var status = qm_deflate_init_gzip(&stream, level)
        guard status == Z_OK else { throw Failure(code: status) }
        defer { deflateEnd(&stream) }
        var output = Data(count: Int(deflateBound(&stream, UInt(input.count))) + 32)
        let produced: Int = try input.withUnsafeBytes { (source: UnsafeRawBufferPointer) in
            try output.withUnsafeMutableBytes { (target: UnsafeMutableRawBufferPointer) in
                stream.next_in = UnsafeMutablePointer(mutating: source.bindMemory(to: Bytef.self).baseAddress)
                stream.avail_in = uInt(source.count)
                stream.next_out = target.bindMemory(to: Bytef.self).baseAddress
                stream.avail_out = uInt(target.count)
                status = deflate(&stream, Z_FINISH)
                guard status == Z_STREAM_END else { throw Failure(code: status) }
                return Int(stream.total_out)
            }
        }
        output.count = produced
        return output
    }
}
