// The progress bar of a running import: polls the record's status and reloads the page
// when the import has ended (the result, the preview or the errors are then shown).
(function () {
  "use strict";
  var section = document.querySelector("[data-progress-url]");
  if (!section) return;
  var bar = document.getElementById("import-bar");
  var text = document.getElementById("import-progress-text");
  var status = document.getElementById("import-status");
  var url = section.getAttribute("data-progress-url");
  var numbers = new Intl.NumberFormat(document.documentElement.lang || "sv");

  function show(state) {
    status.textContent = state.status_display;
    if (state.rows_total) {
      bar.max = state.rows_total;
      bar.value = state.rows_done;
    } else {
      bar.removeAttribute("value"); // unknown length: an indeterminate bar
    }
    if (state.status === "running") {
      var of = " " + section.getAttribute("data-label-of") + " ";
      var rows = " " + section.getAttribute("data-label-rows");
      text.textContent = state.phase_display + ": " + numbers.format(state.rows_done) +
        (state.rows_total ? of + numbers.format(state.rows_total) : "") + rows;
    }
  }

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.json(); })
      .then(function (state) {
        if (!state.active) { window.location.reload(); return; }
        show(state);
        window.setTimeout(poll, 1000);
      })
      .catch(function () { window.setTimeout(poll, 5000); });
  }
  window.setTimeout(poll, 1000);
})();
