import COTLPCurl
import Foundation

/// A minimal blocking HTTP POST client over libcurl's easy interface, used by the OTLP exporter on
/// its worker thread. Hand-written because no listed Swift package wraps libcurl; the handle is
/// reused across requests so connections are kept alive. Not thread-safe: one owner at a time.
final class CurlHTTPClient {
    struct Response {
        var status: Int
        /// Response headers with lowercased names (last value wins).
        var headers: [String: String]
        var body: Data
    }

    /// TLS material for https endpoints (PEM files).
    struct TLSFiles: Sendable, Equatable {
        var caFile: String?
        var clientCertificateFile: String?
        var clientKeyFile: String?
    }

    struct Failure: Error, CustomStringConvertible {
        let code: CURLcode
        let message: String
        var isTimeout: Bool { code == CURLE_OPERATION_TIMEDOUT }
        var description: String { message }
    }

    private static let globalInit: Void = {
        curl_global_init(Int(CURL_GLOBAL_ALL))
    }()

    private var handle: UnsafeMutableRawPointer?

    init() {
        _ = Self.globalInit
        handle = curl_easy_init()
    }

    deinit {
        if let handle { curl_easy_cleanup(handle) }
    }

    /// POSTs `body`. `shouldAbort` is polled while the transfer runs (libcurl's progress callback,
    /// at least once a second) so a shutdown deadline can cut a hung request short.
    func post(
        url: String, headers: [(String, String)], body: Data, timeout: Duration, tls: TLSFiles,
        shouldAbort: @escaping () -> Bool = { false }
    ) throws -> Response {
        guard let handle else { throw Failure(code: CURLE_FAILED_INIT, message: "libcurl could not create a handle") }
        curl_easy_reset(handle)
        let accumulator = Accumulator(shouldAbort: shouldAbort)
        let opaque = Unmanaged.passUnretained(accumulator).toOpaque()
        var list: UnsafeMutablePointer<curl_slist>?
        for (name, value) in headers {
            list = curl_slist_append(list, "\(name): \(value)")
        }
        // libcurl adds "Expect: 100-continue" for larger bodies; an OTLP collector need not
        // support it and it costs a round trip.
        list = curl_slist_append(list, "Expect:")
        defer { curl_slist_free_all(list) }

        let timeoutMs = max(1, Int(timeout.seconds * 1000))
        qm_curl_setopt_string(handle, CURLOPT_URL, url)
        qm_curl_setopt_long(handle, CURLOPT_NOSIGNAL, 1)
        qm_curl_setopt_long(handle, CURLOPT_POST, 1)
        qm_curl_setopt_long(handle, CURLOPT_TIMEOUT_MS, timeoutMs)
        qm_curl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, min(timeoutMs, 10_000))
        qm_curl_setopt_long(handle, CURLOPT_FOLLOWLOCATION, 0)
        qm_curl_setopt_long(handle, CURLOPT_SSL_VERIFYPEER, 1)
        qm_curl_setopt_long(handle, CURLOPT_SSL_VERIFYHOST, 2)
        qm_curl_setopt_string(handle, CURLOPT_PROTOCOLS_STR, "http,https")
        if let ca = tls.caFile { qm_curl_setopt_string(handle, CURLOPT_CAINFO, ca) }
        if let cert = tls.clientCertificateFile { qm_curl_setopt_string(handle, CURLOPT_SSLCERT, cert) }
        if let key = tls.clientKeyFile { qm_curl_setopt_string(handle, CURLOPT_SSLKEY, key) }
        qm_curl_setopt_slist(handle, CURLOPT_HTTPHEADER, list)
        qm_curl_setopt_write_callback(handle, curlWriteBody)
        qm_curl_setopt_pointer(handle, CURLOPT_WRITEDATA, opaque)
        qm_curl_setopt_header_callback(handle, curlWriteHeader)
        qm_curl_setopt_pointer(handle, CURLOPT_HEADERDATA, opaque)
        qm_curl_setopt_long(handle, CURLOPT_NOPROGRESS, 0)
        qm_curl_setopt_xferinfo_callback(handle, curlProgress)
        qm_curl_setopt_pointer(handle, CURLOPT_XFERINFODATA, opaque)

        let code: CURLcode = body.withUnsafeBytes { raw in
            qm_curl_setopt_long(handle, CURLOPT_POSTFIELDSIZE, raw.count)
            qm_curl_setopt_pointer(handle, CURLOPT_POSTFIELDS, UnsafeMutableRawPointer(mutating: raw.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!))
            return curl_easy_perform(handle)
        }
        if code == CURLE_ABORTED_BY_CALLBACK {
            throw Failure(code: CURLE_OPERATION_TIMEDOUT, message: "aborted: the export deadline passed")
        }
        guard code == CURLE_OK else {
            throw Failure(code: code, message: String(cString: curl_easy_strerror(code)))
        }
        var status = 0
        qm_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        return Response(status: status, headers: accumulator.headers, body: accumulator.body)
    }

    /// Collects the response while libcurl runs (only touched from the calling thread).
    final class Accumulator {
        let shouldAbort: () -> Bool
        var body = Data()
        var headers: [String: String] = [:]
        /// Caps what we keep of a response body: collectors answer with small status messages.
        static let maxBody = 64 * 1024

        init(shouldAbort: @escaping () -> Bool) {
            self.shouldAbort = shouldAbort
        }
    }
}

private func curlWriteBody(_ data: UnsafeMutablePointer<CChar>?, _ size: Int, _ count: Int, _ user: UnsafeMutableRawPointer?) -> Int {
    let length = size * count
    guard let data, let user else { return length }
    let accumulator = Unmanaged<CurlHTTPClient.Accumulator>.fromOpaque(user).takeUnretainedValue()
    let room = CurlHTTPClient.Accumulator.maxBody - accumulator.body.count
    if room > 0 {
        accumulator.body.append(UnsafeRawPointer(data).assumingMemoryBound(to: UInt8.self), count: min(room, length))
    }
    return length
}

private func curlWriteHeader(_ data: UnsafeMutablePointer<CChar>?, _ size: Int, _ count: Int, _ user: UnsafeMutableRawPointer?) -> Int {
    let length = size * count
    guard let data, let user else { return length }
    let accumulator = Unmanaged<CurlHTTPClient.Accumulator>.fromOpaque(user).takeUnretainedValue()
    let line = String(decoding: UnsafeRawBufferPointer(start: data, count: length), as: UTF8.self)
    if let colon = line.firstIndex(of: ":") {
        let name = line[..<colon].lowercased()
        let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespacesAndNewlines)
        accumulator.headers[name] = value
    } else if line.hasPrefix("HTTP/") {
        accumulator.headers.removeAll()  // a new response (e.g. after 100 Continue) starts over
    }
    return length
}

private func curlProgress(_ user: UnsafeMutableRawPointer?, _: curl_off_t, _: curl_off_t, _: curl_off_t, _: curl_off_t) -> Int32 {
    guard let user else { return 0 }
    return Unmanaged<CurlHTTPClient.Accumulator>.fromOpaque(user).takeUnretainedValue().shouldAbort() ? 1 : 0
}
