// vocablens campaign pages: keyboard answers, WordNet suggestions, saving through the JSON API.
(function () {
  "use strict";
  var meta = document.querySelector('meta[name="vl-token"]');
  var form = document.getElementById("label-form");
  if (!meta || !form) { return; }
  var token = meta.getAttribute("content");
  var section = document.getElementById("item");
  var itemId = parseInt(section.getAttribute("data-item"), 10);
  var adjudicator = section.getAttribute("data-adjudicator") === "1";
  var concept = document.getElementById("concept");
  var noConcept = document.getElementById("no-concept");
  var poly = document.getElementById("polysemantic");
  var groups = document.getElementById("groups");
  var note = document.getElementById("note");
  var quick = document.getElementById("quick");
  var list = document.getElementById("suggestions");
  var message = document.getElementById("message");
  var common = Array.prototype.map.call(quick.querySelectorAll("li"), function (li) {
    return li.getAttribute("data-concept");
  });
  var shown = common.slice();
  var pendingKey = null;  // reused when a save is retried, so it is stored once

  function newKey() {
    if (window.crypto && window.crypto.randomUUID) { return window.crypto.randomUUID(); }
    return Date.now().toString(36) + "-" + Math.random().toString(36).slice(2);
  }

  function api(method, path, body, headers) {
    var h = { "Authorization": "Bearer " + token, "Content-Type": "application/json" };
    Object.keys(headers || {}).forEach(function (k) { h[k] = headers[k]; });
    return fetch(path, { method: method, headers: h, body: body ? JSON.stringify(body) : undefined })
      .then(function (r) {
        return r.json().then(function (data) {
          if (!r.ok) { throw new Error(data.error || ("HTTP " + r.status)); }
          return data;
        });
      });
  }

  function fillQuick(names) {
    shown = names.slice(0, 9);
    quick.textContent = "";
    list.textContent = "";
    shown.forEach(function (name, i) {
      var li = document.createElement("li");
      var kbd = document.createElement("kbd");
      kbd.textContent = String(i + 1);
      li.appendChild(kbd);
      li.appendChild(document.createTextNode(" " + name));
      li.setAttribute("data-concept", name);
      li.addEventListener("click", function () { choose(name); });
      quick.appendChild(li);
      var option = document.createElement("option");
      option.value = name;
      list.appendChild(option);
    });
  }

  var timer = null;
  concept.addEventListener("input", function () {
    clearTimeout(timer);
    var q = concept.value.trim();
    if (!q) { fillQuick(common); return; }
    timer = setTimeout(function () {
      api("GET", "/api/suggest?q=" + encodeURIComponent(q)).then(function (data) {
        if (concept.value.trim() === q) { fillQuick(data.suggestions); }
      }).catch(function () {});
    }, 120);
  });

  function choose(name) {
    concept.value = name;
    noConcept.checked = false;
  }

  function setConfidence(value) {
    var radio = form.querySelector('input[name="confidence"][value="' + value + '"]');
    if (radio) { radio.checked = true; }
  }

  function body() {
    var conf = form.querySelector('input[name="confidence"]:checked');
    var data = {
      item_id: itemId,
      concept: noConcept.checked ? "" : concept.value,
      no_concept: noConcept.checked,
      polysemantic: poly.checked && !noConcept.checked,
      groups: [],
      confidence: conf ? parseFloat(conf.value) : 1.0,
      note: note.value
    };
    if (data.polysemantic) {
      data.groups = groups.value.split("\n").map(function (g) { return g.trim(); })
        .filter(function (g) { return g.length > 0; });
    }
    return data;
  }

  function go(id) {
    var link = document.getElementById(id);
    if (link) { window.location.href = link.href; }
  }

  function save() {
    if (!pendingKey) { pendingKey = newKey(); }
    message.textContent = "saving…";
    var path = adjudicator ? "/api/adjudications" : "/api/labels";
    api("POST", path, body(), { "Idempotency-Key": pendingKey }).then(function () {
      pendingKey = null;
      message.textContent = "saved";
      message.className = "ok";
      if (adjudicator) {
        window.location.href = "/a/" + encodeURIComponent(token) + "/adjudicate";
      } else {
        go("next");
      }
    }).catch(function (err) {
      message.textContent = "not saved: " + err.message;
      message.className = "error";
    });
  }

  form.addEventListener("submit", function (event) { event.preventDefault(); save(); });

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) { return; }
    var t = event.target;
    var typing = t && (t.tagName === "INPUT" && t.type === "text" || t.tagName === "TEXTAREA"
      || (t.tagName === "INPUT" && !t.type));
    if (typing) {
      if (event.key === "Escape") { t.blur(); event.preventDefault(); }
      return;  // Enter in the concept box submits the form by itself
    }
    var k = event.key;
    if (k >= "1" && k <= "9") {
      var name = shown[parseInt(k, 10) - 1];
      if (name) { choose(name); }
    } else if (k === "0") {
      noConcept.checked = !noConcept.checked;
    } else if (k === "m") {
      poly.checked = !poly.checked;
      if (poly.checked) { groups.focus(); event.preventDefault(); }
    } else if (k === "a") { setConfidence("0.33");
    } else if (k === "s") { setConfidence("0.67");
    } else if (k === "d") { setConfidence("1.0");
    } else if (k === "c") { concept.focus(); event.preventDefault();
    } else if (k === "p" || k === "ArrowLeft") { go("prev");
    } else if (k === "n" || k === "ArrowRight") { go("next");
    } else if (k === "Enter") { save(); event.preventDefault();
    } else { return; }
  });

  quick.querySelectorAll("li").forEach(function (li) {
    li.addEventListener("click", function () { choose(li.getAttribute("data-concept")); });
  });
})();
