// Live alerts and small form helpers. No build step; every page works without it.
//
// Signed-in pages carry data-live="/api/v1/events" on <body>. Each server-sent event (kind:
// incident, bulletin, request, movement) shows a toast, is re-dispatched on <body> as
// `live-<kind>` for htmx triggers (hx-trigger="live-incident from:body"), and bulletins and
// requests bump the unread badge. EventSource reconnects by itself.
(function () {
  "use strict";
  var body = document.body;

  function toast(kind, data) {
    var box = document.getElementById("toasts");
    if (!box) return;
    var item = document.createElement("div");
    item.className = "toast toast-" + kind;
    item.setAttribute("role", "status");
    var head = document.createElement("strong");
    head.textContent = body.getAttribute("data-live-" + kind) || kind;
    item.appendChild(head);
    if (data.title) {
      var text = document.createElement("span");
      text.textContent = data.title;
      item.appendChild(text);
    }
    if (data.link && data.link.charAt(0) === "/") {
      var link = document.createElement("a");
      link.href = data.link;
      link.textContent = body.getAttribute("data-live-open") || "Open";
      item.appendChild(link);
    }
    var close = document.createElement("button");
    close.type = "button";
    close.className = "toast-close";
    close.setAttribute("aria-label", body.getAttribute("data-live-close") || "Close");
    close.textContent = "×";
    close.addEventListener("click", function () { item.remove(); });
    item.appendChild(close);
    box.appendChild(item);
    while (box.children.length > 4) box.removeChild(box.firstChild);
    setTimeout(function () { item.remove(); }, 15000);
  }

  function bumpUnread() {
    var badge = document.getElementById("unread-badge");
    if (!badge) return;
    var n = (parseInt(badge.getAttribute("data-count"), 10) || 0) + 1;
    badge.setAttribute("data-count", String(n));
    badge.textContent = n.toLocaleString(document.documentElement.lang === "vi" ? "vi-VN" : "en-US");
    badge.hidden = false;
  }

  var url = body.getAttribute("data-live");
  if (url && window.EventSource) {
    var source = new EventSource(url);
    ["incident", "bulletin", "request", "movement"].forEach(function (kind) {
      source.addEventListener(kind, function (e) {
        var data = {};
        try { data = JSON.parse(e.data); } catch (err) { /* keep the empty event */ }
        toast(kind, data);
        if (kind === "bulletin" || kind === "request") bumpUnread();
        body.dispatchEvent(new CustomEvent("live-" + kind, { detail: data }));
      });
    });
    window.addEventListener("pagehide", function () { source.close(); });
  }

  // A checkbox with data-follows="other-id" takes the other's state until the user sets it.
  document.querySelectorAll("input[data-follows]").forEach(function (box) {
    var leader = document.getElementById(box.getAttribute("data-follows"));
    if (!leader) return;
    var touched = false;
    box.addEventListener("change", function () { touched = true; });
    leader.addEventListener("change", function () { if (!touched) box.checked = leader.checked; });
  });

  // A refused form (422) comes back as a page to show, as without JavaScript.
  document.addEventListener("htmx:beforeSwap", function (e) {
    if (e.detail.xhr && e.detail.xhr.status === 422) {
      e.detail.shouldSwap = true;
      e.detail.isError = false;
    }
  });

  // Upload progress for htmx forms with a <progress data-progress>.
  document.addEventListener("htmx:xhr:progress", function (e) {
    var form = e.target.closest ? e.target.closest("form") : null;
    var bar = form && form.querySelector("progress[data-progress]");
    if (bar && e.detail.lengthComputable) {
      bar.hidden = false;
      bar.value = Math.round((e.detail.loaded / e.detail.total) * 100);
    }
  });
})();
