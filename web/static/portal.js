// LoanBridge applicant portal: form fields (registration, demand) checked as the owner types (by
// the server's own rules), document uploads with a progress bar, forms sent once and payment
// statuses that look again by themselves. Without scripts the forms still work.
(function () {
  "use strict";

  function checkAsYouType(form) {
    var touched = {};
    var timer = null;
    function show(problems) {
      form.querySelectorAll(".field-error[data-field]").forEach(function (el) {
        var name = el.getAttribute("data-field");
        var message = touched[name] ? problems[name] || "" : "";
        el.textContent = message;
        var input = form.querySelector('[name="' + name + '"]');
        if (input) {
          if (message) { input.setAttribute("aria-invalid", "true"); } else { input.removeAttribute("aria-invalid"); }
          input.closest(".field").classList.toggle("invalid", Boolean(message));
        }
      });
    }
    function check() {
      fetch(form.getAttribute("data-check"), {
        method: "POST", body: new FormData(form), credentials: "same-origin",
        headers: { "Accept": "application/json" }
      }).then(function (answer) { return answer.ok ? answer.json() : null; })
        .then(function (result) { if (result) { show(result.fields || {}); } })
        .catch(function () { /* the server checks again on submission */ });
    }
    function changed(event) {
      if (!event.target.name) { return; }
      touched[event.target.name] = true;
      window.clearTimeout(timer);
      timer = window.setTimeout(check, event.type === "input" ? 400 : 0);
    }
    form.addEventListener("input", changed);
    form.addEventListener("change", changed);
    form.addEventListener("focusout", changed);
  }

  function uploadWithProgress(form) {
    form.addEventListener("submit", function (event) {
      if (!window.XMLHttpRequest || !window.FormData) { return; }
      event.preventDefault();
      var bar = form.querySelector("progress");
      var error = form.querySelector(".field-error");
      var button = form.querySelector("button");
      var request = new XMLHttpRequest();
      bar.hidden = false;
      bar.value = 0;
      button.disabled = true;
      error.textContent = "";
      request.upload.addEventListener("progress", function (e) {
        if (e.lengthComputable) { bar.value = Math.round(e.loaded * 100 / e.total); }
      });
      request.addEventListener("load", function () {
        if (request.status < 400) { window.location.assign(request.responseURL); return; }
        var page = new DOMParser().parseFromString(request.responseText, "text/html");
        var said = page.querySelector(".field-error:not(:empty)") || page.querySelector("[role=alert]");
        error.textContent = said ? said.textContent : String(request.status);
        bar.hidden = true;
        button.disabled = false;
      });
      request.addEventListener("error", function () { form.submit(); });
      request.open("POST", form.action);
      request.send(new FormData(form));
    });
  }

  // "Done" notes come once, after the form that did it: a reload (the page following a case
  // as it moves on) must not say it again.
  function forgetDone() {
    var url = new URL(window.location.href);
    if (url.searchParams.has("done") && window.history.replaceState) {
      url.searchParams.delete("done");
      window.history.replaceState(null, "", url.pathname + url.search + url.hash);
    }
  }

  // A confirmed payment, an extension or a rating is sent once: the button is disabled after
  // the first submission (the server's key makes a second one harmless anyway).
  function submitOnce(form) {
    form.addEventListener("submit", function () {
      var button = form.querySelector("button[type=submit]");
      if (button) { window.setTimeout(function () { button.disabled = true; }, 0); }
    });
  }

  // A payment the bank has not answered yet: look again after a few seconds.
  function refreshLater(element) {
    var seconds = parseInt(element.getAttribute("data-refresh"), 10) || 5;
    window.setTimeout(function () { window.location.reload(); }, seconds * 1000);
  }

  document.addEventListener("DOMContentLoaded", function () {
    forgetDone();
    document.querySelectorAll("form[data-check]").forEach(checkAsYouType);
    document.querySelectorAll("form[data-once]").forEach(submitOnce);
    document.querySelectorAll("[data-refresh]").forEach(refreshLater);
    document.querySelectorAll("form[data-upload]").forEach(uploadWithProgress);
  });
})();
