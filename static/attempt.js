/* The attempt page, enhanced: one question per screen without reloads, every choice saved
   at once (PUT), kept in localStorage and retried while the network is down, a countdown
   from the server's deadline. Without this file the same page works by form posts. */
(function () {
  "use strict";
  var dataEl = document.getElementById("attempt-data");
  if (!dataEl || !window.fetch || !document.querySelector) return;
  var D = JSON.parse(dataEl.textContent);
  var T = JSON.parse(document.getElementById("attempt-text").textContent);
  var A = D.attempt, U = D.urls, Q = A.questions, answers = A.answers;
  var csrf = document.querySelector('meta[name="csrf-token"]').content;
  var LS = "qe-attempt-" + A.attempt_id;
  var store = load(), pending = store.a, inflight = {};
  var offset = Date.parse(D.now) - Date.now();
  var deadline = Date.parse(A.deadline);
  var cur = D.screen, done = false, over = false, retryTimer = null, delay = 1000, lastOk = false;
  var said5 = false, said1 = false, notice = "";

  function $(id) { return document.getElementById(id); }
  function fill(s, o) { for (var k in o) s = s.split("{" + k + "}").join(o[k]); return s; }
  function load() {
    try { var s = JSON.parse(localStorage.getItem(LS)); if (s && s.a) return s; } catch (e) { /* private mode */ }
    return { a: {}, p: null };
  }
  function persist() { try { localStorage.setItem(LS, JSON.stringify(store)); } catch (e) { /* full or private */ } }
  function has(o) { for (var k in o) return true; return false; }
  function same(a, b) { return a && b && a.join() === b.join(); }
  function say(text) { $("announce").textContent = text; }

  for (var k in pending) answers[k] = pending[k];

  /* ---------- screens ---------- */
  function show(screen) {
    cur = screen;
    var finish = screen === "finish";
    $("qform").hidden = finish;
    $("finish").hidden = !finish;
    if (finish) renderFinish(); else renderQuestion(screen);
    paint();
    if (history.replaceState) history.replaceState(null, "", finish ? U.finish : U.q + screen);
    window.scrollTo(0, 0);
  }

  function renderQuestion(n) {
    var q = Q[n - 1], chosen = answers[q.id] || [], list = $("q-options");
    $("qform").action = U.q + n;
    $("q-title").textContent = fill(T.q, { n: n, t: Q.length });
    $("q-text").textContent = q.text;
    $("q-hint").textContent = q.multi ? T.multi : T.single;
    list.textContent = "";
    q.options.forEach(function (o) {
      var li = document.createElement("li"), label = document.createElement("label");
      var input = document.createElement("input"), b = document.createElement("b");
      var span = document.createElement("span");
      input.type = q.multi ? "checkbox" : "radio";
      input.name = "choice";
      input.value = o.key;
      input.checked = chosen.indexOf(o.key) >= 0;
      input.disabled = over;
      b.textContent = o.key + ".";
      span.textContent = o.text;
      label.appendChild(input); label.appendChild(b); label.appendChild(document.createTextNode(" "));
      label.appendChild(span); li.appendChild(label); list.appendChild(li);
    });
    $("prev").disabled = n === 1;
    $("next").textContent = (n === Q.length ? T.toFinish : T.next) + " →";
  }

  function renderFinish() {
    var open = [], box = $("unanswered");
    Q.forEach(function (q, i) { if (!(answers[q.id] || []).length) open.push(i + 1); });
    $("answered-count").textContent = fill(T.count, { a: Q.length - open.length, t: Q.length });
    box.textContent = open.length ? T.unansweredLead + " " : "";
    open.forEach(function (n) {
      var a = document.createElement("a");
      a.className = "button";
      a.href = U.q + n;
      a.setAttribute("data-go", n);
      a.textContent = fill(T.qn, { n: n });
      box.appendChild(a);
      box.appendChild(document.createTextNode(" "));
    });
    var input = $("prediction");
    if (input && store.p !== null && input.value === "") input.value = store.p;
  }

  function paint() {
    var buttons = $("qmap").querySelectorAll("button");
    for (var i = 0; i < buttons.length; i++) {
      var q = Q[i], b = buttons[i], answered = (answers[q.id] || []).length > 0;
      b.className = (answered ? "answered" : "") + (pending[q.id] ? " pending" : "") + (cur === i + 1 ? " current" : "");
      if (cur === i + 1) b.setAttribute("aria-current", "step"); else b.removeAttribute("aria-current");
      b.setAttribute("aria-label", fill(T.qn, { n: i + 1 }) + " (" + (answered ? T.answered : T.open) + ")");
    }
    var status = $("save-status"), waiting = has(pending) || store.p !== null;
    status.className = "status " + (waiting || over ? "pending" : lastOk ? "saved" : "");
    status.textContent = over ? T.timeUp : notice || (waiting ? T.unsaved : lastOk ? T.saved : "");
  }

  /* ---------- saving ---------- */
  function request(method, url, body) {
    return fetch(url, {
      method: method,
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify(body)
    });
  }

  function refused(r) {
    return r.json().then(function (body) { return body; }, function () { return {}; }).then(function (body) {
      if (r.status === 409) { finishUp(); return true; }
      if (r.status === 400) { $(cur === "finish" ? "finish-error" : "save-status").textContent = body.message || ""; return true; }
      if (r.status === 401 || r.status === 403) { notice = T.relogin; refreshToken(); }
      return false;
    });
  }

  function send(qid) {
    var keys = pending[qid];
    if (!keys || inflight[qid] || done) return;
    inflight[qid] = true;
    request("PUT", U.answer + qid, { choice: keys }).then(function (r) {
      inflight[qid] = false;
      if (r.ok) { acked(qid, keys); return; }
      return refused(r).then(function (final) { if (final && same(pending[qid], keys)) { delete pending[qid]; persist(); paint(); } else if (!final) retry(); });
    }, function () { inflight[qid] = false; retry(); });
  }

  // The session may have been renewed in another tab: take the page's current CSRF token.
  function refreshToken() {
    fetch(location.href, { credentials: "same-origin" }).then(function (r) { return r.ok ? r.text() : ""; }).then(function (html) {
      var m = /name="csrf-token" content="([^"]+)"/.exec(html);
      if (m) csrf = m[1];
    }, function () { /* offline: the next retry tries again */ });
  }

  function acked(qid, keys) {
    delay = 1000;
    notice = "";
    lastOk = true;
    if (same(pending[qid], keys)) delete pending[qid];
    persist();
    paint();
    if (pending[qid]) send(qid);
  }

  function sendPrediction() {
    if (store.p === null || done || inflight.p) return;
    var value = store.p;
    inflight.p = true;
    request("PUT", U.prediction, { prediction: value }).then(function (r) {
      inflight.p = false;
      if (r.ok || r.status === 400) { if (store.p === value) store.p = null; persist(); paint(); if (r.ok) lastOk = true; else refused(r); return; }
      refused(r).then(function (final) { if (!final) retry(); });
    }, function () { inflight.p = false; retry(); });
  }

  function flush() { for (var qid in pending) send(qid); sendPrediction(); }

  function retry() {
    paint();
    if (retryTimer) return;
    retryTimer = setTimeout(function () { retryTimer = null; flush(); }, delay);
    delay = Math.min(delay * 2, 15000);
  }

  /* ---------- submit and time ---------- */
  function finishUp() {
    if (done) return;
    done = true;
    try { localStorage.removeItem(LS); } catch (e) { /* ignore */ }
    location.href = U.result;
  }

  function wait(ms) { return new Promise(function (ok) { setTimeout(ok, ms); }); }

  function settle(tries) {
    flush();
    if (!has(pending) || tries <= 0) return Promise.resolve(!has(pending));
    return wait(500).then(function () { return settle(tries - 1); });
  }

  function submit() {
    var error = $("finish-error"), input = $("prediction"), body = {};
    error.textContent = "";
    if (input) {
      if (!/^\d+$/.test(input.value.trim())) { error.textContent = T.needPrediction; input.focus(); return; }
      body.prediction = parseInt(input.value.trim(), 10);
    }
    $("submit").disabled = true;
    settle(12).then(function (ok) {
      if (!ok) { error.textContent = T.stillUnsaved; $("submit").disabled = false; return; }
      return request("POST", U.submit, body).then(function (r) {
        if (r.ok || r.status === 409) { finishUp(); return; }
        return refused(r).then(function () { $("submit").disabled = false; });
      });
    }).catch(function () { error.textContent = T.submitFailed; $("submit").disabled = false; });
  }

  function tick() {
    var left = Math.ceil((deadline - (Date.now() + offset)) / 1000);
    if (left <= 300 && !said5) { said5 = true; if (left > 60) say(T.five); }
    if (left <= 60 && !said1) { said1 = true; if (left > 0) say(T.one); }
    if (left <= 0) { timeUp(); return; }
    $("left").textContent = Math.floor(left / 60) + ":" + ("0" + (left % 60)).slice(-2);
  }

  function timeUp() {
    clearInterval(clock);
    over = true;
    $("left").textContent = "0:00";
    say(T.timeUp);
    paint();
    var inputs = document.querySelectorAll("#qform input, #fform input, #fform button");
    for (var i = 0; i < inputs.length; i++) inputs[i].disabled = true;
    flush();
    // Answers still land within the grace; then the server finalises on the next access.
    setTimeout(finishUp, (D.grace + 2) * 1000);
  }

  /* ---------- wiring ---------- */
  document.addEventListener("click", function (e) {
    var b = e.target.closest ? e.target.closest('[name="go"],[data-go]') : null;
    if (!b) return;
    e.preventDefault();
    var go = b.getAttribute("data-go") || b.value;
    if (go === "prev") go = cur - 1;
    else if (go === "next") go = cur >= Q.length ? "finish" : cur + 1;
    show(go === "finish" ? "finish" : Math.max(1, Math.min(Q.length, +go)));
  });

  $("q-options").addEventListener("change", function () {
    if (done || over || cur === "finish") return;
    var q = Q[cur - 1], keys = [], inputs = this.querySelectorAll("input");
    for (var i = 0; i < inputs.length; i++) if (inputs[i].checked) keys.push(inputs[i].value);
    answers[q.id] = keys;
    pending[q.id] = keys;
    persist();
    paint();
    send(q.id);
  });

  var predictionInput = $("prediction");
  if (predictionInput) {
    $("save-prediction").hidden = true;
    predictionInput.addEventListener("input", function () { $("finish-error").textContent = ""; });
    predictionInput.addEventListener("change", function () {
      var v = predictionInput.value.trim();
      if (!/^\d+$/.test(v)) return;
      store.p = parseInt(v, 10);
      persist();
      paint();
      sendPrediction();
    });
  }

  $("fform").addEventListener("submit", function (e) { e.preventDefault(); submit(); });
  window.addEventListener("online", function () { delay = 1000; flush(); });
  window.addEventListener("offline", function () { say(T.offline); paint(); });

  var clock = setInterval(tick, 1000);
  said5 = deadline - (Date.now() + offset) <= 300000;
  said1 = deadline - (Date.now() + offset) <= 60000;
  tick();
  show(cur === "finish" ? "finish" : cur);
  flush();
})();
