// The search box: finds neurons and heads by promoted token or concept, across the whole report.
// Reads window.VOCABLENS_INDEX (search-index.js); writes results with textContent only.

// A link to a row folded away in a closed <details> (e.g. #n1234) opens it and shows the row.
(function () {
  "use strict";
  function reveal() {
    var id = decodeURIComponent(location.hash.slice(1));
    var target = id ? document.getElementById(id) : null;
    if (!target) { return; }
    var folded = false;
    for (var p = target.parentElement; p; p = p.parentElement) {
      if (p.tagName === "DETAILS" && !p.open) { p.open = true; folded = true; }
    }
    if (folded) { target.scrollIntoView({ block: "center" }); }
  }
  window.addEventListener("hashchange", reveal);
  reveal();
})();

(function () {
  "use strict";
  var index = window.VOCABLENS_INDEX;
  var box = document.getElementById("search-box");
  var status = document.getElementById("search-status");
  var list = document.getElementById("search-results");
  if (!box || !status || !list) { return; }
  if (!index) { status.textContent = "search index missing"; return; }
  var MAX_SHOWN = 150;
  var tokens = index.tokens;  // as shown (vocablens.tokens.shown): a leading space is "␣"
  function spaced(t) { return t.replace(/\u2423/g, " "); }  // match "' Paris'" and "'␣Paris'"
  var plain = tokens.map(spaced);
  var lowered = plain.map(function (t) { return t.toLowerCase(); });
  var trimmed = lowered.map(function (t) { return t.trim(); });
  var labels = index.labels.map(function (t) { return t.toLowerCase(); });
  var terms = index.terms || [];  // WordNet words that find a label (synonyms, hyponyms, ...)
  var labelTerms = index.label_terms || [];
  var via = new Map();  // label id -> the WordNet word that matched the last query

  function pageOf(layer) {
    var s = String(layer);
    while (s.length < 3) { s = "0" + s; }
    return "layer_" + s + ".html";
  }

  function quoted(t) { return "'" + t + "'"; }

  // Token id -> match quality (lower is better): 0 exact, 1 same word, 2 prefix, 3 substring.
  // Result scores (lower first): promoted token 100 * quality + rank, concept 105 / 205,
  // OV pair 500+, suppressed token 1000+.
  function tokenMatches(query) {
    var found = new Map();
    var exact = /^(['"]).*\1$/.test(query) && query.length >= 2;
    if (exact) {
      var inner = spaced(query.slice(1, -1));
      for (var i = 0; i < plain.length; i++) { if (plain[i] === inner) { found.set(i, 0); } }
      return found;
    }
    var q = spaced(query).trim().toLowerCase();
    if (!q) { return found; }
    for (var j = 0; j < tokens.length; j++) {
      if (trimmed[j] === q) { found.set(j, 1); }
      else if (trimmed[j].indexOf(q) === 0) { found.set(j, 2); }
      else if (q.length >= 3 && lowered[j].indexOf(q) >= 0) { found.set(j, 3); }
    }
    return found;
  }

  function labelMatches(query) {
    var q = query.trim().toLowerCase().replace(/^(['"])(.*)\1$/, "$2");
    var found = new Map();
    if (q.length < 2) { return found; }
    for (var i = 0; i < labels.length; i++) {
      if (labels[i] === q) { found.set(i, 1); }
      else if (labels[i].indexOf(q) >= 0) { found.set(i, 2); }
    }
    // A label whose WordNet words hold the query ("weekday" -> "day of the week"): between
    // an exact and a partial label match. A plural query also tries its singular.
    via = new Map();
    var wanted = new Map();
    for (var t = 0; t < terms.length; t++) {
      if (terms[t] === q || (q.length > 3 && q.slice(-1) === "s" && terms[t] === q.slice(0, -1))) {
        wanted.set(t, true);
      }
    }
    if (wanted.size) {
      for (var l = 0; l < labelTerms.length; l++) {
        var ids = labelTerms[l];
        for (var j = 0; j < ids.length; j++) {
          if (wanted.has(ids[j])) {
            if (!found.has(l)) { found.set(l, 1.5); via.set(l, terms[ids[j]]); }
            break;
          }
        }
      }
    }
    return found;
  }

  function best(ids, matches, verb, hits) {
    var top = null;
    for (var r = 0; r < ids.length; r++) {
      var m = matches.get(ids[r]);
      if (m !== undefined && (top === null || m < top.m)) { top = { m: m, r: r, t: tokens[ids[r]] }; }
    }
    if (top !== null) { hits.push(verb + " " + quoted(top.t) + " (rank " + (top.r + 1) + ")"); }
    return top;
  }

  function search(query) {
    var matches = tokenMatches(query);
    var concepts = labelMatches(query);
    var results = [];
    index.neurons.forEach(function (n, ni) {
      var hits = [];
      var score = Infinity;
      var p = best(n[5], matches, "promotes", hits);
      if (p) { score = Math.min(score, p.m * 100 + p.r); }
      var s = best(n[6], matches, "suppresses", hits);
      if (s) { score = Math.min(score, 1000 + s.m * 100 + s.r); }
      var c = n[2] >= 0 ? concepts.get(n[2]) : undefined;
      var c2 = n[3] >= 0 ? concepts.get(n[3]) : undefined;
      if (c !== undefined || c2 !== undefined) {  // exact concept 105, WordNet 155, partial 205; weak +50
        score = Math.min(score, 5 + 100 * Math.min(c || 9, c2 || 9) + (n[4] ? 0 : 50));
      }
      var pl = index.people ? index.people[ni] : 0;  // a campaign's label: [label id, adjudicated]
      var cp = pl ? concepts.get(pl[0]) : undefined;  // exact 100, partial 200; majority +50
      if (cp !== undefined) { score = Math.min(score, 100 * cp + (pl[1] ? 0 : 50)); }
      if (!hits.length && c === undefined && c2 === undefined && cp === undefined) { return; }
      if (pl) { hits.unshift("people: " + index.labels[pl[0]] + (pl[1] ? " (adjudicated)" : " (majority)")); }
      var label = n[2] >= 0 ? index.labels[n[2]] : "";
      if (label && via.has(n[2])) { label += " (WordNet: " + via.get(n[2]) + ")"; }
      results.push({ score: score, layer: n[0], href: pageOf(n[0]) + "#n" + n[1],
                     head: "L" + n[0] + " neuron " + n[1],
                     text: (label ? "concept: " + label + (n[4] ? "" : " (weak)") + "; " : "") + hits.join("; ") });
    });
    index.heads.forEach(function (h) {
      var hits = [];
      var score = Infinity;
      var p = best(h[2], matches, "promotes", hits);
      if (p) { score = p.m * 100 + p.r; }
      for (var i = 0; i + 1 < h[3].length; i += 2) {
        var ms = matches.get(h[3][i]);
        var md = matches.get(h[3][i + 1]);
        if (ms !== undefined || md !== undefined) {
          hits.push("pair " + quoted(tokens[h[3][i]]) + " → " + quoted(tokens[h[3][i + 1]]));
          score = Math.min(score, 500 + Math.min(ms === undefined ? 9 : ms, md === undefined ? 9 : md) * 100 + i / 2);
          break;
        }
      }
      if (!hits.length) { return; }
      results.push({ score: score, layer: h[0], href: pageOf(h[0]) + "#h" + h[1],
                     head: "L" + h[0] + " head " + h[1], text: hits.join("; ") });
    });
    results.sort(function (a, b) { return a.score - b.score || a.layer - b.layer; });
    return results;
  }

  function show(query) {
    while (list.firstChild) { list.removeChild(list.firstChild); }
    if (!query.trim()) { status.textContent = ""; return; }
    var results = search(query);
    status.textContent = results.length + (results.length === 1 ? " match" : " matches") +
      (results.length > MAX_SHOWN ? " (first " + MAX_SHOWN + " shown)" : "");
    results.slice(0, MAX_SHOWN).forEach(function (res) {
      var li = document.createElement("li");
      var a = document.createElement("a");
      a.href = res.href;
      a.textContent = res.head;
      a.className = "result";
      var span = document.createElement("span");
      span.textContent = " — " + res.text;
      li.appendChild(a);
      li.appendChild(span);
      list.appendChild(li);
    });
  }

  var timer = null;
  box.addEventListener("input", function () {
    if (timer !== null) { clearTimeout(timer); }
    timer = setTimeout(function () { show(box.value); }, 120);
  });
  box.addEventListener("keydown", function (ev) {
    if (ev.key === "Escape") { box.value = ""; show(""); }
  });
  document.addEventListener("click", function (ev) {
    if (!document.getElementById("search").contains(ev.target)) {
      while (list.firstChild) { list.removeChild(list.firstChild); }
    }
  });
})();
