import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import ScwDomain
import ScwEngine
import ScwMockApp
import Testing

@testable import ScwAPI

/// The browser console under `/_mock/console`: escaping, its own CSP, and the same edge rules as every `/_mock` route.
@Suite struct ConsoleTests {
    static let c1 = "/containers/v1/regions/fr-par"

    /// Runs `body` against the router with the runtime off and, when given, a control token.
    func withConsole(controlToken: String? = nil, _ body: @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        var config = MockConfiguration()
        config.databasePath = ":memory:"
        config.keyBits = 2048
        config.runtimeEnabled = false
        config.keyPoolSize = 1
        config.controlToken = controlToken
        let app = try await buildApplication(config, clock: TestClock(), ids: SequentialIDs())
        try await app.test(.router) { client in try await body(client) }
    }

    func get(_ client: any TestClientProtocol, _ uri: String, _ headers: HTTPFields = [:]) async throws -> TestResponse {
        try await client.execute(uri: uri, method: .get, headers: headers, body: nil)
    }

    func postForm(_ client: any TestClientProtocol, _ uri: String, _ form: String, _ extra: HTTPFields = [:]) async throws -> TestResponse {
        var headers = extra
        headers[.contentType] = "application/x-www-form-urlencoded"
        return try await client.execute(uri: uri, method: .post, headers: headers, body: ByteBuffer(string: form))
    }

    @Test func escapeTurnsEveryMarkupCharacterIntoAReference() {
        #expect(Markup.escape(#"<script>alert("x") & 'y'</script>"#) == "&lt;script&gt;alert(&quot;x&quot;) &amp; &#39;y&#39;&lt;/script&gt;")
        #expect(Markup.escape("é ✓ plain") == "é ✓ plain")
    }

    @Test func interpolatedValuesAreEscapedAndMarkupIsNot() {
        let name = "<img src=x onerror=alert(1)>"
        let cell: Markup = "<td title=\"\(name)\">\(name)</td>"
        #expect(cell.html == "<td title=\"&lt;img src=x onerror=alert(1)&gt;\">&lt;img src=x onerror=alert(1)&gt;</td>")
        let row: Markup = "<tr>\(cell)\([cell, cell])</tr>"
        #expect(row.html == "<tr>" + String(repeating: cell.html, count: 3) + "</tr>")
        #expect(Markup.join(["<a>", "\(name)"]).html == "<a>&lt;img src=x onerror=alert(1)&gt;")
    }

    @Test func pagesAreHTMLWithTheirOwnContentSecurityPolicy() async throws {
        try await withConsole { client in
            for path in ["/_mock/console", "/_mock/console/requests", "/_mock/console/tokens"] {
                let page = try await get(client, path)
                #expect(page.status == .ok, "\(path): \(page.text)")
                #expect(page.headers[.contentType] == "text/html; charset=utf-8")
                #expect(page.headers[.contentSecurityPolicy] == ConsoleController.contentSecurityPolicy)
                #expect(page.headers[HTTPField.Name("X-Frame-Options")!] == "DENY")
                #expect(page.text.contains("<script src=\"/_mock/console/assets/console.js\" defer></script>"))
            }
            let script = try await get(client, "/_mock/console/assets/console.js")
            #expect(script.status == .ok && script.headers[.contentType] == "text/javascript; charset=utf-8")
            // The API keeps Scaleway's own policy.
            let api = try await client.call(.get, "/_mock/clock", key: nil)
            #expect(api.headers[.contentSecurityPolicy] == "default-src 'none'; frame-ancestors 'none'")
        }
    }

    @Test func userValuesShowAsText() async throws {
        try await withConsole { client in
            let ns = try await client.call(.post, "\(Self.c1)/namespaces", json: #"{"name":"xss"}"#).json["id"] as! String
            let body = #"{"namespace_id":"\#(ns)","name":"web","image":"nginx:latest","description":"<script>alert(1)</script>","#
                + #""environment_variables":{"X":"\"><img src=x onerror=alert(2)>"}}"#
            let id = try await client.call(.post, "\(Self.c1)/containers", json: body).json["id"] as! String
            let page = try await get(client, "/_mock/console/apps/\(id)").text
            #expect(!page.contains("<script>alert(1)") && !page.contains("<img src=x"))
            #expect(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
            #expect(page.contains("&lt;img src=x onerror=alert(2)&gt;"))
        }
    }

    @Test func crossSiteRequestsAreRefusedBeforeAnyAction() async throws {
        try await withConsole { client in
            let before = try await client.call(.get, "/_mock/clock", key: nil).json["offset_seconds"] as? Double
            var evil = HTTPFields()
            evil[.origin] = "https://evil.example"
            let refused = try await postForm(client, "/_mock/console/actions/clock", "advance_seconds=3600", evil)
            #expect(refused.status == .forbidden && refused.text.contains("cross-site request refused"))
            var navigation = HTTPFields()
            navigation[HTTPField.Name("Sec-Fetch-Site")!] = "cross-site"
            #expect(try await get(client, "/_mock/console", navigation).status == .forbidden)
            #expect(try await client.call(.get, "/_mock/clock", key: nil).json["offset_seconds"] as? Double == before)
            // Same origin: allowed, and answered with a redirect back to the page.
            var same = HTTPFields()
            same[.origin] = "http://127.0.0.1:7290"
            let moved = try await postForm(client, "/_mock/console/actions/clock", "advance_seconds=60", same)
            #expect(moved.status == .seeOther && moved.headers[.location] == "/_mock/console?done=clock")
            #expect(try await client.call(.get, "/_mock/clock", key: nil).json["offset_seconds"] as? Double == (before ?? 0) + 60)
        }
    }

    @Test func theControlTokenOpensTheConsoleByHeaderOrBySignIn() async throws {
        try await withConsole(controlToken: "t0ken") { client in
            let closed = try await get(client, "/_mock/console")
            #expect(closed.status == .unauthorized && closed.text.contains("action=\"/_mock/console/session\""))
            #expect(closed.headers[.contentSecurityPolicy] == ConsoleController.contentSecurityPolicy)
            #expect(try await get(client, "/_mock/console", [EdgePolicy.mockToken: "t0ken"]).status == .ok)
            #expect(try await get(client, "/_mock/console", [EdgePolicy.mockToken: "wrong"]).status == .unauthorized)
            #expect(try await postForm(client, "/_mock/console/session", "token=nope").status == .unauthorized)
            let signedIn = try await postForm(client, "/_mock/console/session", "token=t0ken")
            #expect(signedIn.status == .seeOther)
            let cookie = try #require(signedIn.headers[.setCookie])
            #expect(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict") && cookie.contains("Path=/_mock/console"))
            #expect(!cookie.contains("t0ken"))
            let session = String(cookie.prefix { $0 != ";" })
            #expect(try await get(client, "/_mock/console/tokens", [.cookie: session]).status == .ok)
            #expect(try await get(client, "/_mock/console/tokens", [.cookie: "\(ConsoleSession.cookieName)=forged"]).status == .unauthorized)
            // The cookie is the console's only: the JSON routes still want the header.
            #expect(try await get(client, "/_mock/state", [.cookie: session]).status == .unauthorized)
        }
    }

    @Test func settingsKeepTheAPIsBytesIndented() {
        #expect(ConsoleReader.indented(#"{"a":[1,{}],"b":"x,{y}:\"z\"","c":[]}"#) == """
            {
              "a": [
                1,
                {}
              ],
              "b": "x,{y}:\\"z\\"",
              "c": []
            }
            """)
    }

    @Test func formBodiesDecodePlusAndPercentEscapes() {
        #expect(ConsoleController.parseForm("token=a+b%2Bc%3D&target=x&target=y&empty") == ["token": "a b+c=", "target": "x", "empty": ""])
    }

    @Test func processStateIsReadFromTheSupervisorsNotes() throws {
        let notes: [(String, String)] = [
            ("mock", "started pid 41 on port 30001"), ("mock", "crash injected by /_mock"), ("mock", "process exited with code 137"),
            ("mock", "restarting in 100 ms"), ("stdout", "started pid 1 on port 2 (printed by the app)"), ("mock", "started pid 42 on port 30002"),
        ]
        let json = try JSONSerialization.data(withJSONObject: notes.enumerated().map { index, note in
            ["time": "2026-01-01T00:00:0\(index)Z", "stream": note.0, "line": note.1]
        })
        let lines = try JSONDecoder().decode([LogLine].self, from: json)
        let running = ConsoleReader.processState(lines, readyPort: 30002, runtimeEnabled: true)
        #expect(running == .init(state: "running", pid: 42, port: 30002, startedAt: "2026-01-01T00:00:05Z", restarts: 1, coldStarts: 0, crashes: 1))
        #expect(ConsoleReader.processState(Array(lines.prefix(3)), readyPort: nil, runtimeEnabled: true).state
            == "exited: process exited with code 137")
        #expect(ConsoleReader.processState([], readyPort: nil, runtimeEnabled: false).state == "runtime off: no process runs")
        // The timeline: one band a state change, stdout lines ignored.
        #expect(ConsoleReader.timeline(lines).map(\.state) == ["starting", "error", "starting"])
        let svg = ConsolePages.timeline(ConsoleReader.timeline(lines), now: Timestamp.parseRFC3339("2026-01-01T00:00:10Z")!).html
        #expect(svg.contains("<title>error from 2026-01-01T00:00:02Z</title>"))
    }
}
