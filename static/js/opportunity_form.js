// §三: the duplicate check runs while the salesperson types the three keys,
// before the rest of the form is filled; the save checks again on the server.
(function () {
  var script = document.getElementById("crm-opportunity-js");
  if (!script) return;
  var checkUrl = script.getAttribute("data-check-url");
  var panel = document.getElementById("live-check");
  var summary = document.getElementById("live-check-summary");
  var rows = document.getElementById("live-check-rows");
  var confirmGroup = document.getElementById("confirm-review-group");  // the question and its tick, in the panel
  function byId(id) { return document.getElementById(id); }
  function value(id) { var el = byId(id); return el ? el.value.trim() : ""; }

  function showConfirm(show) { if (confirmGroup) confirmGroup.classList.toggle("d-none", !show); }

  var labels = Array.prototype.map.call(panel.querySelectorAll("thead th"), function (th) { return th.textContent; });
  function labelled(tr) {  // each cell names its column, shown above it when the rows stack at phone width
    Array.prototype.forEach.call(tr.children, function (td, i) { if (i) td.setAttribute("data-label", labels[i]); });
    return tr;
  }
  function cell(text, html) { var td = document.createElement("td"); if (html) td.appendChild(html); else td.textContent = text; return td; }
  // each field the check reads has its own line under it (entry_check.checked): what the check found by it
  var KEYS = ["company", "phone", "fax", "mobile", "wechat"];
  var TONES = { none: "text-success", problem: "text-danger", blocks: "text-danger", similar: "text-warning-dark",
                own: "text-info", limit: "text-danger" };
  function say(id, state, text) {
    var line = byId(id + "-check");
    if (!line) return;
    if (state === "none" && text) text = "✓ " + text;
    if (line.textContent !== text) line.textContent = text;  // unchanged: not announced again
    line.className = "crm-field-check small " + (TONES[state] || "");
    line.setAttribute("data-state", text ? state : "");
  }
  // the panel goes right under the field whose matches it lists: the one being typed in if it found any,
  // else the first that did (公司名称 first)
  function place(fields, typed) {
    var home = fields[typed] && fields[typed].state === "matches" ? typed
      : KEYS.filter(function (id) { return fields[id] && fields[id].state === "matches"; })[0] || "company";
    var line = byId(home + "-check");
    var group = line ? line.closest(".form-group") : null;
    if (group && group.nextElementSibling !== panel) group.parentNode.insertBefore(panel, group.nextElementSibling);
  }

  function render(data, typed) {
    rows.textContent = "";
    var fields = data.fields || {};
    if (data.error === "check_limit") {  // the daily limit: said under the field typed in; the save still checks
      KEYS.forEach(function (id) { say(id, "limit", id === (typed || "company") ? data.message : ""); });
      panel.classList.add("d-none"); showConfirm(false);
      return;
    }
    KEYS.forEach(function (id) {
      var said = fields[id];
      say(id, said ? (said.tone || said.state) : "", said ? said.message : "");
    });
    if (!data.total) { panel.classList.add("d-none"); showConfirm(false); return; }
    place(fields, typed);
    panel.classList.remove("d-none");
    // the save's own verdict (data.outcome, services.opportunities.decide), not only the engine's
    var refused = data.outcome && data.outcome !== "enter" && data.outcome !== "confirm";
    // a resemblance: the count above the matches, the question (with its tick) below them
    var asks = data.outcome === "confirm";
    summary.textContent = asks ? data.summary : data.summary + " · " + (data.message || data.verdict_label || "");
    summary.className = "card-header " + (data.outcome === "yours" ? "alert-info mb-0" : refused ? "text-danger" : "");
    (data.hits || []).forEach(function (hit) {
      var tr = document.createElement("tr");
      tr.className = hit.own ? "table-info" : hit.blocks ? "table-danger" : "";
      var name = null;
      if (hit.url) {  // one's own customer: a link to it, with a badge
        name = document.createDocumentFragment();
        var link = document.createElement("a"); link.href = hit.url; link.textContent = hit.company;
        var badge = document.createElement("span"); badge.className = "badge badge-info ml-1";
        badge.textContent = script.getAttribute("data-own-label");
        name.appendChild(link); name.appendChild(badge);
      }
      var nameCell = cell(hit.company, name); nameCell.className = "crm-name"; tr.appendChild(nameCell);
      tr.appendChild(cell(hit.location));
      tr.appendChild(cell(hit.owner || "—"));
      var why = cell(hit.reasons.join("；")); why.className = "small"; tr.appendChild(why);
      tr.appendChild(cell(hit.verdict_label));
      rows.appendChild(labelled(tr));
    });
    showConfirm(data.outcome === "confirm");
  }

  var timer = null, last = "", typed = null;
  function check() {
    var params = new URLSearchParams({ name: value("company"), phone: value("phone"), fax: value("fax"),
                                       mobile: value("mobile"), wechat: value("wechat"), province: value("province"),
                                       city: value("city") });
    var query = params.toString();
    if (query === last) return;
    last = query;
    fetch(checkUrl + "?" + query, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.json(); })
      .then(function (data) { if (query === last) render(data, typed); })
      .catch(function () {});
  }
  ["company", "phone", "fax", "mobile", "wechat", "city"].forEach(function (id) {
    var el = byId(id);
    if (el) el.addEventListener("input", function () {
      if (KEYS.indexOf(id) >= 0) typed = id;
      clearTimeout(timer); timer = setTimeout(check, 350);
    });
  });
  // the place pickers (place_picker.js) announce a province or city chosen, typed or made canonical
  ["province", "city"].forEach(function (id) {
    var el = byId(id);
    if (el) el.addEventListener("change", function () { clearTimeout(timer); timer = setTimeout(check, 350); });
  });
  if (value("company") || value("phone") || value("fax")) check();
})();
