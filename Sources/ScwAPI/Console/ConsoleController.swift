import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import ScwDomain
import ScwEngine
import ScwKeys

/// The browser console under `/_mock/console`: what a test did to the mock, in pages (overview, one application,
/// requests, tokens) and a few actions. Server-rendered HTML (`Markup` escapes every value); a small script only swaps
/// in fresh copies of the live parts.
///
/// Trust line: every console request comes over HTTP and is untrusted. The console is mounted before the API's
/// middleware, with its own stack, so that its pages can carry their own Content-Security-Policy (the API's is
/// `default-src 'none'`, which would block the console's script and style sheet):
/// 1. `InvocationGateway` with the server's allowed hosts: a `Host` that does not name this server (DNS rebinding) and a
///    browser's cross-site request (`Origin`, or `Sec-Fetch-Site: cross-site`) are refused as on every `/_mock` route,
///    so a page on another site can neither read the console nor post its forms.
/// 2. `ConsoleGuard`: with `--control-token`, a request must carry `X-Mock-Token` (scripts, curl) or the console's
///    session cookie, which a browser gets by typing the token into the sign-in form: a browser cannot add the header
///    to a navigation, and the token never goes into a URL. The cookie is `HttpOnly; SameSite=Strict` and scoped to
///    `/_mock/console`, so it grants the console only, and is never sent with a request from another site.
/// Actions are POST forms answered with a redirect; nothing else changes state (verifying a pasted token is a POST
/// so that the token stays out of URLs and history, and changes nothing).
struct ConsoleController {
    let services: APIServices
    let session: ConsoleSession

    init(services: APIServices, session: ConsoleSession = ConsoleSession()) {
        self.services = services
        self.session = session
    }

    /// The console's own Content-Security-Policy: its script, style sheet and icon from this server, forms posted to
    /// it, no frames, no plug-ins, nothing inline.
    static let contentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; "
        + "frame-ancestors 'none'; base-uri 'none'"

    /// Mounts the pages, on `router` directly: call it before the API's middleware is added.
    func mount(on router: Router<ScwRequestContext>) {
        let console = router.group("_mock/console")
            .add(middleware: InvocationGateway(gateway: services.gateway, edge: EdgePolicy(hosts: services.edge.hosts)))
            .add(middleware: ConsoleGuard(controlToken: services.edge.controlToken, session: session))
        let reader = ConsoleReader(services: services)

        console.get { request, _ in
            ConsolePages.html(ConsolePages.overview(try reader.overview(), notice: Self.notice(request)))
        }
        console.get("apps/:application_id") { request, context in
            let id = try context.parameters.require("application_id")
            guard let app = try await reader.application(id) else { throw ScwError.notFound(.container, id: id) }
            return ConsolePages.html(ConsolePages.application(app, facts: reader.facts(), notice: Self.notice(request)))
        }
        console.get("requests") { request, _ in
            let filter = ConsolePages.RequestFilter(request.uri.queryParameters)
            return ConsolePages.html(ConsolePages.requests(reader.requests(filter), filter: filter, facts: reader.facts(),
                                                            perSecond: reader.requestsPerSecond()))
        }
        console.get("tokens") { _, _ in
            ConsolePages.html(ConsolePages.tokens(try reader.tokens(), facts: reader.facts(), verification: nil))
        }
        console.post("tokens/verify") { request, _ in
            let form = try await Self.form(request)
            let verification = await reader.verify(token: form["token"] ?? "", target: form["target"] ?? "")
            return ConsolePages.html(ConsolePages.tokens(try reader.tokens(), facts: reader.facts(), verification: verification))
        }

        // Actions: each a POST form, answered with a redirect to the page it came from (post/redirect/get).
        console.post("actions/reset") { _, _ in
            try await services.admin.reset(toEmpty: false)
            services.requestLog.clear()
            services.faults.clear()
            return Self.redirect("/_mock/console", done: "reset")
        }
        console.post("actions/clock") { request, _ in
            let form = try await Self.form(request)
            guard let seconds = Double(form["advance_seconds"] ?? ""), seconds > 0, seconds <= 100 * 365 * 86400 else {
                throw ScwError.invalid("advance_seconds", .constraint, "advance_seconds must be more than 0 and at most 100 years")
            }
            services.clock.advance(nanoseconds: Int64(seconds * 1e9))
            return Self.redirect("/_mock/console", done: "clock")
        }
        console.post("apps/:application_id/crash") { _, context in
            let id = try context.parameters.require("application_id")
            guard try services.gateway.target(id: id) != nil else { throw ScwError.notFound(.container, id: id) }
            let crashed = await services.gateway.runtime.crash(id)
            return Self.redirect("/_mock/console/apps/\(id)", done: crashed ? "crashed" : "not-running")
        }
        console.post("apps/:application_id/fail-next-deploy") { _, context in
            let id = try context.parameters.require("application_id")
            guard try services.gateway.target(id: id) != nil else { throw ScwError.notFound(.container, id: id) }
            await services.gateway.runtime.failNextDeploy(of: id)
            return Self.redirect("/_mock/console/apps/\(id)", done: "armed")
        }

        // Sign-in (only with --control-token): the token typed into a form becomes the session cookie.
        console.post("session") { request, _ in
            let form = try await Self.form(request)
            guard let controlToken = services.edge.controlToken else { return Self.redirect("/_mock/console", done: nil) }
            guard ConstantTime.equals(form["token"] ?? "", controlToken) else {
                return ConsolePages.html(ConsolePages.signIn(wrongToken: true), status: .unauthorized)
            }
            var response = Self.redirect("/_mock/console", done: nil)
            response.headers[.setCookie] = "\(ConsoleSession.cookieName)=\(session.value); Path=/_mock/console; HttpOnly; SameSite=Strict"
            return response
        }

        console.get("assets/console.js") { _, _ in Self.asset(ConsoleAssets.script, type: "text/javascript; charset=utf-8") }
        console.get("assets/console.css") { _, _ in Self.asset(ConsoleAssets.style, type: "text/css; charset=utf-8") }
        console.get("assets/icon.svg") { _, _ in Self.asset(ConsoleAssets.icon, type: "image/svg+xml") }
    }

    /// The message of a finished action, from a fixed list (the query never puts text of its own on the page).
    static func notice(_ request: Request) -> String? {
        switch request.uri.queryParameters["done"].map(String.init) ?? "" {
        case "reset": "Back to the seeded state: the request log and injected faults were cleared and the clock put back."
        case "clock": "The clock moved forward."
        case "crashed": "The process was killed as a crash would kill it; its restart policy applies."
        case "not-running": "No process was running: nothing to crash."
        case "armed": "The next deploy of this application will end in error."
        default: nil
        }
    }

    /// 303 See Other to a console page.
    static func redirect(_ path: String, done: String?) -> Response {
        Response(status: .seeOther, headers: [.location: done.map { "\(path)?done=\($0)" } ?? path])
    }

    static func asset(_ text: String, type: String) -> Response {
        Response(status: .ok, headers: [.contentType: type], body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    /// Largest form body read (a pasted token is about 1 KB; the verifier refuses more than 8 KB).
    static let maxFormBytes = 64 * 1024

    /// An `application/x-www-form-urlencoded` body as a dictionary (the first value of a repeated field).
    static func form(_ request: Request) async throws -> [String: String] {
        let body = try await request.body.collect(upTo: maxFormBytes)
        return parseForm(String(decoding: body.readableBytesView, as: UTF8.self))
    }

    /// Parses `a=1&b=x+y%21`: `+` is a space, percent escapes are decoded; a field seen twice keeps its first value.
    static func parseForm(_ text: String) -> [String: String] {
        var fields: [String: String] = [:]
        for pair in text.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ raw: Substring) -> String {
                let spaced = raw.replacingOccurrences(of: "+", with: " ")
                return spaced.removingPercentEncoding ?? spaced
            }
            let name = decode(parts[0])
            if fields[name] == nil { fields[name] = parts.count > 1 ? decode(parts[1]) : "" }
        }
        return fields
    }
}

/// The console's session value: random, made when the server starts, good until it stops. It is what the sign-in form
/// hands the browser as a cookie in exchange for the control token, so the token itself is never stored by the browser.
struct ConsoleSession: Sendable {
    static let cookieName = "scw_mock_console"
    let value: String

    init() {
        var generator = SystemRandomNumberGenerator()
        value = (0..<4).map { _ in String(generator.next() as UInt64, radix: 16) }.joined(separator: "-")
    }

    /// The value of the console's cookie in a request's `Cookie` headers, if any.
    static func cookie(in fields: HTTPFields) -> String? {
        for header in fields[values: .cookie] {
            for pair in header.split(separator: ";") {
                let parts = pair.split(separator: "=", maxSplits: 1)
                if parts.count == 2, parts[0].trimmingCharacters(in: .whitespaces) == cookieName {
                    return parts[1].trimmingCharacters(in: .whitespaces)
                }
            }
        }
        return nil
    }
}

/// The console's own middleware, after the edge checks: the control token (header or session cookie) when the server
/// has one, HTML error pages, and the headers every console answer carries (its CSP, no framing, no caching).
struct ConsoleGuard: RouterMiddleware {
    typealias Context = ScwRequestContext
    let controlToken: String?
    let session: ConsoleSession

    /// Whether the request may use the console: always without a control token; else with exactly one matching
    /// `X-Mock-Token`, or the session cookie. The sign-in form and the static assets are open (they reveal nothing).
    func admits(_ request: Request) -> Bool {
        guard let controlToken else { return true }
        let path = request.uri.path
        if path == "/_mock/console/session" || path.hasPrefix("/_mock/console/assets/") { return true }
        let headers = request.headers[values: EdgePolicy.mockToken]
        if headers.count == 1, ConstantTime.equals(headers[0], controlToken) { return true }
        if let cookie = ConsoleSession.cookie(in: request.headers), ConstantTime.equals(cookie, session.value) { return true }
        return false
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response: Response
        if !admits(request) {
            response = ConsolePages.html(ConsolePages.signIn(wrongToken: false), status: .unauthorized)
        } else {
            do {
                response = try await next(request, context)
            } catch let error as ScwError {
                let (status, body) = ErrorRenderer.render(error, dialect: ErrorDialect(path: request.uri.path), method: request.method)
                response = ConsolePages.html(ConsolePages.failure(status: status, body: body), status: status)
            } catch let error as HTTPError {
                response = ConsolePages.html(ConsolePages.failure(status: error.status, body: nil), status: error.status)
            }
        }
        Self.secure(&response.headers)
        return response
    }

    /// The headers of every console answer. `Referrer-Policy: same-origin` keeps the `Origin` of the console's own
    /// form posts (with `no-referrer` a browser would send `Origin: null`, which the edge refuses).
    static func secure(_ headers: inout HTTPFields) {
        headers[.contentSecurityPolicy] = ConsoleController.contentSecurityPolicy
        headers[HTTPField.Name("X-Content-Type-Options")!] = "nosniff"
        headers[HTTPField.Name("X-Frame-Options")!] = "DENY"
        headers[HTTPField.Name("Referrer-Policy")!] = "same-origin"
        headers[.cacheControl] = "no-store"
        headers[values: EdgeHeaders.requestIDName] = [EdgeHeaders.requestID()]
    }
}
