// Injected by tools/docs_check.py into a copy of a page shown in an iframe of the width under
// test (headless chromium's window is never narrower than 500 px): measures the layout as the
// browser drew it and posts the result to the wrapper page, which keeps it for --dump-dom.
(function () {
  function name(el) {
    var cls = typeof el.className === "string" && el.className ? "." + el.className.split(" ")[0] : "";
    return el.tagName.toLowerCase() + cls;
  }
  function wide() {
    var out = [], all = document.body.querySelectorAll("*");
    for (var i = 0; i < all.length && out.length < 5; i++) {
      var r = all[i].getBoundingClientRect();
      if (r.width > 0 && r.right > window.innerWidth + 0.5) out.push(name(all[i]));
    }
    return out;
  }
  function edgeHits(box) {  // what is drawn at the box's left edge, down its height
    var b = box.getBoundingClientRect(), hits = [];
    for (var y = b.top + 60; y < Math.min(b.bottom, window.innerHeight) - 5; y += 40) {
      var el = document.elementFromPoint(b.left + 4, y);
      if (el) hits.push(el.closest("th.lib") ? "lib" : el.closest("tr.family") ? "family" : name(el));
    }
    return hits;
  }
  function matrix() {
    var box = document.querySelector(".scroll");
    if (!box) return null;
    var table = box.querySelector("table");
    var res = {boxWidth: box.clientWidth, tableWidth: Math.ceil(table.getBoundingClientRect().width)};
    box.scrollIntoView();
    box.scrollTop = 800;
    box.scrollLeft = 400;
    var b = box.getBoundingClientRect();
    var top = document.elementFromPoint(b.left + b.width / 2, b.top + 4);
    res.headerStays = !!top && !!top.closest("thead");
    var hits = edgeHits(box);
    res.atLeftEdge = hits.join(" ");
    res.libraryStays = hits.indexOf("lib") >= 0 && hits.every(function (h) { return h === "lib" || h === "family"; });
    box.scrollTop = 0;
    box.scrollLeft = 0;
    var summary = box.querySelector("td details > summary");
    summary.click();
    var more = summary.parentElement.querySelector(".more");
    res.opens = summary.parentElement.open && more.offsetHeight > 0 && /What to do/.test(more.textContent);
    return res;
  }
  function run() {
    var d = document.documentElement;
    var res = {innerWidth: window.innerWidth, scrollWidth: d.scrollWidth, wide: []};
    if (d.scrollWidth > window.innerWidth) res.wide = wide();
    res.matrix = matrix();
    window.parent.postMessage(JSON.stringify(res), "*");
  }
  if (document.readyState === "complete") run(); else window.addEventListener("load", run);
})();
