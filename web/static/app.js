// LoanBridge workbench: SLA countdowns and the decision form's fields (no framework, no build).
(function () {
  "use strict";

  function pad(n) { return n < 10 ? "0" + n : String(n); }

  function tick() {
    var now = Date.now();
    document.querySelectorAll(".countdown[data-due]").forEach(function (el) {
      var due = Date.parse(el.getAttribute("data-due"));
      if (isNaN(due)) { return; }
      var left = Math.floor((due - now) / 1000);
      if (left <= 0) {
        el.textContent = el.getAttribute("data-overdue") || "overdue";
        el.classList.add("late");
        return;
      }
      var d = Math.floor(left / 86400), h = Math.floor((left % 86400) / 3600);
      var m = Math.floor((left % 3600) / 60), s = left % 60;
      el.textContent = (d ? d + "d " : "") + pad(h) + ":" + pad(m) + ":" + pad(s);
      el.classList.toggle("soon", left < 24 * 3600);
    });
  }

  function syncDecision() {
    var action = document.getElementById("action");
    if (!action) { return; }
    document.querySelectorAll("#decision-form [data-for]").forEach(function (el) {
      var show = el.getAttribute("data-for").split(" ").indexOf(action.value) >= 0;
      el.hidden = !show;
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    tick();
    window.setInterval(tick, 1000);
    var action = document.getElementById("action");
    if (action) {
      action.addEventListener("change", syncDecision);
      syncDecision();
    }
  });
})();
