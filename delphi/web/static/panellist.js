// Panellist pages, progressive enhancement only: every page works without this file.
// On the rating page each answer is saved in the background as it is given (POST /panel/ratings/<id>, JSON,
// CSRF header from the page's hidden _csrf_token input), and the "why" prompt shows only for a rating outside
// last round's middle half.  The page's own buttons still save everything when pressed.  A save refused because
// the session ended (401: it ran out, or the panellist signed out) shows the server's message above the form and
// leaves every answer on the page as it is.
// On every page, "Quick exit" ends the session with a beacon and replaces the page in the history (so the back
// button does not come back to it); without JavaScript, or without sendBeacon, the form posts as usual.
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  var exit = document.querySelector("form[data-quick-exit]");
  if (exit && navigator.sendBeacon) {
    exit.addEventListener("submit", function (event) {
      if (navigator.sendBeacon(exit.action, "")) {
        event.preventDefault();
        window.location.replace(exit.dataset.quickExit);
      }
    });
  }

  var form = document.querySelector("form[data-autosave]");
  if (!form || !window.fetch) { return; }
  var tokenInput = form.querySelector("input[name=_csrf_token]");
  var progress = document.getElementById("progress");
  var sessionAlert = document.getElementById("session-alert");
  var timers = {};
  form.dataset.pending = "0";

  function status(id, text, isError) {
    var el = document.getElementById("status-" + id);
    if (!el) { return; }
    el.textContent = text;
    el.classList.toggle("is-error", !!isError);
  }

  // The session ended: say so once, above the form (role=alert), in the server's words and the page's.
  function signedOut(detail) {
    if (!sessionAlert || sessionAlert.textContent !== "") { return; }
    [detail, form.dataset.msgSignedOut].forEach(function (text) {
      if (!text) { return; }
      var p = document.createElement("p");
      p.textContent = text;
      sessionAlert.appendChild(p);
    });
  }

  function checkedValue(id) {
    var checked = form.querySelector("input[name='s" + id + "']:checked");
    return checked ? checked.value : null;
  }

  function updateReason(id) {
    var box = form.querySelector("[data-reason-for='" + id + "']");
    var fieldset = form.querySelector("fieldset[data-statement='" + id + "']");
    if (!box || !fieldset || fieldset.dataset.q1 === undefined) { return; }
    var value = checkedValue(id);
    var textarea = box.querySelector("textarea");
    var q1 = parseFloat(fieldset.dataset.q1), q3 = parseFloat(fieldset.dataset.q3);
    var n = value === null || value === "unable" ? NaN : parseInt(value, 10);
    var outside = !isNaN(n) && (n < q1 || n > q3);
    box.hidden = !(outside || (textarea && textarea.value.trim() !== ""));
  }

  // One request at a time per statement, so answers reach the server in the order they were given; a change
  // made while a save is under way is merged into the next request.  data-pending counts the statements with
  // changes not yet saved (0 when everything is saved).
  var inflight = {};
  var queued = {};

  function markPending() {
    var n = 0;
    Object.keys(inflight).forEach(function (k) { if (inflight[k] || queued[k]) { n += 1; } });
    form.dataset.pending = String(n);
  }

  function save(id, payload) {
    if (inflight[id]) {
      queued[id] = Object.assign(queued[id] || {}, payload);
    } else {
      send(id, payload);
    }
    markPending();
  }

  function send(id, payload) {
    inflight[id] = true;
    status(id, form.dataset.msgSaving || "Saving…", false);
    fetch("/panel/ratings/" + encodeURIComponent(id), {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/json",
        "Accept": "application/json",
        "x-csrftoken": tokenInput ? tokenInput.value : ""
      },
      body: JSON.stringify(payload)
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (body) {
        if (response.status === 401) {
          signedOut(body && body.detail);
          status(id, form.dataset.msgEnded || "Not saved", true);
          return;
        }
        if (!response.ok) {
          status(id, (body && body.detail) || form.dataset.msgFailed || "Not saved", true);
          return;
        }
        if (!queued[id]) { status(id, form.dataset.msgSaved || "Saved", false); }
        if (progress && progress.dataset.template && typeof body.answered === "number") {
          progress.textContent = progress.dataset.template
            .replace("{answered}", body.answered).replace("{total}", body.total);
        }
      });
    }).catch(function () {
      status(id, form.dataset.msgFailed || "Not saved", true);
    }).then(function () {
      var next = queued[id];
      delete queued[id];
      inflight[id] = false;
      if (next) { send(id, next); }
      markPending();
    });
  }

  form.addEventListener("change", function (event) {
    var target = event.target;
    var m = /^([scr])(\d+)$/.exec(target.name || "");
    if (!m) { return; }
    var id = m[2];
    if (m[1] === "s") {
      updateReason(id);
      save(id, { answer: target.value });
    } else {
      clearTimeout(timers[target.name]);
      save(id, m[1] === "c" ? { comment: target.value } : { reason: target.value });
    }
  });

  // Text is also saved after a pause in typing, so closing the tab loses at most a few seconds.
  form.addEventListener("input", function (event) {
    var target = event.target;
    var m = /^([cr])(\d+)$/.exec(target.name || "");
    if (!m) { return; }
    clearTimeout(timers[target.name]);
    timers[target.name] = setTimeout(function () {
      save(m[2], m[1] === "c" ? { comment: target.value } : { reason: target.value });
    }, 1500);
  });

  Array.prototype.forEach.call(form.querySelectorAll("fieldset[data-statement]"), function (fs) {
    updateReason(fs.dataset.statement);
  });
})();
