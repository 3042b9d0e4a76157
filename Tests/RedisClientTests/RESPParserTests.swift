import NIOCore
import Testing

@testable import RedisClient

@Suite("RESP3 parser")
struct RESPParserTests {
    static let samples: [(String, RESPValue)] = [
        ("+OK\r\n", .simpleString("OK")),
        ("-ERR unknown command\r\n", .simpleError("ERR unknown command")),
        (":-42\r\n", .integer(-42)),
        ("$5\r\nhe\r\no\r\n", .bulkString(Array("he\r\no".utf8))),
        ("$0\r\n\r\n", .bulkString([])),
        ("$-1\r\n", .null),
        ("*-1\r\n", .null),
        ("_\r\n", .null),
        (",3.25\r\n", .double(3.25)),
        (",-inf\r\n", .double(-.infinity)),
        ("#t\r\n", .boolean(true)),
        ("(3492890328409238509324850943850943825024385\r\n", .bigNumber("3492890328409238509324850943850943825024385")),
        ("!21\r\nSYNTAX invalid syntax\r\n", .bulkError("SYNTAX invalid syntax")),
        ("=15\r\ntxt:Some string\r\n", .verbatim(format: "txt", text: "Some string")),
        ("*3\r\n:1\r\n$1\r\na\r\n*1\r\n_\r\n", .array([.integer(1), .bulkString([UInt8(ascii: "a")]), .array([.null])])),
        ("%2\r\n+first\r\n:1\r\n+second\r\n:2\r\n", .map([(.simpleString("first"), .integer(1)), (.simpleString("second"), .integer(2))])),
        ("~2\r\n+a\r\n+b\r\n", .set([.simpleString("a"), .simpleString("b")])),
        (">3\r\n+message\r\n+chan\r\n$2\r\nhi\r\n", .push([.simpleString("message"), .simpleString("chan"), .bulkString(Array("hi".utf8))])),
        ("|1\r\n+ttl\r\n:3600\r\n:7\r\n", .integer(7)),
    ]

    @Test("every RESP3 type", arguments: samples.indices)
    func types(index: Int) throws {
        let (wire, expected) = Self.samples[index]
        var buffer = ByteBuffer(string: wire)
        #expect(try RESPParser().parse(&buffer) == expected)
        #expect(buffer.readableBytes == 0)
    }

    @Test("a reply split anywhere is read only when complete, and the bytes stay for the next try")
    func partialFrames() throws {
        for (wire, expected) in Self.samples {
            let bytes = Array(wire.utf8)
            for split in 0..<bytes.count {
                var buffer = ByteBuffer(bytes: bytes[..<split])
                #expect(try RESPParser().parse(&buffer) == nil, "\(wire.debugDescription) split at \(split)")
                #expect(buffer.readableBytes == split)
                buffer.writeBytes(bytes[split...])
                #expect(try RESPParser().parse(&buffer) == expected)
            }
        }
    }

    @Test("pipelined replies come out one by one, in order")
    func pipelined() throws {
        var buffer = ByteBuffer(string: "+OK\r\n:1\r\n$3\r\nabc\r\n")
        let parser = RESPParser()
        #expect(try parser.parse(&buffer) == .simpleString("OK"))
        #expect(try parser.parse(&buffer) == .integer(1))
        #expect(try parser.parse(&buffer) == .bulkString(Array("abc".utf8)))
        #expect(try parser.parse(&buffer) == nil)
    }

    @Test(
        "hostile and broken replies are refused, not allocated",
        arguments: [
            "$99999999999\r\n", "*99999999999\r\n", "%99999999999\r\n", "$-2\r\n", "?x\r\n", ":12a\r\n", "#x\r\n",
            "$3\r\nabcXY", "+OK\rX", "_x\r\n", ",abc\r\n", "(12x\r\n", "=2\r\nab\r\n",
            String(repeating: "*1\r\n", count: 40) + ":1\r\n",
        ])
    func hostile(wire: String) {
        var buffer = ByteBuffer(string: wire)
        #expect(throws: RESPProtocolError.self) { _ = try RESPParser().parse(&buffer) }
    }

    @Test("a line without its end is refused once it passes the line limit")
    func longLine() {
        var parser = RESPParser()
        parser.maxLineLength = 64
        var buffer = ByteBuffer(string: "+" + String(repeating: "a", count: 100))
        #expect(throws: RESPProtocolError.self) { _ = try parser.parse(&buffer) }
    }

    @Test("random bytes never crash the parser (fuzzed)")
    func fuzz() {
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("+-:$*%~>_,#(!=|\r\n0123456789-abc".utf8)
        for _ in 0..<20_000 {
            let length = Int.random(in: 0..<40, using: &generator)
            var buffer = ByteBuffer(bytes: (0..<length).map { _ in alphabet.randomElement(using: &generator)! })
            _ = try? RESPParser().parse(&buffer)
        }
    }

    @Test("commands are encoded as arrays of bulk strings, binary-safe")
    func encoder() {
        var buffer = ByteBuffer()
        RESPEncoder.encode(["SET", "k", "a\r\nb"], into: &buffer)
        #expect(buffer.readString(length: buffer.readableBytes) == "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$4\r\na\r\nb\r\n")
    }

    @Test("URLs: parts, defaults, TLS, and clear errors; the password never printed")
    func urls() throws {
        let url = try RedisURL(parsing: "rediss://svc:s%40cret@redis.internal:6380/2")
        #expect(url == RedisURL(host: "redis.internal", port: 6380, database: 2, username: "svc", password: "s@cret", tls: true))
        #expect(!url.description.contains("cret"))
        #expect(try RedisURL(parsing: "redis://127.0.0.1") == RedisURL(host: "127.0.0.1"))
        for bad in ["http://x", "redis://", "redis://h/abc", "redis://h:0", "nonsense"] {
            #expect(throws: RedisError.self) { _ = try RedisURL(parsing: bad) }
        }
    }
}
