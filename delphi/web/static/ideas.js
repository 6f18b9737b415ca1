// The open round's page (/panel/ideas), progressive enhancement only: the page works without this file.
// Each answer box is saved in the background after a pause in typing and when it loses focus
// (POST /panel/ideas/<question>/<slot>, JSON, CSRF header from the page's hidden _csrf_token input); an emptied
// box deletes its answer.  One request at a time per box, so saves reach the server in order.  A save refused
// because the session ended (401) shows the server's message above the form and leaves the text as it is.
(function () {
  "use strict";
  var form = document.querySelector("form[data-idea-autosave]");
  if (!form || !window.fetch) { return; }
  var tokenInput = form.querySelector("input[name=_csrf_token]");
  var sessionAlert = document.getElementById("session-alert");
  var timers = {}, inflight = {}, queued = {}, lastSent = {};
  form.dataset.pending = "0";

  function status(name, text, isError) {
    var el = document.getElementById("status-" + name);
    if (!el) { return; }
    el.textContent = text;
    el.classList.toggle("is-error", !!isError);
  }

  function signedOut(detail) {
    if (!sessionAlert || sessionAlert.textContent !== "") { return; }
    [detail, form.dataset.msgSignedOut].forEach(function (text) {
      if (!text) { return; }
      var p = document.createElement("p");
      p.textContent = text;
      sessionAlert.appendChild(p);
    });
  }

  function markPending() {
    var n = 0;
    Object.keys(inflight).forEach(function (k) { if (inflight[k] || queued[k] !== undefined) { n += 1; } });
    form.dataset.pending = String(n);
  }

  function save(name, text) {
    if (lastSent[name] === text && !inflight[name]) { return; }
    if (inflight[name]) { queued[name] = text; } else { send(name, text); }
    markPending();
  }

  function send(name, text) {
    var m = /^a(\d+)-(\d+)$/.exec(name);
    inflight[name] = true;
    lastSent[name] = text;
    status(name, form.dataset.msgSaving || "Saving…", false);
    fetch("/panel/ideas/" + m[1] + "/" + m[2], {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/json",
        "Accept": "application/json",
        "x-csrftoken": tokenInput ? tokenInput.value : ""
      },
      body: JSON.stringify({ text: text })
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (body) {
        if (response.status === 401) {
          signedOut(body && body.detail);
          status(name, form.dataset.msgEnded || "Not saved", true);
          delete lastSent[name];
          return;
        }
        if (!response.ok) {
          status(name, (body && body.detail) || form.dataset.msgFailed || "Not saved", true);
          delete lastSent[name];
          return;
        }
        if (queued[name] === undefined) { status(name, form.dataset.msgSaved || "Saved", false); }
      });
    }).catch(function () {
      status(name, form.dataset.msgFailed || "Not saved", true);
      delete lastSent[name];
    }).then(function () {
      var next = queued[name];
      delete queued[name];
      inflight[name] = false;
      if (next !== undefined) { send(name, next); }
      markPending();
    });
  }

  function boxName(target) {
    return target && target.tagName === "TEXTAREA" && /^a\d+-\d+$/.test(target.name || "") ? target.name : null;
  }

  form.addEventListener("input", function (event) {
    var name = boxName(event.target);
    if (!name) { return; }
    clearTimeout(timers[name]);
    form.dataset.pending = String(Math.max(1, parseInt(form.dataset.pending, 10) || 0));
    timers[name] = setTimeout(function () { save(name, event.target.value); markPending(); }, 800);
  });

  // After "Add another answer" (/panel/ideas?more=<question>#q<question>) the first of the empty boxes at the end
  // of that question takes the focus, so a keyboard or screen-reader user goes on writing where they asked to
  // (without this file the fragment still brings them to the question).
  var more = /[?&]more=(\d+)/.exec(window.location.search);
  var boxes = more ? document.querySelectorAll("#q" + more[1] + " textarea") : [];
  if (boxes.length) {
    // Chrome moves the focus to the document when it scrolls to the fragment, after this file has run; focus
    // the box once the page has loaded, unless the reader has already moved on.
    var box = boxes[boxes.length - 1];
    for (var i = boxes.length - 1; i >= 0 && boxes[i].value === ""; i -= 1) { box = boxes[i]; }
    box.focus();
    window.addEventListener("load", function () {
      window.setTimeout(function () {
        if (document.activeElement === document.body || document.activeElement === null) { box.focus(); }
      }, 0);
    });
  }

  form.addEventListener("change", function (event) {
    var name = boxName(event.target);
    if (!name) { return; }
    clearTimeout(timers[name]);
    save(name, event.target.value);
  });
})();
