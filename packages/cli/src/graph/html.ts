/**
 * The DAG as one self-contained HTML page: the SVG inline, the events' JSON embedded, pan (drag)
 * and zoom (wheel, buttons, keyboard), and a panel with the clicked event's status, rule, reason,
 * resolved conflicts and full JSON. No external resource is loaded (no network, no CDN).
 * @packageDocumentation
 */
import type { RoomGraph } from './model.js';

/** Data embedded in the page for one node (`n<index>`). */
interface NodeData {
  readonly id: string;
  readonly status: string;
  readonly rule?: string;
  readonly reason?: string;
  readonly extremity: boolean;
  readonly conflict?: string;
  readonly resolution?: readonly { readonly type: string; readonly stateKey: string; readonly candidates: readonly string[]; readonly winner: string | null }[];
  readonly json: unknown;
}

/** JSON safe to put inside a `<script>` element (no `</script>`, `<!--`, U+2028/9 breakage). */
function scriptJson(v: unknown): string {
  return JSON.stringify(v).replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

const CSS = `
html,body{margin:0;height:100%;font:13px/1.4 system-ui,-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;color:#1d2733}
#top{position:fixed;top:0;left:0;right:0;height:40px;display:flex;align-items:center;gap:8px;padding:0 12px;background:#f6f8fa;border-bottom:1px solid #d0d7de;z-index:2}
#top h1{font-size:14px;margin:0 12px 0 0;font-weight:600;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
#top button{font:inherit;padding:3px 9px;border:1px solid #b6bec8;border-radius:5px;background:#fff;cursor:pointer}
#top input{font:inherit;padding:3px 6px;border:1px solid #b6bec8;border-radius:5px;width:260px}
#view{position:fixed;top:41px;left:0;right:0;bottom:0;overflow:hidden;cursor:grab;background:#fff}
#view.dragging{cursor:grabbing}
#canvas{transform-origin:0 0;position:absolute;top:0;left:0}
#panel{position:fixed;top:41px;right:0;bottom:0;width:min(520px,45vw);background:#fbfcfd;border-left:1px solid #d0d7de;overflow:auto;padding:12px 14px;box-sizing:border-box;display:none;z-index:1}
#panel.open{display:block}
#panel pre{white-space:pre-wrap;word-break:break-all;background:#f3f5f7;padding:8px;border-radius:6px;font:12px/1.35 ui-monospace,Menlo,Consolas,monospace}
#panel .status{display:inline-block;padding:1px 8px;border-radius:10px;font-weight:600}
.status.accepted{background:#dcefe0;color:#1b5e20}.status.rejected{background:#fde0e0;color:#b71c1c}.status.soft-failed{background:#ffe9d2;color:#bf360c}.status.outlier{background:#eee;color:#555}
g.node{cursor:pointer}
g.node.selected polygon, g.node.selected path, g.node.selected ellipse{stroke:#d81b60 !important;stroke-width:4px !important}
#hint{color:#57606a;font-size:12px;margin-left:auto;white-space:nowrap}
`;

const SCRIPT = `
(function(){
  var data = JSON.parse(document.getElementById('events').textContent);
  function has(k){ return Object.prototype.hasOwnProperty.call(data, k); }
  var view = document.getElementById('view'), canvas = document.getElementById('canvas'), panel = document.getElementById('panel');
  var svg = canvas.querySelector('svg');
  var s = 1, x = 0, y = 0;
  function apply(){ canvas.style.transform = 'translate(' + x + 'px,' + y + 'px) scale(' + s + ')'; }
  function size(){ var w = svg.width.baseVal.value || svg.getBBox().width, h = svg.height.baseVal.value || svg.getBBox().height; return [w, h]; }
  function fit(){ var wh = size(); var vw = view.clientWidth, vh = view.clientHeight; s = Math.min(vw / wh[0], vh / wh[1], 1); x = (vw - wh[0] * s) / 2; y = 8; apply(); }
  function zoomAt(f, cx, cy){ var ns = Math.max(0.02, Math.min(8, s * f)); x = cx - (cx - x) * ns / s; y = cy - (cy - y) * ns / s; s = ns; apply(); }
  view.addEventListener('wheel', function(e){ e.preventDefault(); var r = view.getBoundingClientRect(); zoomAt(Math.exp(-e.deltaY * 0.0015), e.clientX - r.left, e.clientY - r.top); }, { passive: false });
  var drag = null;
  view.addEventListener('pointerdown', function(e){ drag = { px: e.clientX, py: e.clientY, x: x, y: y, moved: false }; view.classList.add('dragging'); });
  window.addEventListener('pointermove', function(e){ if (!drag) return; var dx = e.clientX - drag.px, dy = e.clientY - drag.py; if (Math.abs(dx) + Math.abs(dy) > 3) drag.moved = true; x = drag.x + dx; y = drag.y + dy; apply(); });
  window.addEventListener('pointerup', function(e){ var d = drag; drag = null; view.classList.remove('dragging'); if (d && !d.moved) pick(e.target); });
  function el(tag, text, cls){ var n = document.createElement(tag); if (text !== undefined) n.textContent = text; if (cls) n.className = cls; return n; }
  var selected = null;
  function show(key){
    if (!has(key)) return; var d = data[key];
    if (selected) selected.classList.remove('selected');
    selected = document.getElementById(key); if (selected) selected.classList.add('selected');
    panel.textContent = '';
    panel.appendChild(el('h2', d.id)).style.cssText = 'font-size:13px;word-break:break-all;margin:0 0 8px';
    var p = el('p'); p.appendChild(el('span', d.status, 'status ' + d.status));
    if (d.extremity) p.appendChild(el('span', '  ▲ forward extremity'));
    if (d.conflict) p.appendChild(el('span', d.conflict === 'won' ? '  ✓ won a state conflict' : '  ✗ lost a state conflict'));
    panel.appendChild(p);
    if (d.rule) panel.appendChild(el('p', 'rule: ' + d.rule));
    if (d.reason) panel.appendChild(el('p', 'reason: ' + d.reason));
    if (d.resolution) {
      panel.appendChild(el('h3', 'State resolved at this merge')).style.fontSize = '13px';
      var ul = el('ul');
      d.resolution.forEach(function(c){ ul.appendChild(el('li', c.type + ' [' + c.stateKey + ']: ' + c.candidates.join(' vs ') + ' → ' + (c.winner || 'none'))); });
      panel.appendChild(ul);
    }
    panel.appendChild(el('h3', 'Event JSON')).style.fontSize = '13px';
    panel.appendChild(el('pre', JSON.stringify(d.json, null, 2)));
    var close = el('button', 'close'); close.onclick = function(){ panel.classList.remove('open'); if (selected) selected.classList.remove('selected'); };
    panel.appendChild(close);
    panel.classList.add('open');
    location.hash = key;
  }
  function pick(t){ while (t && t !== view) { if (t.id && has(t.id)) { show(t.id); return; } t = t.parentNode; } }
  document.getElementById('fit').onclick = fit;
  document.getElementById('zin').onclick = function(){ zoomAt(1.25, view.clientWidth / 2, view.clientHeight / 2); };
  document.getElementById('zout').onclick = function(){ zoomAt(0.8, view.clientWidth / 2, view.clientHeight / 2); };
  document.getElementById('one').onclick = function(){ s = 1; x = 8; y = 8; apply(); };
  document.getElementById('find').addEventListener('keydown', function(e){
    if (e.key !== 'Enter') return; var q = e.target.value.trim(); if (!q) return;
    for (var k in data) if (data[k].id.indexOf(q) === 0) { show(k); var b = document.getElementById(k).getBoundingClientRect(), r = view.getBoundingClientRect(); x += r.left + view.clientWidth / 3 - (b.left + b.width / 2); y += r.top + view.clientHeight / 2 - (b.top + b.height / 2); apply(); return; }
  });
  window.addEventListener('keydown', function(e){ if (e.target.tagName === 'INPUT') return; if (e.key === '+' || e.key === '=') document.getElementById('zin').click(); if (e.key === '-') document.getElementById('zout').click(); if (e.key === '0') fit(); if (e.key === 'Escape') panel.classList.remove('open'); });
  window.roomgraph = { show: show, fit: fit, data: data };
  // Start readable: full width when that is legible, else actual size; the top (oldest) first.
  (function(){ var wh = size(); s = Math.max(Math.min(view.clientWidth / wh[0], 1), 0.6); x = Math.max((view.clientWidth - wh[0] * s) / 2, 8); y = 8; apply(); })();
  if (location.hash.length > 1 && has(location.hash.slice(1))) show(location.hash.slice(1));
})();
`;

/** The page: `svg` is the Graphviz output for `graph` (node IDs `n<index>` as in `toDot`). */
export function toHtml(graph: RoomGraph, svg: string): string {
  const data: Record<string, NodeData> = {};
  graph.nodes.forEach((n, i) => {
    data[`n${i}`] = {
      id: n.id,
      status: n.status,
      ...(n.rule !== undefined ? { rule: n.rule } : {}),
      ...(n.reason !== undefined ? { reason: n.reason } : {}),
      extremity: n.extremity,
      ...(n.conflict !== undefined ? { conflict: n.conflict } : {}),
      ...(n.resolution !== undefined ? { resolution: n.resolution.map((c) => ({ ...c, winner: c.winner ?? null })) } : {}),
      json: n.json,
    };
  });
  const title = `roomgraph: ${graph.roomId} — ${graph.nodes.length} of ${graph.totalEvents} events`;
  const inlineSvg = svg.replace(/^<\?xml[^>]*>\s*/, '').replace(/^<!DOCTYPE[^>]*>\s*/, '').replace(/^<!--[\s\S]*?-->\s*/g, '');
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<title>${escapeHtml(title)}</title>
<style>${CSS}</style></head>
<body>
<div id="top"><h1>${escapeHtml(title)}</h1>
<button id="fit" title="fit the whole graph (0)">fit</button><button id="one" title="actual size">1:1</button><button id="zin" title="zoom in (+)">+</button><button id="zout" title="zoom out (-)">−</button>
<input id="find" placeholder="event ID (prefix), Enter" aria-label="find an event">
<span id="hint">drag to pan · wheel to zoom · click an event for its JSON</span></div>
<div id="view"><div id="canvas">${inlineSvg}</div></div>
<aside id="panel" aria-live="polite"></aside>
<script type="application/json" id="events">${scriptJson(data)}</script>
<script>${SCRIPT}</script>
</body></html>
`;
}
