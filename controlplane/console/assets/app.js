// meshgate console. Every call is a GET to this control plane's API; the page polls every 2 s
// and replaces the view only when what it would show has changed, so focus and open sections
// survive a poll that changes nothing.
"use strict";

const POLL_MS = 2000;
let token = sessionStorage.getItem("meshgate-token") || "";
let lastHTML = "";
let pollTimer = null;
let generation = 0;

// h builds an element; strings become text nodes, so nothing from the API is parsed as HTML.
function h(tag, attrs, ...children) {
  const ns = tag.startsWith("svg:") ? "http://www.w3.org/2000/svg" : null;
  const el = ns ? document.createElementNS(ns, tag.slice(4)) : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === false || v === null || v === undefined) continue;
    el.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

class APIError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

async function api(path) {
  const headers = { Accept: "application/json" };
  if (token) headers.Authorization = "Bearer " + token;
  const resp = await fetch(path, { headers, cache: "no-store" });
  const text = await resp.text();
  if (resp.status === 401) {
    showTokenForm();
    throw new APIError(401, "the admin token is missing or wrong");
  }
  let body;
  try { body = text ? JSON.parse(text) : null; } catch (e) { body = text; }
  if (!resp.ok) {
    const msg = body && body.details ? body.details : (body && body.title) || String(body || resp.statusText);
    throw new APIError(resp.status, path + ": " + msg);
  }
  return body;
}

function showTokenForm() {
  const form = document.getElementById("token-form");
  if (form.hidden) {
    form.hidden = false;
    document.getElementById("token").focus();
  }
}

document.getElementById("token-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  token = document.getElementById("token").value.trim();
  sessionStorage.setItem("meshgate-token", token);
  ev.target.hidden = true;
  refresh(true);
});

const enc = encodeURIComponent;
const dpPath = (mesh, name, view) => `/meshes/${enc(mesh)}/dataplanes/${enc(name)}/${view}`;

function when(t) {
  if (!t) return "—";
  const d = new Date(t);
  return isNaN(d) ? t : d.toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC");
}

function state(online) {
  return online ? h("span", { class: "ok" }, "online") : h("span", { class: "muted" }, "offline");
}

function table(caption, head, rows) {
  return h("div", { class: "table-wrap" },
    h("table", {},
      caption ? h("caption", {}, caption) : null,
      h("thead", {}, h("tr", {}, head.map((c) => h("th", { scope: "col" }, c)))),
      h("tbody", {}, rows.length ? rows.map((r) => h("tr", {}, r.map((c) => h("td", {}, c))))
        : h("tr", {}, h("td", { colspan: head.length, class: "muted" }, "none")))));
}

function errorBox(err) {
  return h("p", { class: "error", role: "alert" }, String(err.message || err));
}

// ---- pages -------------------------------------------------------------------------------

async function overview() {
  const [view, dps] = await Promise.all([api("/inspect/meshes"), api("/inspect/dataplanes")]);
  const cas = await Promise.all(view.meshes.map((m) => m.mtls
    ? api(`/meshes/${enc(m.name)}/ca`).catch(() => null) : Promise.resolve(null)));
  const rows = view.meshes.map((m, i) => {
    const ca = cas[i];
    const pending = ca && ca.rotation && ca.rotation.pendingReissues;
    return [
      h("strong", {}, m.name),
      m.mtls ? h("span", { class: "ok" }, "mTLS (" + m.enabledBackend + ")") : h("span", { class: "warn" }, "no mTLS"),
      String(m.gateways), String(m.routes), String(m.policies),
      `${m.connected} / ${m.dataplanes}`,
      pending ? h("span", { class: "warn" }, `rotating: ${pending} leaves to re-issue`) : (m.mtls ? "steady" : "—"),
      m.unhappy && m.unhappy.length ? h("span", { class: "bad" }, m.unhappy.join(", ")) : h("span", { class: "ok" }, "none"),
    ];
  });
  const unhappy = dps.filter((d) => d.rejected || d.error || d.nack || d.diagnostics);
  return h("section", { "aria-labelledby": "h-overview" },
    h("h1", { id: "h-overview" }, "Overview"),
    h("p", { class: "muted" }, `Mode ${view.mode || "standalone"} · configuration revision ${view.revision}`),
    table("Meshes", ["Mesh", "mTLS", "Gateways", "Routes", "Policies", "Connected / known", "CA rotation", "Dataplanes with problems"], rows),
    h("h2", {}, "Dataplanes with a NACK or an error"),
    table(null, ["Dataplane", "State", "Problem"], unhappy.map((d) => [
      h("a", { href: `#/dataplane/${enc(d.mesh)}/${enc(d.name)}` }, `${d.mesh}/${d.name}`),
      state(d.online),
      h("span", { class: d.rejected || d.error ? "bad" : "warn" },
        d.error || (d.nack ? (d.rejected ? "NACK in force: " : "last NACK: ") + d.nack : `${d.diagnostics} diagnostics`)),
    ])));
}

async function gateways() {
  const gws = await api("/inspect/gateways");
  const out = h("section", { "aria-labelledby": "h-gw" }, h("h1", { id: "h-gw" }, "Gateways"));
  if (!gws.length) out.append(h("p", { class: "muted" }, "No MeshGateway in any mesh."));
  for (const gw of gws) {
    const id = `gw-${gw.mesh}-${gw.name}`;
    const card = h("article", { class: "card gateway", "aria-labelledby": id, "data-gateway": `${gw.mesh}/${gw.name}` },
      h("h2", { id }, `${gw.mesh} / ${gw.name}`),
      table("Listeners", ["Listener", "Protocol", "TLS", "Cross-mesh"], gw.listeners.map((l) => [
        h("code", { class: "listener" }, `${l.hostname}:${l.port}`), l.protocol, l.tls || "—", l.crossMesh ? "yes" : "no"])),
      table("Replicas", ["Dataplane", "State", "Connected to", "NACK"], gw.replicas.map((r) => [
        h("a", { href: `#/dataplane/${enc(gw.mesh)}/${enc(r.name)}` }, r.name), state(r.online),
        r.replica || "—", r.nack ? h("span", { class: "bad" }, r.nack) : "—"])));
    if (gw.error) card.append(errorBox({ message: gw.error }));
    for (const t of gw.routeTables || []) {
      card.append(h("h3", {}, "Route table ", h("code", {}, t.name)));
      for (const vh of t.virtualHosts || []) {
        card.append(h("p", {}, "Virtual host ", h("strong", {}, vh.name), " — domains ",
          vh.domains.map((d) => h("span", { class: "pill" }, d))));
        card.append(h("ol", { class: "routes", "aria-label": `Routes of ${vh.name} in the order the gateway tries them` },
          vh.routes.map((r) => h("li", { "data-route": r.route || "" },
            h("strong", {}, r.route || "(generated)"), r.route ? ` rule ${r.rule}` : "", " · ",
            h("code", {}, r.match), " → ", r.action,
            (r.backends || []).length ? [" ", r.backends.map((b) =>
              h("span", { class: "pill backend" }, `${b.service || b.cluster} weight ${b.weight}`))] : null))));
      }
    }
    const pols = (gw.policies && gw.policies.routes) || [];
    const prow = [];
    for (const rp of pols) {
      for (const p of rp.policies || []) {
        prow.push([h("code", {}, rp.envoyRoute), p.kind, p.applied || h("span", { class: "muted" }, "ignored"),
          (p.lost || []).map((l) => `${l.name}: ${l.reason}`).join("; ") || p.note || "—"]);
      }
    }
    if (gw.renderedFrom) {
      card.append(table(`Policies on the routes (rendered for ${gw.renderedFrom})`, ["Envoy route", "Kind", "Applied", "Lost, and why"], prow));
    } else {
      card.append(h("p", { class: "muted" }, "No replica: the gateway has no configuration to show routes from."));
    }
    out.append(card);
  }
  return out;
}

async function dataplanes() {
  const dps = await api("/inspect/dataplanes");
  return h("section", { "aria-labelledby": "h-dps" },
    h("h1", { id: "h-dps" }, "Dataplanes"),
    table(null, ["Dataplane", "Type", "State", "Replica", "Last ACK", "NACK", "Certificate expires"], dps.map((d) => [
      h("a", { href: `#/dataplane/${enc(d.mesh)}/${enc(d.name)}` }, `${d.mesh}/${d.name}`),
      d.type, [state(d.online), d.applying ? h("span", { class: "warn" }, " · applying…") : null], d.replica || "—", when(d.lastAck),
      d.nack ? h("span", { class: d.rejected ? "bad" : "warn" }, d.nack) : (d.error ? h("span", { class: "bad" }, d.error) : "—"),
      when(d.certExpiry)])));
}

async function dataplane(mesh, name) {
  const [ins, xds] = await Promise.all([api(dpPath(mesh, name, "inspect")), api(dpPath(mesh, name, "xds")).catch((e) => e)]);
  const out = h("section", { "aria-labelledby": "h-dp" },
    h("h1", { id: "h-dp" }, `Dataplane ${mesh}/${name}`),
    h("p", {}, state(ins.connected), ` · revision ${ins.revision}`),
    ins.error ? errorBox({ message: ins.error }) : null,
    h("h2", {}, "Diagnostics"),
    table(null, ["Field", "Problem"], (ins.diagnostics || []).map((d) => [h("code", {}, d.field || d.path || ""), d.message || JSON.stringify(d)])),
    h("h2", {}, "xDS"),
    table(null, ["Type", "Sent", "ACKed", "ACKed at", "NACK"], ((ins.xds && ins.xds.types) || []).map((t) => [
      h("code", {}, t.typeUrl.replace(/^.*\//, "")), t.sentVersion || "—", t.ackedVersion || "—", when(t.ackedAt),
      t.lastNack ? h("span", { class: t.rejected ? "bad" : "warn" }, `${t.lastNack.message} (version ${t.lastNack.version}, ${when(t.lastNack.at)})`) : "—"])));
  out.append(h("h2", {}, "Rendered configuration"), h("p", { class: "muted" }, "As served, private keys redacted."));
  if (xds instanceof Error) {
    out.append(errorBox(xds));
  } else {
    for (const kind of ["listeners", "routes", "clusters", "endpoints", "secrets"]) {
      const list = xds[kind] || [];
      out.append(h("details", {}, h("summary", {}, `${kind} (${list.length})`), h("pre", {}, JSON.stringify(list, null, 2))));
    }
  }
  return out;
}

async function crossmesh() {
  const view = await api("/inspect/crossmesh");
  const W = 280, GAP = 40, PILL = 44, TOP = 20;
  const byMesh = {};
  for (const e of view.exposures) (byMesh[e.mesh] = byMesh[e.mesh] || []).push(e);
  const boxH = Math.max(...view.meshes.map((m) => 70 + PILL * (byMesh[m.name] || []).length), 90);
  const x = {};
  view.meshes.forEach((m, i) => { x[m.name] = 20 + i * (W + GAP); });
  const arrows = [];
  for (const e of view.exposures) {
    for (const p of e.allowed) for (const from of p.meshes) if (from !== e.mesh && x[from] !== undefined) arrows.push({ from, e, p });
  }
  const bottom = TOP + boxH;
  const height = bottom + 40 + arrows.length * 26 + 20;
  const width = Math.max(20 + view.meshes.length * (W + GAP), 600);
  const svg = h("svg:svg", { class: "map", viewBox: `0 0 ${width} ${height}`, role: "img", "aria-labelledby": "map-title map-desc" },
    h("svg:title", { id: "map-title" }, "Cross-mesh map"),
    h("svg:desc", { id: "map-desc" }, view.exposures.length
      ? view.exposures.map((e) => `${e.mesh} exposes ${e.name}:${e.port}`).join("; ")
      : "No cross-mesh listener."),
    h("svg:defs", {}, h("svg:marker", { id: "arrow", viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 8, markerHeight: 8, orient: "auto-start-reverse" },
      h("svg:path", { d: "M0,0 L10,5 L0,10 z", fill: "#0b5cad" }))));
  const pillPos = {};
  for (const m of view.meshes) {
    const g = h("svg:g", { class: "mesh", "data-mesh": m.name });
    g.append(h("svg:rect", { x: x[m.name], y: TOP, width: W, height: boxH, rx: 8, fill: "#eef4fb", stroke: "#14263d", "stroke-width": 2 }),
      h("svg:text", { x: x[m.name] + 14, y: TOP + 26, "font-size": 17, "font-weight": 700, fill: "#14263d" }, m.name),
      h("svg:text", { x: x[m.name] + 14, y: TOP + 46, "font-size": 12, fill: m.mtls ? "#126b2e" : "#7a4b00" }, m.mtls ? "mTLS" : "no mTLS (cannot join cross-mesh)"));
    (byMesh[m.name] || []).forEach((e, k) => {
      const py = TOP + 58 + k * PILL;
      pillPos[`${e.mesh}/${e.gateway}/${e.port}`] = { x: x[m.name] + W / 2, y: py + PILL - 6 };
      g.append(h("svg:rect", { x: x[m.name] + 12, y: py, width: W - 24, height: PILL - 8, rx: 6, fill: "#ffffff", stroke: "#0b5cad", "stroke-width": 1.5 }),
        h("svg:text", { x: x[m.name] + 22, y: py + 15, "font-size": 13, "font-weight": 600, fill: "#1b1f24", class: "exposed-name" }, `${e.name}:${e.port}`),
        h("svg:text", { x: x[m.name] + 22, y: py + 30, "font-size": 11, fill: "#4a5360" }, `exit: gateway ${e.gateway}`));
    });
    svg.append(g);
  }
  arrows.forEach((a, i) => {
    const to = pillPos[`${a.e.mesh}/${a.e.gateway}/${a.e.port}`];
    const fx = x[a.from] + W / 2, low = bottom + 30 + i * 26;
    svg.append(h("svg:path", { d: `M${fx},${bottom} C${fx},${low} ${to.x},${low} ${to.x},${to.y}`, fill: "none", stroke: "#0b5cad", "stroke-width": 2, "marker-end": "url(#arrow)" }),
      h("svg:text", { x: (fx + to.x) / 2 - 90, y: low + 4, "font-size": 12, fill: "#1b1f24" }, `${a.from} dials ${a.e.name} (${a.p.name})`));
  });
  return h("section", { "aria-labelledby": "h-cm" },
    h("h1", { id: "h-cm" }, "Cross-mesh map"),
    h("p", { class: "muted" }, "Meshes as boxes, cross-mesh listeners as exits, arrows from the meshes a TrafficPermission lets in."),
    svg,
    table("Exposures", ["Mesh", "Gateway", "Consumers dial", "Also resolves", "Gateway replicas", "Allowed by"], view.exposures.map((e) => [
      e.mesh, e.gateway, h("code", {}, `${e.name}:${e.port}`), h("code", {}, e.internalName), String(e.endpoints),
      e.allowed.length ? e.allowed.map((p) => `${p.name} (from ${p.meshes.join(", ")})`).join("; ") : h("span", { class: "warn" }, "no TrafficPermission selects the gateway")])));
}

let explainState = { fields: null, result: null, error: null };

async function explainPage() {
  const dps = await api("/inspect/dataplanes");
  // Until the operator picks one, the first builtin gateway: the usual question is about one.
  const gwDP = dps.find((d) => d.type === "builtin gateway");
  const f = explainState.fields || { dataplane: gwDP ? `${gwDP.mesh}/${gwDP.name}` : "", port: "", host: "", path: "/", method: "GET", headers: "", source: "", sni: "" };
  const opt = (v, label, sel) => h("option", { value: v, selected: sel }, label);
  const form = h("form", { class: "explain card", id: "explain-form", "aria-labelledby": "h-ex" },
    h("div", {}, h("label", { for: "ex-dp" }, "Dataplane"),
      h("select", { id: "ex-dp", name: "dataplane", required: true },
        dps.map((d) => opt(`${d.mesh}/${d.name}`, `${d.mesh}/${d.name} (${d.type})`, f.dataplane === `${d.mesh}/${d.name}`)))),
    h("div", {}, h("label", { for: "ex-port" }, "Port"), h("input", { id: "ex-port", name: "port", type: "number", min: 1, max: 65535, required: true, value: f.port })),
    h("div", {}, h("label", { for: "ex-host" }, "Host"), h("input", { id: "ex-host", name: "host", value: f.host, placeholder: "foo.example.com" })),
    h("div", {}, h("label", { for: "ex-path" }, "Path"), h("input", { id: "ex-path", name: "path", value: f.path })),
    h("div", {}, h("label", { for: "ex-method" }, "Method"),
      h("select", { id: "ex-method", name: "method" }, ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"].map((m) => opt(m, m, f.method === m)))),
    h("div", {}, h("label", { for: "ex-source" }, "Source SPIFFE ID (optional)"), h("input", { id: "ex-source", name: "source", value: f.source, placeholder: "spiffe://shop/checkout" })),
    h("div", {}, h("label", { for: "ex-sni" }, "TLS server name (SNI, optional)"), h("input", { id: "ex-sni", name: "sni", value: f.sni || "" })),
    h("div", {}, h("label", { for: "ex-alpn" }, "ALPN, comma-separated (optional)"), h("input", { id: "ex-alpn", name: "alpn", value: f.alpn || "", placeholder: "kuma" })),
    h("div", {}, h("label", { for: "ex-tls" }, "Over TLS"),
      h("select", { id: "ex-tls", name: "tls" }, opt("", "as the listener expects", !f.tls), opt("true", "yes", f.tls === "true"), opt("false", "no (plaintext)", f.tls === "false"))),
    h("div", { class: "wide" }, h("label", { for: "ex-headers" }, "Headers, one name=value a line"),
      h("textarea", { id: "ex-headers", name: "headers", rows: 2 }, f.headers)),
    h("div", { class: "wide" }, h("input", { id: "ex-follow", name: "follow", type: "checkbox", value: "true", checked: f.follow === "true" }),
      h("label", { for: "ex-follow" }, " Follow the request to every dataplane it reaches, across meshes (explain --follow)")),
    h("div", { class: "wide" }, h("button", { type: "submit", id: "ex-submit" }, "Explain")));
  const out = h("section", { "aria-labelledby": "h-ex" }, h("h1", { id: "h-ex" }, "Explain a request"), form);
  const res = h("div", { id: "explain-result", "aria-live": "polite" });
  if (explainState.error) res.append(errorBox(explainState.error));
  if (explainState.result && explainState.result.hops) {
    explainState.result.hops.forEach((hop, i) => {
      res.append(h("h2", { class: "hop" }, `Hop ${i + 1}: ${hop.mesh}/${hop.dataplane}` + (hop.request && hop.request.address ? ` (${hop.request.address}:${hop.request.port})` : "")));
      res.append(renderExplain(hop.result));
    });
  } else if (explainState.result) res.append(renderExplain(explainState.result));
  out.append(res);
  return out;
}

function renderExplain(r) {
  const a = r.action || {};
  const rows = [
    ["Listener", r.listener], ["Filter chain", r.filterChain], ["Virtual host", r.virtualHost],
    ["Route", r.route ? `${r.route.name} (rule ${r.route.rule}, match ${r.route.match})` : r.envoyRoute || "—"],
  ];
  if (r.tls) rows.push(["Client certificate", `${r.tls.peer || "none"}: ${r.tls.accepted ? "accepted" : "refused"}` + (r.tls.reason ? ` (${r.tls.reason})` : "")]);
  for (const rb of r.rbac || []) rows.push(["RBAC", `${rb.allowed ? "allowed" : "denied"}${rb.policy ? " by " + rb.policy : ""}`]);
  let action = "—";
  if (a.forward) action = "forward";
  else if (a.redirect) action = `redirect ${a.redirect.statusCode} to ${a.redirect.location}`;
  else if (a.directResponse) action = `respond ${a.directResponse.status}`;
  else if (a.close) action = "close the connection";
  rows.push(["Action", action]);
  if (a.upstreamPath) rows.push(["Upstream path", a.upstreamPath]);
  if (r.reason) rows.push(["Reason", r.reason]);
  return h("div", { class: "card" },
    h("h2", {}, "Answer"),
    table(null, ["", ""], rows.map(([k, v]) => [h("strong", {}, k), v || "—"])),
    a.forward ? table("Backends", ["Service", "Cluster", "Weight", "Endpoints"], a.forward.map((b) => [
      h("strong", { class: "explain-backend" }, b.service || b.cluster), b.cluster, String(b.weight), b.endpoints === undefined ? "—" : String(b.endpoints)])) : null,
    (r.policies || []).length ? table("Policies", ["Kind", "Applied", "Lost, and why"], r.policies.map((p) => [
      p.kind, p.applied || "ignored", (p.lost || []).map((l) => `${l.name}: ${l.reason}`).join("; ") || p.note || "—"])) : null,
    (r.notes || []).length ? h("ul", {}, r.notes.map((n) => h("li", {}, n))) : null,
    h("details", {}, h("summary", {}, "Full answer (JSON, as meshgate explain -o json)"), h("pre", {}, JSON.stringify(r, null, 2))));
}

async function submitExplain(form) {
  const fd = new FormData(form);
  const f = Object.fromEntries(fd.entries());
  explainState.fields = f;
  const [mesh, ...rest] = f.dataplane.split("/");
  const q = new URLSearchParams({ port: f.port });
  for (const k of ["host", "path", "method", "sni"]) if (f[k]) q.set(k, f[k].trim());
  for (const p of (f.alpn || "").split(",")) if (p.trim()) q.append("alpn", p.trim());
  if (f.tls === "true") q.set("tls", "true");
  if (f.tls === "false") q.set("plaintext", "true");
  for (const line of (f.headers || "").split("\n")) if (line.trim()) q.append("header", line.trim());
  if (f.source) q.append("sourceURI", f.source.trim());
  if (f.follow === "true") q.set("follow", "true");
  try {
    explainState.result = await api(dpPath(mesh, rest.join("/"), "explain") + "?" + q.toString());
    explainState.error = null;
  } catch (e) {
    explainState.result = null;
    explainState.error = e;
  }
  await refresh(true, true);
  const res = document.getElementById("explain-result");
  if (res) { res.setAttribute("tabindex", "-1"); res.focus(); }
}

async function caPage() {
  const view = await api("/inspect/meshes");
  const out = h("section", { "aria-labelledby": "h-ca" }, h("h1", { id: "h-ca" }, "Certificate authorities"));
  for (const m of view.meshes) {
    const card = h("article", { class: "card", "aria-labelledby": `ca-${m.name}` }, h("h2", { id: `ca-${m.name}` }, m.name));
    if (!m.mtls) {
      card.append(h("p", { class: "warn" }, "No mTLS: this mesh runs no CA."));
    } else {
      try {
        const st = await api(`/meshes/${enc(m.name)}/ca`);
        const rot = st.rotation || {};
        card.append(h("p", {}, "Enabled backend ", h("strong", {}, st.enabledBackend), st.enabledSince ? ` since ${when(st.enabledSince)}` : ""),
          table("Roots", ["Backend", "Subject", "SHA-256", "Expires", "Leaves", "Drops at"], (st.roots || []).map((r) => [
            r.backend + (r.enabled ? " (enabled)" : "") + (r.retiredFrom ? ` (from ${r.retiredFrom})` : ""), r.subject,
            h("code", {}, (r.sha256 || "").slice(0, 16) + "…"), when(r.notAfter), String(r.leaves), r.dropAt ? when(r.dropAt) : "—"])),
          h("p", {}, "Leaves by backend: ", Object.entries(rot.leavesByBackend || {}).map(([b, n]) => h("span", { class: "pill" }, `${b}: ${n}`)),
            rot.pendingReissues ? h("span", { class: "warn" }, ` rotation in progress: ${rot.pendingReissues} to re-issue`) : h("span", { class: "ok" }, " no rotation in progress")));
      } catch (e) {
        card.append(errorBox(e));
      }
    }
    out.append(card);
  }
  return out;
}

// ---- routing and polling -------------------------------------------------------------------

function route() {
  const parts = location.hash.replace(/^#\/?/, "").split("/").map(decodeURIComponent);
  switch (parts[0]) {
    case "gateways": return ["gateways", gateways];
    case "dataplanes": return ["dataplanes", dataplanes];
    case "dataplane": return ["dataplanes", () => dataplane(parts[1], parts.slice(2).join("/"))];
    case "crossmesh": return ["crossmesh", crossmesh];
    case "explain": return ["explain", explainPage];
    case "ca": return ["ca", caPage];
    default: return ["overview", overview];
  }
}

async function refresh(force, keepFields) {
  const gen = ++generation;
  const [page, render] = route();
  // Keep the explain form's unsent input: a refresh must not wipe what the operator typed.
  const form = document.getElementById("explain-form");
  if (form && page === "explain" && !keepFields) explainState.fields = Object.fromEntries(new FormData(form).entries());
  for (const a of document.querySelectorAll("nav a")) {
    if (a.dataset.page === page) a.setAttribute("aria-current", "page"); else a.removeAttribute("aria-current");
  }
  const status = document.getElementById("status");
  status.textContent = "Refreshing…";
  let view;
  try {
    // A dataplane that has been sent a configuration and not yet answered is applying it.
    const [v, dps, meshes] = await Promise.all([render(), api("/inspect/dataplanes"), api("/inspect/meshes")]);
    view = v;
    const applying = dps.filter((d) => d.applying).length;
    status.textContent = meshes.rebuilding
      ? "Rebuilding the configuration after a change…"
      : applying
        ? `Rebuilding… ${applying} dataplane${applying > 1 ? "s" : ""} applying a new configuration`
        : "Live · updated " + new Date().toLocaleTimeString();
  } catch (e) {
    view = h("section", {}, h("h1", {}, "Unavailable"), errorBox(e));
    status.textContent = e.status === 401 ? "Admin token required" : "Control plane unreachable or refusing; retrying";
  }
  if (gen !== generation) return; // a newer refresh started (navigation)
  const html = view.outerHTML;
  if (force || html !== lastHTML) {
    document.getElementById("main").replaceChildren(view);
    lastHTML = html;
    const ef = document.getElementById("explain-form");
    if (ef) ef.addEventListener("submit", (ev) => { ev.preventDefault(); submitExplain(ef); });
  }
}

function schedule() {
  clearTimeout(pollTimer);
  pollTimer = setTimeout(async () => {
    // The explain page only changes on submit (and its dataplane list, rarely): skip while typing.
    const active = document.activeElement;
    if (!(active && active.closest && active.closest("#explain-form"))) await refresh(false);
    schedule();
  }, POLL_MS);
}

window.addEventListener("hashchange", async () => {
  lastHTML = "";
  await refresh(true);
  document.getElementById("main").focus();
});
refresh(true).then(schedule);
