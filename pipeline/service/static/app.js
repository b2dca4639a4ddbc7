// The page: look up a variant (scores per gene, then the tracks around it) or show a gene's or a
// region's tracks. Plain JS and SVG, nothing loaded from elsewhere. Data only ever goes into
// textContent and SVG attributes, never into HTML.
"use strict";

const VARIANT = /^\s*((?:chr)?[A-Za-z0-9_.]{1,40}?)[:\-\s]+([\d,_]{1,15})(?:[:\-]|\s+|:\s*)([A-Za-z]+)\s*(?:[:>\-]|\s)\s*([A-Za-z]+)\s*$/;
const HGVS = /^\s*((?:chr)?[A-Za-z0-9_]{1,40}):g\.([\d,_]{1,15})([A-Za-z])>([A-Za-z])\s*$/;  // chr17:g.41276126C>A
const SVG = "http://www.w3.org/2000/svg";
const $ = (id) => document.getElementById(id);

function status(text, isError) {
  $("status").textContent = text;
  $("status").className = isError ? "error" : "";
}

async function getJSON(url) {
  const response = await fetch(url, { headers: { Accept: "application/json" } });
  let body;
  try { body = await response.json(); } catch (e) { body = { error: `HTTP ${response.status}` }; }
  if (!response.ok) {
    const retry = response.headers.get("Retry-After");
    throw new Error((body.error || `HTTP ${response.status}`) + (retry ? ` (retry in ${retry} s)` : ""));
  }
  return body;
}

function settings() {
  const params = new URLSearchParams();
  if ($("hg").value) params.set("hg", $("hg").value);
  params.set("distance", $("distance").value || "50");
  params.set("mask", $("mask").checked ? "true" : "false");
  return params;
}

async function lookUp(query) {
  $("answer").hidden = true;
  $("tracks").hidden = true;
  location.hash = "q=" + encodeURIComponent(query);
  const match = VARIANT.exec(query) || HGVS.exec(query) || /^\s*N[CT]_\d+/.exec(query);
  try {
    if (match) {
      status("looking up " + query + " ...");
      const params = settings();
      params.set("variant", query);
      const answer = await getJSON("/api/v1/score?" + params);
      showAnswer(answer);
      status("");
      const pos = answer.pos, flank = Math.max(answer.distance, 100) + 50;
      await showTracks(`${answer.chrom}:${pos - flank}-${pos + flank}`, answer.build, pos, true);
    } else {
      status("reading tracks of " + query + " ...");
      await showTracks(query, $("hg").value, null, false);
      status("");
    }
  } catch (err) {
    status(err.message, true);
  }
}

function cell(row, text, cls) {
  const td = document.createElement("td");
  td.textContent = text;
  if (cls) td.className = cls;
  row.appendChild(td);
}

function signed(value) {
  return (value > 0 ? "+" : "") + value.toFixed(2);
}

function showAnswer(answer) {
  $("answer-title").textContent = `${answer.chrom}:${answer.pos} ${answer.ref}>${answer.alt} (build ${answer.build || "?"}, distance ${answer.distance}, mask ${answer.mask ? "on" : "off"})`;
  const body = $("scores").querySelector("tbody");
  body.replaceChildren();
  for (const gene of answer.genes) {
    const row = document.createElement("tr");
    cell(row, gene.gene_name === gene.gene_id ? gene.gene_id : `${gene.gene_name} (${gene.gene_id})`);
    cell(row, signed(gene.gain), "gain");
    cell(row, (gene.gain_pos > 0 ? "+" : "") + gene.gain_pos + " bp");
    cell(row, signed(gene.loss), "loss");
    cell(row, (gene.loss_pos > 0 ? "+" : "") + gene.loss_pos + " bp");
    cell(row, gene.warning || "");
    body.appendChild(row);
  }
  if (!answer.genes.length) {
    const row = document.createElement("tr");
    cell(row, "no annotated gene contains this variant");
    body.appendChild(row);
  }
  $("source").textContent = answer.source === "store"
    ? `source: precomputed, all-SNV store ${answer.store}`
    : "source: computed now with the model";
  $("source").dataset.source = answer.source;
  $("answer").hidden = false;
}

async function showTracks(query, build, variantPos, optional) {
  const params = new URLSearchParams({ q: query, points: "1200" });
  if (build) params.set("hg", build);
  let data;
  try {
    data = await getJSON("/api/v1/tracks?" + params);
  } catch (err) {
    if (optional) {  // a variant without a track store still has its scores
      $("tracks-title").textContent = "no tracks: " + err.message;
      $("plot").replaceChildren();
      $("tracks").hidden = false;
      return;
    }
    throw err;
  }
  draw(data, variantPos);
}

function el(name, attrs, parent) {
  const node = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (parent) parent.appendChild(node);
  return node;
}

function text(parent, x, y, value, anchor) {
  const node = el("text", { x, y, "text-anchor": anchor || "start" }, parent);
  node.textContent = value;
  return node;
}

function draw(data, variantPos) {
  const where = `${data.chrom}:${data.start.toLocaleString()}-${data.end.toLocaleString()}`;
  $("tracks-title").textContent = (data.gene ? `${data.gene} (${where}, ${data.strand} strand)` : where)
    + ` from ${data.store}` + (data.bin > 1 ? `, maximum per ${data.bin} bp` : "");
  const width = 1000, left = 70, right = 10, panel = 70, gap = 14, geneRow = 40;
  const height = data.tissues.length * (panel + gap) + geneRow + 30;
  const svg = el("svg", { width, height, viewBox: `0 0 ${width} ${height}`, id: "track-svg" });
  const span = data.end - data.start + 1;
  const x = (pos) => left + ((pos - data.start) / span) * (width - left - right);
  const strands = Object.keys(data.tracks);
  const usageStrand = data.strand || (strands.includes("+") ? "+" : strands[0]);
  data.tissues.forEach((tissue, t) => {
    const top = t * (panel + gap) + 4;
    const g = el("g", { class: "panel", "data-tissue": tissue }, svg);
    el("rect", { x: left, y: top, width: width - left - right, height: panel, fill: "#fafafa", stroke: "#ccc" }, g);
    text(g, left - 6, top + panel / 2 + 4, tissue, "end");
    text(g, left + 2, top + 10, "1", "start");
    const y = (v) => top + panel - v * (panel - 4);
    for (const strand of strands) {
      const values = data.tracks[strand].p_splice[tissue];
      let d = "";
      values.forEach((v, i) => {
        if (v !== null && v > 0.005) {
          const px = x(data.positions[i]).toFixed(1);
          d += `M${px} ${top + panel}V${y(v).toFixed(1)}`;
        }
      });
      el("path", { d, stroke: strand === "+" ? "#1565c0" : "#ef6c00", "stroke-width": 1.5, fill: "none",
                   class: "p-splice", "data-strand": strand }, g);
    }
    const usage = data.tracks[usageStrand].usage[tissue];
    let d = "", pen = "M";
    usage.forEach((v, i) => {
      if (v === null) { pen = "M"; return; }
      d += `${pen}${x(data.positions[i]).toFixed(1)} ${y(v).toFixed(1)}`;
      pen = "L";
    });
    el("path", { d, stroke: "#2e7d32", "stroke-width": 1, fill: "none", opacity: 0.8, class: "usage" }, g);
  });
  const geneTop = data.tissues.length * (panel + gap) + 6;
  text(svg, left - 6, geneTop + 14, "genes", "end");
  data.genes.forEach((gene, k) => {
    const yy = geneTop + 8 + (k % 2) * 16;
    const a = Math.max(x(gene.start), left), b = Math.min(x(gene.end), width - right);
    el("line", { x1: a, x2: b, y1: yy, y2: yy, stroke: "#555" }, svg);
    for (const [s, e] of gene.exons) {
      if (e < data.start || s > data.end) continue;
      const xa = Math.max(x(s), left), xb = Math.min(x(e), width - right);
      el("rect", { x: xa, y: yy - 5, width: Math.max(xb - xa, 1.5), height: 10, fill: "#555" }, svg);
    }
    text(svg, Math.min(Math.max(a, left) + 4, width - 120), yy - 7, `${gene.gene_name} (${gene.strand})`);
  });
  const axis = height - 8;
  text(svg, left, axis, data.start.toLocaleString(), "start");
  text(svg, width - right, axis, data.end.toLocaleString(), "end");
  if (variantPos) {
    const vx = x(variantPos);
    el("line", { x1: vx, x2: vx, y1: 0, y2: geneTop + 30, stroke: "#c62828", "stroke-dasharray": "4 3",
                 id: "variant-line" }, svg);
    text(svg, vx, axis, variantPos.toLocaleString(), "middle");
  }
  $("plot").replaceChildren(svg);
  $("tracks").hidden = false;
}

$("form").addEventListener("submit", (event) => {
  event.preventDefault();
  const query = $("query").value.trim();
  if (query) lookUp(query);
});

// A link opens its answer: ?q= or #q= (this page's own links), or SpliceAI-lookup's
// #variant=...&hg=...&distance=...&mask=0|1; the fragment wins over the query string.
function linkedQuery() {
  const params = new URLSearchParams(location.search);
  for (const [key, value] of new URLSearchParams(location.hash.slice(1))) params.set(key, value);
  if (["37", "38"].includes(params.get("hg"))) $("hg").value = params.get("hg");
  if (/^\d{1,5}$/.test(params.get("distance") || "")) $("distance").value = params.get("distance");
  if (params.has("mask")) $("mask").checked = ["1", "true"].includes(params.get("mask"));
  return (params.get("q") || params.get("variant") || "").trim();
}

const linked = linkedQuery();
if (linked) {
  $("query").value = linked;
  lookUp(linked);
}
