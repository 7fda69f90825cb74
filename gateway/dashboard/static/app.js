// The dashboard: draws status.json (an overview.Report) and asks again
// every two seconds. Every value goes in with textContent, never as HTML:
// file paths and node addresses are anyone's data.
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  const short = (id) => (id || "").slice(0, 12);
  const bytes = (n) => {
    const u = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let i = 0;
    n = Number(n || 0);
    while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
    return (i === 0 ? n : n.toFixed(1)) + " " + u[i];
  };
  const set = (id, v) => { $(id).textContent = String(v); };
  const cell = (tr, text, opts) => {
    const td = document.createElement("td");
    td.textContent = text === undefined || text === null ? "" : String(text);
    if (opts && opts.cls) td.className = opts.cls;
    if (opts && opts.title) td.title = opts.title;
    if (opts && opts.key) td.dataset.k = opts.key;
    tr.appendChild(td);
    return td;
  };
  const rows = (tableId, items, fill) => {
    const body = $(tableId).tBodies[0];
    const out = document.createDocumentFragment();
    for (const it of items || []) {
      const tr = document.createElement("tr");
      fill(tr, it);
      out.appendChild(tr);
    }
    body.replaceChildren(out);
  };

  function draw(r) {
    const ready = $("ready");
    ready.textContent = r.ready ? "ready" : "NOT READY";
    ready.className = "badge " + (r.ready ? "ok" : "bad");
    set("generated", new Date(r.generated).toLocaleTimeString());
    set("files", r.files);
    set("slices", r.slices);
    set("under-replicated", r.under_replicated);
    set("pending-repairs", r.pending_repairs);
    set("alive", (r.nodes || []).filter((n) => n.state === "alive").length + " / " + (r.nodes || []).length);
    set("height", r.chain ? r.chain.height : "no chain");
    set("chain-id", r.chain ? r.chain.chain_id : (r.chain_error || ""));
    set("period", r.ledger ? r.ledger.period : "–");
    set("period-end", r.ledger && r.ledger.period_end ? "ends " + new Date(r.ledger.period_end).toLocaleTimeString() : "");
    set("prepay", r.prepay ? r.prepay.ustos.toLocaleString("en") : "–");
    set("prepay-account", r.prepay ? "ustos · " + r.prepay.account : "");

    rows("nodes", r.nodes, (tr, n) => {
      tr.dataset.id = n.id;
      cell(tr, short(n.id), { title: n.id + " at " + n.addr, key: "id" });
      cell(tr, n.region);
      cell(tr, n.state, { cls: "state-" + n.state, key: "state" });
      const free = cell(tr, "", { key: "free" });
      free.dataset.bytes = n.free;
      const bar = document.createElement("span");
      bar.className = "bar";
      const fill = document.createElement("span");
      fill.style.width = (n.capacity ? Math.round(100 * n.free / n.capacity) : 0) + "%";
      bar.appendChild(fill);
      free.appendChild(bar);
      free.appendChild(document.createTextNode(bytes(n.free) + " of " + bytes(n.capacity)));
      cell(tr, n.slices, { key: "slices" });
      cell(tr, n.connections);
      cell(tr, n.disputes, { key: "disputes" });
      cell(tr, n.last_seen ? new Date(n.last_seen).toLocaleTimeString() : "");
    });
    rows("metas", r.meta_nodes, (tr, m) => {
      tr.dataset.id = m.id;
      cell(tr, short(m.id), { title: m.id, key: "id" });
      cell(tr, m.addr);
      cell(tr, m.state, { cls: "state-" + m.state, key: "state", title: m.error || "" });
      cell(tr, m.voter ? "yes" : "no");
      cell(tr, m.raft_term, { key: "term" });
      cell(tr, m.applied_index);
      cell(tr, m.commit_index);
      cell(tr, short(m.leader_id), { title: m.leader_id, key: "leader" });
    });
    rows("owned", r.owned_files, (tr, f) => {
      tr.dataset.path = f.path;
      cell(tr, f.path + (f.encrypted ? "  (encrypted)" : ""), { cls: "path", key: "path" });
      cell(tr, bytes(f.size));
      cell(tr, f.slices, { key: "slices" });
      cell(tr, f.min_copies, { key: "copies" });
      cell(tr, (f.holders || []).map(short).join(", "), { cls: "path", title: (f.holders || []).join("\n") });
    });
    rows("blocks", r.blocks, (tr, b) => {
      cell(tr, b.height, { key: "height" });
      cell(tr, new Date(b.time).toLocaleTimeString());
      cell(tr, b.txs);
      cell(tr, short(b.hash), { title: b.hash });
    });
    set("ledger-period", r.ledger && r.ledger.reported ? r.ledger.last_reported + " (last reported)" : "none reported yet");
    rows("ledger", r.ledger ? r.ledger.nodes : [], (tr, n) => {
      tr.dataset.id = n.id;
      cell(tr, n.rank, { key: "rank" });
      cell(tr, short(n.id), { title: n.id });
      cell(tr, bytes(n.traffic), { key: "traffic" });
      cell(tr, n.rewards + " ustos", { key: "rewards" });
    });
    const roundText = (x) => x ? "#" + x.id + " " + x.phase + (x.phase === "done" ? (x.result ? ", true " : ", false ") + x.majority + "/" + x.members : "") : "none yet";
    rows("apps", r.apps, (tr, a) => {
      tr.dataset.id = a.id;
      cell(tr, short(a.id), { title: a.id, key: "id" });
      cell(tr, a.name);
      cell(tr, a.status, { key: "status" });
      cell(tr, a.nodes);
      cell(tr, a.rounds + " (" + a.true_rounds + ")", { key: "rounds" });
      cell(tr, roundText(a.last_round));
      cell(tr, a.escrow);
    });
    rows("open-rounds", r.open_rounds, (tr, x) => {
      cell(tr, x.id, { key: "id" });
      cell(tr, x.slice ? "storage of " + short(x.slice.replace(/^sha256-/, "")) : short(x.app), { title: x.slice || x.app });
      cell(tr, x.phase);
      cell(tr, x.members);
      cell(tr, x.opened);
    });
    document.body.dataset.drawn = String(Number(document.body.dataset.drawn || 0) + 1);
  }

  async function refresh() {
    try {
      const resp = await fetch("/dashboard/status.json", { cache: "no-store" });
      const body = await resp.json();
      if (!resp.ok) throw new Error(body.error || resp.statusText);
      $("error").hidden = true;
      draw(body);
    } catch (e) {
      const el = $("error");
      el.textContent = "cannot reach the network: " + e.message;
      el.hidden = false;
    }
    setTimeout(refresh, 2000);
  }
  refresh();
})();
