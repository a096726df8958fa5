// The header's menus are <details> elements, usable without this script.
// It makes them behave as menus do for a keyboard: Escape closes the open
// one and returns focus to its button, opening one closes the others, and
// one closes when focus or a click leaves it — an open menu had stayed
// over the filters it covered until clicked again.
(function () {
  "use strict";
  var menus = document.querySelectorAll("details.menu");
  function closeAll(except) {
    menus.forEach(function (m) {
      if (m !== except) m.open = false;
    });
  }
  menus.forEach(function (m) {
    m.addEventListener("toggle", function () {
      if (m.open) closeAll(m);
    });
    m.addEventListener("keydown", function (e) {
      if (e.key === "Escape" && m.open) {
        m.open = false;
        m.querySelector("summary").focus();
        e.preventDefault();
      }
    });
    m.addEventListener("focusout", function (e) {
      if (m.open && e.relatedTarget && !m.contains(e.relatedTarget)) m.open = false;
    });
  });
  document.addEventListener("click", function (e) {
    menus.forEach(function (m) {
      if (m.open && !m.contains(e.target)) m.open = false;
    });
  });
})();

// A table wider than its box scrolls inside it; a keyboard can scroll it
// only if the box takes focus. Boxes that overflow are made focusable and
// named after their section's heading; the others stay out of the tab
// order.
(function () {
  "use strict";
  function label(box) {
    var sec = box.closest("section, .panel, .sheet");
    var h = sec && sec.querySelector("h2, h3");
    return h ? h.textContent.trim() : "Table";
  }
  function mark() {
    document.querySelectorAll(".table-scroll, .sheet__scroll, .adm-scroll").forEach(function (box) {
      if (box.scrollWidth > box.clientWidth + 1) {
        box.setAttribute("tabindex", "0");
        box.setAttribute("role", "region");
        box.setAttribute("aria-label", label(box) + " (scrolls sideways)");
      } else if (box.getAttribute("role") === "region") {
        box.removeAttribute("tabindex");
        box.removeAttribute("role");
        box.removeAttribute("aria-label");
      }
    });
  }
  mark();
  var t;
  window.addEventListener("resize", function () {
    clearTimeout(t);
    t = setTimeout(mark, 150);
  });
})();
