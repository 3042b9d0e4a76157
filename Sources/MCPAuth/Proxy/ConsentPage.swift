import QlikTools

/// The pages a person sees during sign-in: the consent screen that names the client and the
/// scopes it asks for, and error pages for requests that cannot be sent back to a client.
enum ConsentPage {
    static let scopeText: [QlikScope: String] = [
        .read: "See app metadata: apps, data models, measures, sheets, scripts, lineage",
        .data: "Read data values and evaluate expressions",
        .write: "Reload apps and make other changes",
        .admin: "See reload tasks and administer the server",
    ]

    static func render(clientName: String, clientID: String, redirectHost: String, scopes: [QlikScope], provider: String, transaction: String) -> String {
        let items = scopes.map { "<li><code>\(escape($0.rawValue))</code> — \(escape(scopeText[$0] ?? ""))</li>" }.joined()
        return """
            <!doctype html><html lang="en"><head><meta charset="utf-8"><title>Allow access to Qlik?</title>
            <style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem}button{font-size:1rem;padding:.5rem 1.2rem;margin-right:.5rem}</style></head>
            <body><h1>Allow <em>\(escape(clientName))</em> to use Qlik?</h1>
            <p>The application <strong>\(escape(clientName))</strong> (client id <code>\(escape(clientID))</code>), which will receive the answer at
            <strong>\(escape(redirectHost))</strong>, asks for:</p><ul>\(items)</ul>
            <p>You will sign in with \(escape(provider)) next. Only allow applications you started yourself.</p>
            <form method="post" action="consent"><input type="hidden" name="transaction" value="\(escape(transaction))">
            <button type="submit" name="decision" value="approve">Allow</button>
            <button type="submit" name="decision" value="deny">Deny</button></form></body></html>
            """
    }

    static func error(_ title: String, _ detail: String) -> String {
        """
        <!doctype html><html lang="en"><head><meta charset="utf-8"><title>\(escape(title))</title></head>
        <body style="font-family:system-ui,sans-serif;max-width:36rem;margin:3rem auto"><h1>\(escape(title))</h1><p>\(escape(detail))</p></body></html>
        """
    }

    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.count)
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(character)
            }
        }
        return out
    }
}
