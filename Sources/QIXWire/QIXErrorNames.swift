/// Names for QIX error codes: `LocalizedErrorCode` values (`LOCERR_…`) and JSON-RPC codes.
public enum QIXErrorNames {
    private static let byCode: [Int: String] = {
        var map: [Int: String] = [:]
        for (name, code) in QIXCatalog.errorCodes where map[code] == nil || name.count < map[code]!.count {
            map[code] = name
        }
        map[JSONRPCErrorCode.parseError] = "JSONRPC_PARSE_ERROR"
        map[JSONRPCErrorCode.invalidRequest] = "JSONRPC_INVALID_REQUEST"
        map[JSONRPCErrorCode.methodNotFound] = "JSONRPC_METHOD_NOT_FOUND"
        map[JSONRPCErrorCode.invalidParams] = "JSONRPC_INVALID_PARAMS"
        map[JSONRPCErrorCode.internalError] = "JSONRPC_INTERNAL_ERROR"
        return map
    }()

    /// The symbolic name of `code`, e.g. 2 → `LOCERR_GENERIC_NOT_FOUND`; `UNKNOWN_<code>` otherwise.
    public static func name(for code: Int) -> String {
        byCode[code] ?? "UNKNOWN_\(code)"
    }

    /// The numeric code of a `LOCERR_…` name.
    public static func code(for name: String) -> Int? {
        QIXCatalog.errorCodes[name]
    }
}
