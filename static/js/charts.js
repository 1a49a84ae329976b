/* Draws every Plotly figure on the page from its JSON data script (no inline code, so the
   Content-Security-Policy holds without 'unsafe-inline'). The figure comes whole from the
   server (scorecard/charts.py); this file only hands it to plotly.js and redraws it when
   its box changes width (a turned tablet, a resized window). */
(function () {
  "use strict";
  var config = { displayModeBar: false, responsive: false, displaylogo: false };

  function watchWidth(element) {
    if (typeof ResizeObserver === "undefined") {
      return;
    }
    var width = element.clientWidth;
    new ResizeObserver(function () {
      // Only a new width needs a new layout; heights are the figure's own.
      if (element.clientWidth !== width) {
        width = element.clientWidth;
        Plotly.Plots.resize(element);
      }
    }).observe(element);
  }

  function draw(element) {
    var source = document.getElementById(element.getAttribute("data-chart"));
    if (!source || typeof Plotly === "undefined") {
      return;
    }
    var figure = JSON.parse(source.textContent);
    Plotly.newPlot(element, figure.data, figure.layout, config).then(function () {
      element.setAttribute("data-drawn", "true");
      watchWidth(element);
    });
  }

  function drawAll() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-chart]"), draw);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", drawAll);
  } else {
    drawAll();
  }
})();
