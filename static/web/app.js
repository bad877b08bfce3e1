/* IncidentFox web app: small progressive enhancements (the pages work without them). No eval, CSP-safe. */
(function () {
  "use strict";

  /* Evidence links: open the tool call they point to and highlight it. */
  function revealTarget() {
    var id = decodeURIComponent(window.location.hash.slice(1));
    if (!id) { return; }
    var target = document.getElementById(id);
    if (!target) { return; }
    document.querySelectorAll(".highlighted").forEach(function (el) { el.classList.remove("highlighted"); });
    var details = target.tagName === "DETAILS" ? target : target.querySelector("details");
    if (details) { details.open = true; }
    target.classList.add("highlighted");
    var summary = target.querySelector("summary");
    if (summary) { summary.focus({ preventScroll: true }); }
    target.scrollIntoView({ block: "center" });
  }
  window.addEventListener("hashchange", revealTarget);
  document.addEventListener("DOMContentLoaded", revealTarget);

  /* Copy buttons: <button data-copy="text"> or data-copy-from="#element-id". */
  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("[data-copy],[data-copy-from]") : null;
    if (!button) { return; }
    var text = button.getAttribute("data-copy");
    if (text === null) {
      var source = document.querySelector(button.getAttribute("data-copy-from"));
      text = source ? (source.value !== undefined && source.tagName === "TEXTAREA" ? source.value : source.textContent) : "";
    }
    var done = function () {
      var label = button.textContent;
      button.textContent = "Copied";
      window.setTimeout(function () { button.textContent = label; }, 1500);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, function () {});
    } else {
      var area = document.createElement("textarea");
      area.value = text; document.body.appendChild(area); area.select();
      try { document.execCommand("copy"); done(); } catch (e) { /* the text stays selectable */ }
      document.body.removeChild(area);
    }
  });

  /* Forms with errors: focus the summary at the top so it is read out and in view. */
  document.addEventListener("DOMContentLoaded", function () {
    var summary = document.querySelector(".error-summary");
    if (summary) { summary.focus(); }
  });

  /* Charts: show the value under the pointer (points carry data-value and data-time). */
  document.addEventListener("mouseover", function (event) {
    var point = event.target.closest ? event.target.closest("[data-point]") : null;
    if (!point) { return; }
    var figure = point.closest("figure");
    var out = figure ? figure.querySelector(".chart-readout") : null;
    if (out) { out.textContent = point.getAttribute("data-point"); }
  });
})();

/* Narrow screens: the main navigation collapses behind a Menu button (it stays open without JavaScript). */
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var toggle = document.querySelector(".nav-toggle");
    var nav = document.getElementById("main-nav");
    if (!toggle || !nav) { return; }
    toggle.hidden = false;
    document.documentElement.classList.add("nav-collapsible");
    toggle.addEventListener("click", function () {
      var open = toggle.getAttribute("aria-expanded") !== "true";
      toggle.setAttribute("aria-expanded", String(open));
      nav.classList.toggle("nav-open", open);
    });
  });
})();
