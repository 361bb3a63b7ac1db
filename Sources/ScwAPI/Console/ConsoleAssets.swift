/// The console's script, style sheet and icon, served by the binary (no CDN, no build step).
enum ConsoleAssets {
    /// Live updates, the only thing that needs JavaScript: every two seconds the page fetches itself again and swaps in
    /// the parts marked `data-live` (rendered and escaped by the server: no value ever becomes HTML here). A part marked
    /// `data-follow` (logs) stays scrolled to its end when it was there. Hidden tabs do not poll.
    static let script = """
        "use strict";
        (function () {
          var live = document.querySelectorAll("[data-live]");
          var state = document.getElementById("live-state");
          function follow(region) { region.scrollTop = region.scrollHeight; }
          document.querySelectorAll("[data-follow]").forEach(follow);
          if (live.length === 0) { return; }
          if (state) { state.textContent = " · live"; }
          var busy = false;
          function refresh() {
            if (busy || document.hidden) { return; }
            busy = true;
            fetch(window.location.href, { credentials: "same-origin", cache: "no-store" })
              .then(function (response) {
                if (!response.ok) { throw new Error("HTTP " + response.status); }
                return response.text();
              })
              .then(function (text) {
                var fresh = new DOMParser().parseFromString(text, "text/html");
                document.querySelectorAll("[data-live]").forEach(function (region) {
                  var next = fresh.getElementById(region.id);
                  if (!next) { return; }
                  var atEnd = region.hasAttribute("data-follow") && region.scrollTop + region.clientHeight >= region.scrollHeight - 8;
                  region.replaceChildren.apply(region, Array.prototype.map.call(next.childNodes, function (node) {
                    return document.importNode(node, true);
                  }));
                  if (atEnd) { follow(region); }
                });
                if (state) { state.textContent = " · live"; state.className = "live"; }
              })
              .catch(function (error) {
                if (state) { state.textContent = " · not updating (" + error.message + ")"; state.className = "stale"; }
              })
              .finally(function () { busy = false; });
          }
          window.setInterval(refresh, 2000);
        })();

        """

    /// Readable on a laptop screen; statuses in colour, failing requests stand out.
    static let style = """
        :root { color-scheme: light; --fg: #1d2330; --muted: #5d6677; --line: #d9dde5; --bg: #f6f7f9; --ok: #17794a;
          --bad: #b3261e; --wait: #8a5a00; --accent: #4f3fc6; }
        * { box-sizing: border-box; }
        body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); }
        header { display: flex; gap: 1.5rem; align-items: baseline; padding: .6rem 1.2rem; background: #231d4f; color: #fff; flex-wrap: wrap; }
        header a { color: #fff; text-decoration: none; margin-right: 1rem; }
        header a:hover, header a[aria-current] { text-decoration: underline; }
        header .brand { font-weight: 700; }
        header .facts { margin-left: auto; font-size: 12px; opacity: .85; }
        main { padding: 1rem 1.2rem 3rem; max-width: 1400px; }
        h1 { font-size: 20px; margin: .2rem 0 1rem; } h2 { font-size: 16px; margin: 1.6rem 0 .5rem; } h3 { font-size: 14px; margin: 1rem 0 .3rem; }
        table { border-collapse: collapse; width: 100%; background: #fff; border: 1px solid var(--line); }
        th, td { text-align: left; padding: .3rem .55rem; border-bottom: 1px solid var(--line); vertical-align: top; }
        th { background: #eceef3; font-weight: 600; font-size: 12px; text-transform: uppercase; letter-spacing: .03em; color: var(--muted); }
        td.num { text-align: right; font-variant-numeric: tabular-nums; }
        code, pre, .mono { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; font-size: 12.5px; }
        pre { background: #fff; border: 1px solid var(--line); padding: .6rem; overflow: auto; white-space: pre-wrap; word-break: break-all; margin: 0; }
        pre.logs { max-height: 28rem; background: #161a22; color: #e6e6e6; border-color: #161a22; }
        .logs .stderr { color: #ff9a8f; } .logs .mock { color: #9ec5ff; } .logs time { color: #7d8596; }
        .status { font-weight: 600; } .status-ready { color: var(--ok); } .status-error { color: var(--bad); }
        .status-creating, .status-updating, .status-pending, .status-deleting, .status-created { color: var(--wait); }
        tr.failing td { background: #fdecea; } tr.failing td.code { color: var(--bad); font-weight: 700; }
        .error-message { color: var(--bad); }
        .muted { color: var(--muted); }
        .notice { background: #e7f5ec; border: 1px solid #b6e0c5; padding: .5rem .8rem; margin-bottom: 1rem; }
        .refusal { background: #fdecea; border: 1px solid #f3b8b2; padding: .5rem .8rem; margin: .6rem 0; }
        .valid { background: #e7f5ec; border: 1px solid #b6e0c5; padding: .5rem .8rem; margin: .6rem 0; }
        .namespace { background: #fff; border: 1px solid var(--line); padding: .6rem .8rem; margin: .8rem 0; }
        .namespace > h3 { margin-top: 0; }
        form.inline { display: inline-flex; gap: .4rem; align-items: center; margin: 0 .8rem .4rem 0; }
        form.filters { display: flex; gap: .6rem; flex-wrap: wrap; align-items: end; margin-bottom: .8rem; }
        form.filters label, form.verify label { display: flex; flex-direction: column; font-size: 12px; color: var(--muted); }
        input, select, textarea, button { font: inherit; }
        input[type=number] { width: 7rem; } td.time { white-space: nowrap; }
        textarea { width: 100%; min-height: 6rem; font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 12px; }
        button { background: var(--accent); color: #fff; border: 0; padding: .3rem .8rem; border-radius: 3px; cursor: pointer; }
        button.danger { background: var(--bad); }
        dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; margin: 0; background: #fff;
          border: 1px solid var(--line); padding: .6rem .8rem; }
        dl.facts dt { color: var(--muted); } dl.facts dd { margin: 0; }
        details > summary { cursor: pointer; color: var(--accent); }
        .masked { color: var(--muted); letter-spacing: .1em; }
        #live-state.live { color: #9ff0c0; } #live-state.stale { color: #ffb4ab; }
        svg.timeline { background: #fff; border: 1px solid var(--line); width: 100%; height: auto; max-width: 900px; }

        """

    /// The tab's icon (a browser asks for one; without it the console's pages would log a 404).
    static let icon = """
        <svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect width="16" height="16" rx="3" fill="#4f3fc6"/>\
        <path d="M4 5h8M4 8h8M4 11h5" stroke="#fff" stroke-width="1.6"/></svg>

        """
}
