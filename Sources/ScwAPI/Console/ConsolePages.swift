import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import ScwDomain
import ScwEngine

/// The console's pages, as `Markup` (every value escaped). Parts marked `data-live` are swapped in afresh by the
/// script every two seconds; everything works without it.
enum ConsolePages {
    /// An HTML answer.
    static func html(_ page: Markup, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "text/html; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: page.html)))
    }

    enum Section: String { case overview, requests, tokens, application, other }

    /// The frame of every page: navigation, the mock's clock, the live indicator.
    static func layout(title: String, section: Section, facts: ConsoleReader.Facts?, notice: String? = nil, _ content: Markup) -> Markup {
        func link(_ href: String, _ label: String, _ of: Section) -> Markup {
            section == of ? "<a href=\"\(href)\" aria-current=\"page\">\(label)</a>" : "<a href=\"\(href)\">\(label)</a>"
        }
        let clock: Markup = facts.map { f in
            // On pages that follow live, the clock does too (the tokens page, a form, does not poll).
            "<span class=\"facts\"><span id=\"header-clock\"\(section == .tokens ? "" : " data-live")>mock clock <time>\(f.now.rfc3339(fractionDigits: 0))</time>\(f.frozen ? " (frozen)" : "")</span><span id=\"live-state\"></span></span>"
        } ?? ""
        let banner: Markup = notice.map { "<p class=\"notice\" role=\"status\">\($0)</p>" } ?? ""
        return """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(title) · scw-mock console</title>
            <link rel="icon" href="/_mock/console/assets/icon.svg" type="image/svg+xml">
            <link rel="stylesheet" href="/_mock/console/assets/console.css">
            <script src="/_mock/console/assets/console.js" defer></script></head>
            <body><header><span class="brand">scw-mock</span><nav>\(link("/_mock/console", "Overview", .overview))\(link("/_mock/console/requests", "Requests", .requests))\(link("/_mock/console/tokens", "Tokens", .tokens))</nav>\(clock)</header>
            <main>\(banner)\(content)</main></body></html>

            """
    }

    static func status(_ word: String) -> Markup { "<span class=\"status status-\(word)\">\(word)</span>" }

    static func appLink(_ id: String, _ label: String) -> Markup { "<a href=\"/_mock/console/apps/\(id)\">\(label)</a>" }

    static func duration(_ seconds: Double) -> String {
        seconds == seconds.rounded() ? "\(Int(seconds)) s" : String(format: "%.3f s", seconds)
    }

    // MARK: overview

    static func overview(_ o: ConsoleReader.Overview, notice: String?) -> Markup {
        let f = o.facts
        let facts: Markup = """
            <dl class="facts">
            <dt>mock clock</dt><dd><time>\(f.now.rfc3339(fractionDigits: 3))</time>\(f.frozen ? " (frozen)" : ""), \(f.offsetSeconds == 0 ? "system time" : "offset \(duration(f.offsetSeconds)) from the system's")</dd>
            <dt>transition delay</dt><dd>\(duration(f.transitionDelaySeconds))</dd>
            <dt>runtime</dt><dd>\(f.runtime)</dd>
            <dt>store</dt><dd><code>\(f.database)</code> · scw-mock \(f.version)</dd>
            </dl>
            """
        let actions: Markup = """
            <h2>Actions</h2>
            <form class="inline" method="post" action="/_mock/console/actions/reset"><button class="danger" type="submit">Reset to the seed</button></form>
            <form class="inline" method="post" action="/_mock/console/actions/clock"><label>advance the clock by <input name="advance_seconds" type="number" min="1" step="any" value="60" size="6"> seconds</label> <button type="submit">Advance</button></form>
            """
        var sections: [Markup] = []
        for project in o.projects {
            let entries = o.namespaces.filter { $0.namespace.projectID == project.id }
            guard !entries.isEmpty else { continue }
            sections.append("<h2>Project \(project.name) <span class=\"muted mono\">\(project.id.rawValue)</span></h2>")
            sections += entries.map(namespaceBlock)
        }
        if sections.isEmpty {
            sections.append("<p class=\"muted\">No namespace yet: create one with the API or a fixture (<code>--seed</code>).</p>")
        }
        return layout(title: "Overview", section: .overview, facts: f, notice: notice, """
            <h1>Overview</h1>
            \(facts)
            \(actions)
            <section id="inventory" data-live>\(sections)</section>
            """)
    }

    static func namespaceBlock(_ entry: ConsoleReader.NamespaceEntry) -> Markup {
        let ns = entry.namespace
        let rows: [Markup] = entry.applications.map { app in
            let error: Markup = app.errorMessage.map { "<div class=\"error-message\">\($0)</div>" } ?? ""
            return """
                <tr id="app-\(app.id)"><td>\(appLink(app.id, app.name))<div class="muted mono">\(app.id)</div></td><td>\(app.kind.rawValue)</td>
                <td>\(status(app.status))\(error)</td><td class="mono">\(app.endpoint)</td><td>\(app.privacy.rawValue)</td>
                <td class="num">\(app.minScale)–\(app.maxScale)</td></tr>
                """
        }
        let table: Markup = rows.isEmpty ? "<p class=\"muted\">No \(ns.kind.rawValue) in this namespace.</p>" : """
            <table><thead><tr><th>name</th><th>kind</th><th>status</th><th>endpoint</th><th>privacy</th><th>scale</th></tr></thead>
            <tbody>\(rows)</tbody></table>
            """
        let error: Markup = ns.phase == .error ? "<span class=\"error-message\">\(ns.errorMessage ?? "")</span>" : ""
        return """
            <div class="namespace" id="ns-\(ns.id.rawValue)"><h3>\(ns.kind.rawValue) namespace \(ns.name) \(status(ns.phase.rawValue)) \(error)
            <span class="muted mono">\(ns.id.rawValue) · \(ns.region.rawValue)</span> <a href="/_mock/console/tokens#keys-\(ns.id.rawValue)">keys and tokens</a></h3>\(table)</div>
            """
    }

    // MARK: one application

    static func application(_ d: ConsoleReader.ApplicationDetail, facts: ConsoleReader.Facts, notice: String?) -> Markup {
        let app = d.summary
        let error: Markup = app.errorMessage.map { "<dt>error</dt><dd class=\"error-message\">\($0)</dd>" } ?? ""
        let p = d.process
        let uptime: String = p.startedAt.flatMap(Timestamp.parseRFC3339).map { started in
            "since \(started.rfc3339(fractionDigits: 0)) (\(duration(Double(max(0, facts.now.unixSeconds - started.unixSeconds)))))"
        } ?? "—"
        let summary: Markup = """
            <dl class="facts">
            <dt>status</dt><dd>\(status(app.status))</dd>\(error)
            <dt>namespace</dt><dd><a href="/_mock/console#ns-\(d.namespace.id.rawValue)">\(d.namespace.name)</a> <span class="muted mono">\(d.namespace.id.rawValue)</span></dd>
            <dt>endpoint</dt><dd class="mono">\(app.endpoint)</dd>
            <dt>privacy</dt><dd>\(app.privacy.rawValue)</dd>
            <dt>scale</dt><dd>\(app.minScale)–\(app.maxScale)</dd>
            </dl>
            """
        let process: Markup = """
            <dl class="facts">
            <dt>process</dt><dd id="process-state">\(p.state)</dd>
            <dt>pid</dt><dd id="process-pid">\(p.pid.map(String.init) ?? "—")</dd>
            <dt>port</dt><dd>\(p.port.map(String.init) ?? "—")</dd>
            <dt>up</dt><dd>\(uptime)</dd>
            <dt>restarts</dt><dd>\(p.restarts)</dd>
            <dt>cold starts</dt><dd>\(p.coldStarts)</dd>
            <dt>injected crashes</dt><dd>\(p.crashes)</dd>
            </dl>
            """
        let logLines: [Markup] = d.logs.map { line in
            "<span class=\"\(line.stream)\"><time>\(line.time)</time> [\(line.stream)] \(line.line)</span>\n"
        }
        let dropped: Markup = d.droppedLogLines > 0 ? "<span class=\"muted\">(\(d.droppedLogLines) older lines dropped)</span>\n" : ""
        let logs: Markup = d.logs.isEmpty && d.droppedLogLines == 0
            ? (d.runtimeEnabled ? "<span class=\"muted\">nothing logged yet</span>" : "<span class=\"muted\">the runtime is off (--runtime off): no process, no log</span>")
            : "\(dropped)\(logLines)"
        return layout(title: "\(app.kind.rawValue) \(app.name)", section: .application, facts: facts, notice: notice, """
            <h1>\(app.kind.rawValue) \(app.name) <span class="muted mono">\(app.id)</span></h1>
            <section id="summary" data-live>\(summary)</section>
            <h2>Actions</h2>
            <form class="inline" method="post" action="/_mock/console/apps/\(app.id)/crash"><button class="danger" type="submit">Crash its process</button></form>
            <form class="inline" method="post" action="/_mock/console/apps/\(app.id)/fail-next-deploy"><button type="submit">Fail its next deploy</button></form>
            <h2>Process</h2>
            <section id="process" data-live>\(process)</section>
            <h2>Timeline <span class="muted">(its process: starting, ready, error, stopped; mock clock)</span></h2>
            <section id="timeline" data-live>\(timeline(ConsoleReader.timeline(d.logs), now: facts.now))</section>
            <h2>Logs <span class="muted">(stdout, stderr, and the mock's notes: starts, exits, cron runs, cold starts)</span></h2>
            <pre class="logs" id="logs" data-live data-follow>\(logs)</pre>
            <h2>Environment of its process</h2>
            \(environment(d))
            <h2>Settings <span class="muted">(as \(d.settingsAPI) returns them)</span></h2>
            <pre id="settings">\(d.settingsJSON)</pre>
            """)
    }

    static let stateColours = ["starting": "#d4a017", "ready": "#17794a", "error": "#b3261e", "stopped": "#9aa1ad"]

    /// The process's states as coloured bands from its first note to now (inline SVG: no script, no image request).
    static func timeline(_ transitions: [ConsoleReader.Transition], now: Timestamp) -> Markup {
        guard let first = transitions.first else { return "<p class=\"muted\">No process event yet.</p>" }
        let width = 720.0, span = Double(max(now.nanoseconds - first.at.nanoseconds, 1_000_000_000))
        func x(_ t: Timestamp) -> Double { width * Double(t.nanoseconds - first.at.nanoseconds) / span }
        let bands: [Markup] = transitions.enumerated().map { index, transition in
            let end = index + 1 < transitions.count ? transitions[index + 1].at : now
            let left = x(transition.at), right = max(x(end), left + 2)
            return """
                <rect x="\(String(format: "%.1f", left))" y="14" width="\(String(format: "%.1f", right - left))" height="18" fill="\(stateColours[transition.state] ?? "#9aa1ad")"><title>\(transition.state) from \(transition.at.rfc3339(fractionDigits: 3))</title></rect>
                """
        }
        let legend: [Markup] = ["starting", "ready", "error", "stopped"].enumerated().map { index, state in
            "<rect x=\"\(index * 90)\" y=\"40\" width=\"10\" height=\"10\" fill=\"\(stateColours[state] ?? "")\"/><text x=\"\(index * 90 + 14)\" y=\"49\" font-size=\"10\" fill=\"#5d6677\">\(state)</text>"
        }
        return """
            <svg class="timeline" viewBox="0 0 720 56" role="img" aria-label="process states over time"><text x="0" y="10" font-size="10" fill="#5d6677">\(first.at.rfc3339(fractionDigits: 0)) → now (\(transitions.last?.state ?? ""))</text>\(bands)\(legend)</svg>
            """
    }

    /// The variables the process received, secrets masked until their row is opened.
    static func environment(_ d: ConsoleReader.ApplicationDetail) -> Markup {
        guard let env = d.environment else {
            return d.runtimeEnabled
                ? "<p class=\"muted\">No process was started for it since the server started.</p>"
                : "<p class=\"muted\">The runtime is off (<code>--runtime off</code>): no process receives an environment.</p>"
        }
        let rows: [Markup] = env.keys.sorted().map { name in
            let value = env[name] ?? ""
            let shown: Markup = d.secretNames.contains(name)
                ? "<details class=\"secret\"><summary><span class=\"masked\">••••••••</span> secret: show</summary><code>\(value)</code></details>"
                : "<code>\(value)</code>"
            return "<tr><td class=\"mono\">\(name)</td><td>\(shown)</td></tr>"
        }
        return "<table id=\"environment\"><thead><tr><th>variable</th><th>value</th></tr></thead><tbody>\(rows)</tbody></table>"
    }

    // MARK: requests

    /// The request page's filters, from its query string.
    struct RequestFilter: Sendable {
        var method: String?
        var path: String?
        var status: Int?
        var accessKey: String?
        var failingOnly = false
        var limit = 200

        init(_ query: Hummingbird.Parameters) {
            func value(_ name: String) -> String? {
                query[Substring(name)].map(String.init).flatMap { $0.trimmingCharacters(in: .whitespaces).isEmpty ? nil : $0 }
            }
            method = value("method")?.uppercased()
            path = value("path")
            status = value("status").flatMap { Int($0) }
            accessKey = value("access_key")
            failingOnly = value("failing") != nil
            limit = value("limit").flatMap { Int($0) }.map { min(max($0, 1), 1000) } ?? 200
        }
    }

    static func requests(_ entries: [RequestLog.Entry], filter: RequestFilter, facts: ConsoleReader.Facts, perSecond: [Int]) -> Markup {
        let rows: [Markup] = entries.map { e in
            """
            <tr class="\(e.status >= 400 ? "failing" : "ok")"><td class="mono time">\(e.time)</td><td>\(e.method)</td><td class="mono">\(e.path)</td>
            <td class="code num">\(e.status)</td><td class="num">\(String(format: "%.2f", e.duration_ms)) ms</td><td class="mono">\(e.access_key)</td>
            <td>\(resourceLink(e.path))</td></tr>
            """
        }
        let methods = ["", "GET", "POST", "PATCH", "PUT", "DELETE"].map { m -> Markup in
            "<option value=\"\(m)\"\(filter.method == m ? " selected" : "")>\(m.isEmpty ? "any" : m)</option>"
        }
        let form: Markup = """
            <form class="filters" method="get" action="/_mock/console/requests">
            <label>method <select name="method">\(methods)</select></label>
            <label>path starts with <input name="path" value="\(filter.path ?? "")" placeholder="/containers/v1/"></label>
            <label>status <input name="status" type="number" min="100" max="599" value="\(filter.status.map(String.init) ?? "")"></label>
            <label>access key <input name="access_key" value="\(filter.accessKey ?? "")"></label>
            <label><span><input type="checkbox" name="failing" value="1"\(filter.failingOnly ? " checked" : "")> failing only (4xx, 5xx)</span></label>
            <label>at most <input name="limit" type="number" min="1" max="1000" value="\(filter.limit)"></label>
            <button type="submit">Filter</button> <a href="/_mock/console/requests">clear</a>
            </form>
            """
        let table: Markup = rows.isEmpty ? "<p class=\"muted\">No API call matches (the log keeps the last 1,000; a reset clears it).</p>" : """
            <table><thead><tr><th>time</th><th>method</th><th>path</th><th>status</th><th>duration</th><th>access key</th><th>resource</th></tr></thead>
            <tbody>\(rows)</tbody></table>
            """
        return layout(title: "Requests", section: .requests, facts: facts, """
            <h1>Requests</h1>
            <p class="muted">API calls, newest first; headers are never kept and <code>token=</code> values are redacted.</p>
            \(form)
            <section id="requests" data-live><h2>Calls per second, last \(perSecond.count) s of the mock's clock</h2>\(rateChart(perSecond))
            <h2>Calls</h2>\(table)</section>
            """)
    }

    /// The console page of the resource a request path names: its container or function, its namespace on the
    /// overview, or the tokens page.
    static func resourceLink(_ path: String) -> Markup {
        let segments = (path.split(separator: "?").first ?? "").split(separator: "/").map(String.init)
        for (index, segment) in segments.enumerated().reversed() where index + 1 < segments.count {
            let id = segments[index + 1]
            guard Identifier<Never>(id) != nil else { continue }
            switch segment {
            case "containers", "functions": return appLink(id, "\(segment.dropLast()) \(id.prefix(8))…")
            case "namespaces": return "<a href=\"/_mock/console#ns-\(id)\">namespace \(id.prefix(8))…</a>"
            case "tokens": return "<a href=\"/_mock/console/tokens\">token \(id.prefix(8))…</a>"
            default: continue
            }
        }
        return ""
    }

    /// Bars of calls per second (inline SVG: no script, no image request).
    static func rateChart(_ counts: [Int]) -> Markup {
        let width = 720, height = 80
        let peak = max(counts.max() ?? 0, 1)
        let step = Double(width) / Double(max(counts.count, 1))
        let bars: [Markup] = counts.enumerated().compactMap { index, count in
            guard count > 0 else { return nil }
            let h = max(1, Int(Double(height - 14) * Double(count) / Double(peak)))
            let x = String(format: "%.1f", Double(index) * step)
            let w = String(format: "%.1f", max(step - 1, 1))
            return "<rect x=\"\(x)\" y=\"\(height - h)\" width=\"\(w)\" height=\"\(h)\" fill=\"#4f3fc6\"><title>\(count) calls</title></rect>"
        }
        return """
            <svg class="timeline" viewBox="0 0 \(width) \(height)" role="img" aria-label="API calls per second"><text x="4" y="11" font-size="10" fill="#5d6677">peak \(peak)/s · total \(counts.reduce(0, +))</text>\(bars)</svg>
            """
    }

    // MARK: tokens

    static func tokens(_ namespaces: [ConsoleReader.NamespaceKeys], facts: ConsoleReader.Facts, verification: ConsoleReader.Verification?) -> Markup {
        var options: [Markup] = []
        for entry in namespaces {
            let ns = entry.namespace
            let target = "namespace:\(ns.id.rawValue)"
            options.append("<option value=\"\(target)\"\(verification?.target == target ? " selected" : "")>namespace \(ns.name) (\(ns.kind.rawValue), \(ns.region.rawValue))</option>")
            for app in entry.applications {
                let appTarget = "application:\(ns.id.rawValue):\(app.id)"
                options.append("<option value=\"\(appTarget)\"\(verification?.target == appTarget ? " selected" : "")>  \(app.kind.rawValue) \(app.name) in \(ns.name)</option>")
            }
        }
        let result: Markup = verification.map(verificationBlock) ?? ""
        let box: Markup = """
            <h2>Verify a token</h2>
            <form class="verify" method="post" action="/_mock/console/tokens/verify">
            <label>JWT <textarea name="token" required spellcheck="false" placeholder="eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9…"></textarea></label>
            <label>must grant <select name="target">\(options)</select></label>
            <p><button type="submit">Verify</button> <span class="muted">RS256 against the namespace's key, at the mock's time, with the strict rules of <code>scw-mock token verify</code> (revocation is the gateway's check).</span></p>
            </form>
            \(result)
            """
        let blocks: [Markup] = namespaces.map { entry in
            let ns = entry.namespace
            let names = Dictionary(entry.applications.map { ($0.id, $0.name) }, uniquingKeysWith: { a, _ in a })
            let rows: [Markup] = entry.tokens.map { t in
                let scope: Markup = switch t.scope {
                case .namespace: "namespace"
                case .application(let id): "\(ns.kind.rawValue) \(appLink(id, names[id] ?? id))"
                }
                let expired = t.expiresAt.map { $0 <= facts.now } ?? false
                let expiry: Markup = t.expiresAt.map { "\($0.rfc3339(fractionDigits: 0))\(expired ? " (expired)" : "")" } ?? "never"
                return """
                    <tr class="\(expired ? "failing" : "ok")"><td class="mono">\(t.id.rawValue)</td><td>\(scope)</td><td>\(t.description)</td>
                    <td class="mono">\(t.createdAt.rfc3339(fractionDigits: 0))</td><td class="mono">\(expiry)</td></tr>
                    """
            }
            let tokenTable: Markup = rows.isEmpty ? "<p class=\"muted\">No token created through the tokens API.</p>" : """
                <table><thead><tr><th>token id</th><th>scope</th><th>description</th><th>created</th><th>expires</th></tr></thead><tbody>\(rows)</tbody></table>
                """
            let key: Markup = entry.publicKeyPEM.map { pem in
                """
                <details><summary>public key (PEM, PKCS#1)</summary><pre>\(pem)</pre></details>
                <details><summary>JWK (kid = namespace id)</summary><pre>\(entry.jwkJSON ?? "")</pre></details>
                """
            } ?? "<p class=\"muted\">No key yet: a namespace of a fixture gets its key when first needed.</p>"
            return """
                <div class="namespace" id="keys-\(ns.id.rawValue)"><h3>\(ns.kind.rawValue) namespace \(ns.name) <span class="muted mono">\(ns.id.rawValue) · \(ns.region.rawValue)</span></h3>
                \(key)\(tokenTable)</div>
                """
        }
        return layout(title: "Tokens", section: .tokens, facts: facts, """
            <h1>Tokens and keys</h1>
            \(box)
            <h2>Namespaces</h2>
            \(blocks.isEmpty ? "<p class=\"muted\">No namespace yet.</p>" : Markup.join(blocks))
            """)
    }

    static func verificationBlock(_ v: ConsoleReader.Verification) -> Markup {
        let verdict: Markup = v.refusal.map { "<p><strong>Refused:</strong> <span id=\"verdict\">\($0)</span></p>" }
            ?? "<p><strong id=\"verdict\">Valid</strong> for \(v.targetLabel).</p>"
        let rows: [Markup] = v.instants.map { "<dt>\($0.claim)</dt><dd><time>\($0.at)</time></dd>" }
        let instants: Markup = rows.isEmpty ? "" : "<dl class=\"facts\">\(rows)</dl>"
        let decoded: Markup = """
            \(instants)
            <h3>Header</h3><pre>\(v.header ?? "(not decodable)")</pre>
            <h3>Payload</h3><pre>\(v.payload.map(ConsoleReader.indented) ?? "(not decodable)")</pre>
            """
        return """
            <div id="verification" class="\(v.refusal == nil ? "valid" : "refusal")">\(verdict)
            <p class="muted">checked against \(v.targetLabel) at \(v.checkedAt.rfc3339(fractionDigits: 0)) (mock clock)</p>\(decoded)</div>
            """
    }

    // MARK: sign-in and errors

    /// With `--control-token`: the form that exchanges the token for the console's session cookie.
    static func signIn(wrongToken: Bool) -> Markup {
        let error: Markup = wrongToken ? "<p class=\"refusal\">That is not the control token.</p>" : ""
        return layout(title: "Sign in", section: .other, facts: nil, """
            <h1>Control token required</h1>
            <p>This server was started with <code>--control-token</code> (env <code>SCW_MOCK_CONTROL_TOKEN</code>): type it to open the console. The browser keeps a session cookie for <code>/_mock/console</code> until the server stops; scripts can send <code>X-Mock-Token</code> instead.</p>
            \(error)
            <form class="inline" method="post" action="/_mock/console/session"><label>control token <input name="token" type="password" autocomplete="current-password" required></label> <button type="submit">Open the console</button></form>
            """)
    }

    /// An error page: the status and the message the API would give.
    static func failure(status: HTTPResponse.Status, body: (any Encodable & Sendable)?) -> Markup {
        let message = body.flatMap { try? WireJSON.encoder.encode($0) }.map { String(decoding: $0, as: UTF8.self) } ?? status.reasonPhrase
        return layout(title: "\(status.code)", section: .other, facts: nil, """
            <h1>\(status.code) \(status.reasonPhrase)</h1>
            <pre class="refusal">\(message)</pre>
            <p><a href="/_mock/console">Back to the overview</a></p>
            """)
    }
}
