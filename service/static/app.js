// Feedback from the adviser page: "right" / "wrong" per scheme, sent to POST /v1/feedback with the API key the
// adviser typed in (kept in this tab's sessionStorage only). Without JavaScript these controls stay hidden.
(function () {
  "use strict";
  var STORE = "regio-matcher-api-key";
  // The key typed in the upload form (which stores the run) is kept for feedback too, in this tab only.
  var formKey = document.getElementById("f-api_key");
  if (formKey) {
    formKey.value = sessionStorage.getItem(STORE) || "";
    formKey.form.addEventListener("submit", function () {
      if (formKey.value.trim()) {
        sessionStorage.setItem(STORE, formKey.value.trim());
      }
    });
  }
  var table = document.getElementById("triage-table");
  var keyInput = document.getElementById("api-key");
  if (!table || !keyInput) {
    return;
  }
  document.querySelectorAll("[data-js]").forEach(function (el) { el.hidden = false; });
  keyInput.value = sessionStorage.getItem(STORE) || "";
  keyInput.addEventListener("input", function () { sessionStorage.setItem(STORE, keyInput.value); });

  function say(status, text, kind) {
    status.textContent = text;
    status.className = "feedback-status" + (kind ? " feedback-" + kind : "");
  }

  table.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-feedback]");
    if (!button) {
      return;
    }
    var status = document.getElementById(button.dataset.status);
    var key = keyInput.value.trim();
    if (!key) {
      say(status, table.dataset.msgNoKey, "error");
      keyInput.focus();
      return;
    }
    say(status, table.dataset.msgSaving, "");
    fetch(table.dataset.feedbackUrl, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-API-Key": key },
      body: JSON.stringify({
        proposal_id: button.dataset.proposal,
        instrument_id: button.dataset.instrument,
        relevant: button.dataset.feedback === "right"
      })
    }).then(function (response) {
      if (response.ok) {
        say(status, table.dataset.msgSaved, "ok");
        button.parentElement.querySelectorAll("button").forEach(function (b) {
          b.setAttribute("aria-pressed", String(b === button));
        });
        return;
      }
      return response.json().catch(function () { return {}; }).then(function (body) {
        say(status, table.dataset.msgError + ": " + (body.error || response.status), "error");
      });
    }).catch(function (err) {
      say(status, table.dataset.msgError + ": " + err.message, "error");
    });
  });
})();
