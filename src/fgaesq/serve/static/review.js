/* fgaesq review: overview keys, and the series view (loupe, compare, why, decisions). No inline scripts (CSP). */
(() => {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const el = (tag, cls, text) => { const e = document.createElement(tag); if (cls) e.className = cls; if (text !== undefined) e.textContent = text; return e; };
  const help = $("help");
  const toggleHelp = (show) => { if (help) help.hidden = show === undefined ? !help.hidden : !show; };
  $("help-button")?.addEventListener("click", () => toggleHelp());
  help?.addEventListener("click", () => toggleHelp(false));
  const isTyping = (e) => e.target && /^(INPUT|TEXTAREA|SELECT)$/.test(e.target.tagName);
  const fmt = (x) => (Math.abs(x) < 0.005 ? "±0.00" : (x > 0 ? "+" : "") + x.toFixed(2));

  async function api(url, body) {
    const opts = body === undefined ? {} : { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) };
    const r = await fetch(url, opts);
    if (!r.ok) { let d = r.statusText; try { d = (await r.json()).detail || d; } catch (_) { /* not JSON */ } throw new Error(d); }
    return r.json();
  }

  function commonKeys(e) {
    if (e.key === "?") { toggleHelp(); return true; }
    if (e.key === "Escape" && help && !help.hidden) { toggleHelp(false); return true; }
    return false;
  }

  // --- overview ---------------------------------------------------------------------------------
  function initOverview() {
    const cards = Array.from(document.querySelectorAll(".scard"));
    let sel = Math.min(Number(sessionStorage.getItem("fgaesq-review-card") || 0), Math.max(0, cards.length - 1));
    const select = (i) => {
      if (!cards.length) return;
      sel = Math.max(0, Math.min(cards.length - 1, i));
      cards.forEach((c, k) => c.classList.toggle("sel", k === sel));
      cards[sel].scrollIntoView({ block: "nearest" });
      sessionStorage.setItem("fgaesq-review-card", String(sel));
    };
    const perRow = () => { if (cards.length < 2) return 1; const top = cards[0].offsetTop; let n = 0; while (n < cards.length && cards[n].offsetTop === top) n++; return Math.max(1, n); };
    select(sel);
    document.addEventListener("keydown", (e) => {
      if (isTyping(e) || e.ctrlKey || e.metaKey || e.altKey) return;
      if (commonKeys(e)) { e.preventDefault(); return; }
      const k = e.key;
      if (k === "ArrowRight") select(sel + 1);
      else if (k === "ArrowLeft") select(sel - 1);
      else if (k === "ArrowDown") select(sel + perRow());
      else if (k === "ArrowUp") select(sel - perRow());
      else if (k === "Enter" && cards.length) window.location.href = cards[sel].getAttribute("href");
      else if (k === "f" || k === "F") {  // cycle the filter: all -> undecided -> decided
        const order = ["all", "undecided", "decided"];
        const now = new URLSearchParams(location.search).get("filter") || "all";
        window.location.href = "/?filter=" + order[(order.indexOf(now) + 1) % order.length];
      }
      else return;
      e.preventDefault();
    });
    const exp = $("export-picks");
    exp?.addEventListener("click", async () => {
      exp.disabled = true;
      try {
        const r = await api("/api/export-picks", {});
        $("export-result").textContent = `${r.done} photo(s) ${r.moved ? "moved" : "copied"} to ${r.to}` + (r.problems.length ? `; ${r.problems.length} not: ${r.problems[0]}` : "");
      } catch (err) { $("export-result").textContent = String(err.message || err); }
      exp.disabled = false;
    });
  }

  // --- series view ------------------------------------------------------------------------------
  function initSeries() {
    const index = Number(document.body.dataset.series);
    const saved = JSON.parse(sessionStorage.getItem("fgaesq-review-view") || "{}");
    const S = { data: null, cur: 0, ref: null, compare: !!saved.compare, n: saved.n || 2, zoom: "fit", why: !!saved.why, fx: 0.5, fy: 0.5, whyCache: {} };
    const keep = () => sessionStorage.setItem("fgaesq-review-view", JSON.stringify({ compare: S.compare, n: S.n, why: S.why }));
    const frames = () => S.data.frames;
    const curFrame = () => frames()[S.cur];
    const refIndex = () => {
      let r = S.ref === null ? 0 : S.ref;
      if (r === S.cur) r = S.cur + 1 < frames().length ? S.cur + 1 : S.cur - 1;
      return r;
    };
    const toast = (msg) => { const t = $("toast"); t.textContent = msg; t.hidden = false; clearTimeout(toast.timer); toast.timer = setTimeout(() => { t.hidden = true; }, 2500); };

    function paneFrames() {
      if (!S.compare || frames().length < 2) return [S.cur];
      const n = Math.min(S.n, frames().length);
      const ref = S.ref === null ? 0 : S.ref;
      const others = [];  // the reference stays first; the others follow the current frame
      for (let i = S.cur; others.length < n - 1 && i < frames().length; i++) if (i !== ref) others.push(i);
      for (let i = S.cur - 1; others.length < n - 1 && i >= 0; i--) if (i !== ref) others.unshift(i);
      return [ref, ...others];
    }

    function flagText(f) { return (f.flag === "pick" ? "✓ pick" : f.flag === "reject" ? "✗ reject" : "") + (f.stars ? " " + "★".repeat(f.stars) : ""); }

    function renderStrip() {
      const strip = $("strip");
      strip.replaceChildren();
      frames().forEach((f, i) => {
        const b = el("button", "thumb" + (i === S.cur ? " cur" : "") + (f.flag ? " " + f.flag : ""));
        b.type = "button"; b.dataset.index = String(i); b.id = "thumb-" + i;
        const img = el("img"); img.src = f.thumb; img.alt = f.name; img.loading = "lazy";
        b.append(img);
        const cap = el("span", "cap");
        cap.append(el("b", null, "#" + f.rank), document.createTextNode(" " + f.score.toFixed(2)));
        if (f.id === S.data.model_best) cap.append(el("span", "mark model", " model best"));
        if (f.id === S.data.best) cap.append(el("span", "mark yours", " your best"));
        if (S.ref !== null && i === S.ref) cap.append(el("span", "mark ref", " ⚲ ref"));
        b.append(cap, el("span", "flag", flagText(f)));
        b.addEventListener("click", () => { S.cur = i; render(); });
        strip.append(b);
      });
      strip.querySelector(".cur")?.scrollIntoView({ block: "nearest", inline: "nearest" });
    }

    function layoutImage(pane, img) {
      const wrap = img.parentElement;
      if (!img.naturalWidth) return;
      let w, h;
      if (S.zoom === "fit") {
        const s = Math.min(pane.clientWidth / img.naturalWidth, pane.clientHeight / img.naturalHeight);
        w = Math.max(1, Math.floor(img.naturalWidth * s)); h = Math.max(1, Math.floor(img.naturalHeight * s));
      } else { w = img.naturalWidth; h = img.naturalHeight; }
      img.style.width = w + "px"; img.style.height = h + "px";
      wrap.style.width = w + "px"; wrap.style.height = h + "px";
      if (S.zoom === "100") panScroll.set(pane, S.fx * w - pane.clientWidth / 2, S.fy * h - pane.clientHeight / 2);
    }

    function onScroll(pane) {
      if (panScroll.own(pane) || S.zoom !== "100") return;
      const img = pane.querySelector("img.photo");
      if (!img || !img.clientWidth) return;
      S.fx = (pane.scrollLeft + pane.clientWidth / 2) / img.clientWidth;
      S.fy = (pane.scrollTop + pane.clientHeight / 2) / img.clientHeight;
      document.querySelectorAll(".pane").forEach((p) => {
        if (p === pane) return;
        const im = p.querySelector("img.photo");
        if (im) panScroll.set(p, S.fx * im.clientWidth - p.clientWidth / 2, S.fy * im.clientHeight - p.clientHeight / 2);
      });
    }

    function enableDrag(pane) {
      let start = null;
      pane.addEventListener("mousedown", (e) => { if (S.zoom === "100") { start = [e.clientX, e.clientY, pane.scrollLeft, pane.scrollTop]; e.preventDefault(); } });
      window.addEventListener("mouseup", () => { start = null; });
      pane.addEventListener("mousemove", (e) => { if (start) { pane.scrollLeft = start[2] - (e.clientX - start[0]); pane.scrollTop = start[3] - (e.clientY - start[1]); } });
    }

    function renderStage() {
      const stage = $("stage");
      stage.replaceChildren();
      const list = paneFrames();
      stage.className = "stage n" + list.length + (S.zoom === "100" ? " zoomed" : "");
      list.forEach((i) => {
        const f = frames()[i];
        const pane = el("div", "pane" + (i === S.cur ? " cur" : "") + (S.compare && S.ref !== null && i === S.ref ? " ref" : ""));
        pane.dataset.index = String(i); pane.id = "pane-" + i;
        const wrap = el("div", "wrap");
        const img = el("img", "photo"); img.alt = f.name; img.dataset.id = String(f.id);
        img.src = S.zoom === "100" ? f.full : f.preview;
        const overlay = el("div", "overlay"); overlay.dataset.id = String(f.id);
        wrap.append(img, overlay);
        pane.append(wrap);
        const cap = el("div", "caption");
        cap.append(el("b", null, f.name), document.createTextNode(`  #${f.rank}  ${f.score.toFixed(2)}  `), el("span", "flag", flagText(f)));
        if (S.compare && i === (S.ref === null ? 0 : S.ref)) cap.append(el("span", "mark ref", " reference"));
        stage.append(el("div", "cell"));
        stage.lastChild.append(pane, cap);
        img.addEventListener("load", () => { layoutImage(pane, img); drawWhy(); });
        img.addEventListener("click", (e) => {
          if (S.zoom !== "fit") return;
          S.fx = e.offsetX / img.clientWidth; S.fy = e.offsetY / img.clientHeight; S.cur = i; S.zoom = "100"; render();
        });
        pane.addEventListener("scroll", () => onScroll(pane));
        enableDrag(pane);
      });
    }

    function box(cls, b, style) {
      const d = el("div", cls);
      d.style.left = (100 * b[0]) + "%"; d.style.top = (100 * b[1]) + "%"; d.style.width = (100 * b[2]) + "%"; d.style.height = (100 * b[3]) + "%";
      if (style) Object.assign(d.style, style);
      return d;
    }

    function drawWhy() {
      document.querySelectorAll(".overlay").forEach((o) => o.replaceChildren());
      const panel = $("why-panel");
      panel.hidden = !S.why;
      if (!S.why || frames().length < 2) { if (S.why) $("why-text").textContent = "A single frame: nothing to compare."; return; }
      const a = curFrame(), b = frames()[refIndex()];
      const key = a.id + "-" + b.id;
      const w = S.whyCache[key];
      if (!w) {
        $("why-text").textContent = "computing…";
        if (!S.whyCache["pending-" + key]) {
          S.whyCache["pending-" + key] = true;
          api(`/api/why?a=${a.id}&b=${b.id}`).then((r) => { S.whyCache[key] = r; drawWhy(); })
            .catch((err) => { $("why-text").textContent = "why is not available: " + (err.message || err); });
        }
        return;
      }
      for (const [fid, part] of [[a.id, w.a], [b.id, w.b]]) {
        const o = document.querySelector(`.overlay[data-id="${fid}"]`);
        if (!o || !part) continue;
        (part.cells || []).forEach((c) => { if (c[4] > 0.2) o.append(box("imp", c, { opacity: (0.6 * c[4] * c[4]).toFixed(3) })); });
        (part.fine || []).forEach((c) => o.append(box("fine", c)));
        (part.views || []).forEach((c) => o.append(box("view", c)));
      }
      const t = $("why-text");
      t.replaceChildren();
      const better = w.margin > -0.005;
      t.append(el("p", null, `${w.a_name} against ${w.b_name} (reference):`));
      t.append(el("p", "margin " + (better ? "up" : "down"), `${w.scores[0].toFixed(2)} vs ${w.scores[1].toFixed(2)} in this comparison: margin ${fmt(w.margin)}`));
      t.append(el("p", null, `Series scores: margin ${fmt(w.series_margin)} (over all its comparisons).`));
      t.append(el("p", "muted", Math.abs(w.margin) < 0.005 ? "A tie in this comparison." : better ? "The model prefers this frame." : "The model prefers the reference."));
      const legend = $("why-legend");
      legend.replaceChildren();
      if (w.kind === "difftoken") {
        legend.append(el("p", null, "Orange: cells where the two frames differ most (1 − SSIM, 32-px cells) — DiffToken's importance map."));
        legend.append(el("p", null, "Cyan boxes: the cells chosen for full-resolution (fine) tokens in this comparison."));
      } else if (w.kind === "views") {
        legend.append(el("p", null, `Yellow boxes: the crops fgaesq-lite scored ${w.pair_crops ? "(where the frames differ most)" : "(fixed positions)"}, besides the whole frame.`));
      } else legend.append(el("p", null, "This model reports no regions."));
    }

    function renderHeader() {
      const d = S.data;
      $("near-tie").hidden = !d.near_tie;
      if (d.near_tie) $("near-tie").title = `the top two are ${d.margin.toFixed(2)} points apart`;
      const st = $("series-state");
      st.textContent = d.decided ? "decided" : "undecided";
      st.className = "badge " + (d.decided ? "done" : "open");
      $("mode-line").textContent = [S.compare ? `compare ${paneFrames().length}` : "loupe", S.zoom === "100" ? "100 %" : "fit", S.why ? "why" : ""].filter(Boolean).join(" · ");
    }

    function render() {
      history.replaceState(null, "", "#f=" + S.cur);
      renderHeader(); renderStrip(); renderStage(); drawWhy();
    }

    let leaving = false;  // set once this page navigates away: queued decisions must not touch the next series
    async function gotoSeries(i) { leaving = true; keep(); window.location.href = `/series/${i}`; }

    async function nextUndecided() {
      const ov = await api("/api/overview");
      const n = ov.series.length;
      for (let k = 1; k <= n; k++) {
        const s = ov.series[(index + k) % n];
        if (!s.decided) return gotoSeries(s.index);
      }
      leaving = true; keep(); window.location.href = "/?filter=all";
    }

    // decisions run one after the other, each on the frame current when its turn comes (fast typing is safe)
    let queue = Promise.resolve();
    const decide = (action, stars) => { queue = queue.then(() => decideNow(action, stars)); return queue; };

    async function decideNow(action, stars) {
      if (leaving) return;
      const f = curFrame();
      try {
        const d = await api("/api/decide", { frame: f.id, action, stars });
        S.data = d;
        (d.warnings || []).forEach((w) => toast(w));
        if (!(d.warnings || []).length) toast(`saved: ${action === "stars" ? stars + " stars" : action} ${f.name}`);
        if (action === "best") return nextUndecided();
        if (S.cur + 1 < frames().length) S.cur += 1;
        else if (d.decided) return nextUndecided();
        else { const open = frames().findIndex((x) => !x.flag); if (open >= 0) S.cur = open; }
        render();
      } catch (err) { toast("not saved: " + (err.message || err)); }
    }

    document.addEventListener("keydown", (e) => {
      if (!S.data || isTyping(e) || e.ctrlKey || e.metaKey || e.altKey) return;
      if (commonKeys(e)) { e.preventDefault(); return; }
      const k = e.key.length === 1 ? e.key.toLowerCase() : e.key;
      const n = frames().length;
      switch (k) {
        case "ArrowLeft": if (S.cur > 0) { S.cur--; render(); } break;
        case "ArrowRight": if (S.cur + 1 < n) { S.cur++; render(); } break;
        case "ArrowUp": if (S.data.prev !== null) gotoSeries(S.data.prev); break;
        case "ArrowDown": if (S.data.next !== null) gotoSeries(S.data.next); break;
        case "p": decide("pick"); break;
        case "x": decide("reject"); break;
        case "u": decide("unflag"); break;
        case "b": decide("best"); break;
        case "0": case "1": case "2": case "3": case "4": case "5": decide("stars", Number(k)); break;
        case "z": S.zoom = S.zoom === "fit" ? "100" : "fit"; render(); break;
        case "c": S.compare = !S.compare; keep(); render(); break;
        case "+": case "=": S.n = Math.min(4, S.n + 1); S.compare = true; keep(); render(); break;
        case "-": S.n = Math.max(2, S.n - 1); keep(); render(); break;
        case "r": S.ref = S.cur; render(); toast(`reference: ${curFrame().name}`); break;
        case "w": S.why = !S.why; keep(); render(); break;
        case "g": leaving = true; keep(); window.location.href = "/"; break;
        case "Escape": if (S.zoom === "100") { S.zoom = "fit"; render(); } break;
        default: return;
      }
      e.preventDefault();
    });
    window.addEventListener("resize", () => document.querySelectorAll(".pane").forEach((p) => { const im = p.querySelector("img.photo"); if (im) layoutImage(p, im); }));

    api(`/api/series/${index}`).then((d) => {
      S.data = d;
      const m = /#f=(\d+)/.exec(location.hash);
      S.cur = m ? Math.min(Number(m[1]), d.frames.length - 1) : 0;
      render();
      document.body.dataset.ready = "1";
    }).catch((err) => { $("stage").textContent = "cannot load this series: " + (err.message || err); });
  }

  if (document.body.classList.contains("overview")) initOverview();
  else if (document.body.classList.contains("series-view")) initSeries();
})();
