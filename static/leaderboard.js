/* Live leaderboard: refresh the table from the JSON API every few seconds.
   Without JavaScript the page still works (reload link, <noscript> refresh). */
(function () {
  "use strict";
  var table = document.getElementById("lb");
  var status = document.getElementById("lb-status");
  if (!table || !window.fetch) return;
  var body = table.tBodies[0];
  var d = table.dataset;
  var EVERY = 10000;

  function duration(ms) {
    if (ms === null || ms === undefined) return "\u2014";
    var t = Math.floor(ms / 100), s = Math.floor(t / 10) % 60;
    return Math.floor(t / 600) + ":" + (s < 10 ? "0" : "") + s + "," + (t % 10);
  }

  function cell(row, text, cls) {
    var td = row.insertCell();
    if (cls) td.className = cls;
    td.textContent = text;
    return td;
  }

  function line(e, mine) {
    var tr = document.createElement("tr");
    if (mine) { tr.className = "me"; tr.setAttribute("aria-current", "true"); }
    cell(tr, e.rank, "num");
    var who = cell(tr, e.name + (mine ? " " : ""));
    if (mine) {
      var you = document.createElement("span");
      you.className = "sr-only";
      you.textContent = d.you;
      who.appendChild(you);
    }
    who.appendChild(document.createElement("br"));
    var unit = document.createElement("span");
    unit.className = "muted lb-unit";
    unit.textContent = e.unit;
    who.appendChild(unit);
    cell(tr, e.score, "num");
    cell(tr, duration(e.duration_ms), "num");
    return tr;
  }

  function render(data) {
    var rows = document.createDocumentFragment();
    var me = data.me, seen = false;
    data.entries.forEach(function (e) {
      var mine = !!me && e.rank === me.rank;
      seen = seen || mine;
      rows.appendChild(line(e, mine));
    });
    if (me && !seen) {
      var gap = document.createElement("tr");
      gap.className = "gap";
      gap.setAttribute("aria-hidden", "true");
      cell(gap, "\u2026").colSpan = 4;
      rows.appendChild(gap);
      rows.appendChild(line(me, true));
    }
    if (!data.entries.length) {
      var empty = document.createElement("tr");
      var td = cell(empty, d.empty, "muted");
      td.colSpan = 4;
      rows.appendChild(empty);
    }
    body.replaceChildren(rows);
    var now = new Date();
    status.textContent = d.updated + " " + now.toLocaleTimeString("vi-VN", { hour12: false, timeZone: "Asia/Ho_Chi_Minh" });
  }

  function refresh() {
    if (document.hidden) return;
    fetch(d.url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) {
        if (r.ok) return r.json().then(render);
        status.textContent = d.unavailable;
      })
      .catch(function () { status.textContent = d.offline; });
  }

  setInterval(refresh, EVERY);
  document.addEventListener("visibilitychange", function () { if (!document.hidden) refresh(); });
})();
