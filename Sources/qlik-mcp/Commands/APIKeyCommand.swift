import ArgumentParser
import Foundation
import MCPAuth
import MCPServerHost
import QlikTools

/// `qlik-mcp apikey create|list|revoke`: API keys for CI/CD and service accounts, kept hashed in a
/// local key file (the secret is printed once, at creation, and never stored).
struct APIKeyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apikey",
        abstract: "Create, list and revoke API keys (stored hashed in the key file).",
        subcommands: [Create.self, List.self, Revoke.self]
    )

    struct FileOption: ParsableArguments {
        @Option(
            name: .customLong("apikeys-file"),
            help: ArgumentHelp(
                "The key file. Env: QLIK_MCP_APIKEYS_FILE. Default: ~/.config/qlik-mcp/apikeys.json.", valueName: "path"))
        var path: String?

        var store: APIKeyStore {
            let chosen =
                path ?? ProcessInfo.processInfo.environment["QLIK_MCP_APIKEYS_FILE"]
                ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".config/qlik-mcp/apikeys.json").path
            return APIKeyStore(path: URL(fileURLWithPath: chosen))
        }
    }

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a key and print it once.",
            discussion: "Example: qlik-mcp apikey create --name ci-nightly --scopes qlik:read,qlik:data --expires-in-days 90")
        @OptionGroup var file: FileOption
        @Option(help: "A unique name (letters, digits, '.', '_', '-').") var name: String
        @Option(help: "Comma-separated scopes: qlik:read, qlik:data, qlik:write, qlik:admin.") var scopes: String
        @Option(help: "Days until the key expires (1–3650; default: never).") var expiresInDays: Int?

        func run() throws {
            do {
                let (key, record) = try file.store.create(name: name, scopes: try QlikScope.parseList(scopes), expiresInDays: expiresInDays)
                print(key)
                FileHandle.standardError.write(
                    Data(
                        """
                        created key \(record.id) '\(record.name)' with \(record.scopes.map(\.rawValue).joined(separator: ",")) \
                        in \(file.store.path.path); this is the only time the key is shown. Send it as `Authorization: Bearer <key>`.

                        """.utf8))
            } catch {
                throw ValidationError("\(error)")
            }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List keys (never their secrets).")
        @OptionGroup var file: FileOption

        func run() throws {
            let records: [APIKeyRecord]
            do { records = try file.store.load() } catch { throw ValidationError(error.description) }
            let now = Date()
            let formatter = ISO8601DateFormatter()
            print("id            state    name                  scopes                          created               expires")
            for record in records {
                let columns = [
                    record.id.padding(toLength: 14, withPad: " ", startingAt: 0),
                    record.state(at: now).padding(toLength: 9, withPad: " ", startingAt: 0),
                    record.name.padding(toLength: 22, withPad: " ", startingAt: 0),
                    record.scopes.map(\.rawValue).joined(separator: ",").padding(toLength: 32, withPad: " ", startingAt: 0),
                    formatter.string(from: record.created).padding(toLength: 22, withPad: " ", startingAt: 0),
                    record.expires.map { formatter.string(from: $0) } ?? "never",
                ]
                print(columns.joined())
            }
        }
    }

    struct Revoke: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a key by id or name.")
        @OptionGroup var file: FileOption
        @Argument(help: "The key's id (from `apikey list`) or name.") var key: String

        func run() throws {
            do {
                let record = try file.store.revoke(key)
                print("revoked \(record.id) '\(record.name)'")
            } catch {
                throw ValidationError(error.description)
            }
        }
    }
}
