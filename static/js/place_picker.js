// The place pickers of the entry form and the duplicate check (templates/place_picker.html):
// province, city, district and town (乡镇/街道), each an <input list> that takes typing or a pick
// from its <datalist>. A level chosen refills the list below it and clears the levels under it;
// a short name typed (广东, 扬州, 江都) comes back in full from the server's lists. The save makes
// the place canonical again on the server (services/places.py): this is a convenience, not a rule.
(function () {
  "use strict";
  var script = document.getElementById("crm-place-picker-js");
  if (!script) return;
  var LEVELS = ["province", "city", "district", "town"];
  var URLS = { city: script.getAttribute("data-cities-url"), district: script.getAttribute("data-districts-url"),
               town: script.getAttribute("data-towns-url") };
  var KEYS = { city: "cities", district: "districts", town: "towns" };  // the list's member in each answer
  var inputs = {}, lists = {}, chosen = {}, asked = {};
  LEVELS.forEach(function (level) {
    inputs[level] = document.getElementById(level);
    lists[level] = document.getElementById(level + "-list");
    chosen[level] = inputs[level] ? inputs[level].value.trim() : "";
    asked[level] = 0;  // answers to an older question are dropped
  });
  if (!inputs.province || !inputs.city) return;

  function value(level) { return inputs[level] ? inputs[level].value.trim() : ""; }
  function changed(level) { inputs[level].dispatchEvent(new Event("change", { bubbles: true })); }  // the live check listens

  function fill(level, names) {
    var list = lists[level];
    if (!list) return;
    list.textContent = "";
    names.forEach(function (name) {
      var option = document.createElement("option"); option.value = name; list.appendChild(option);
    });
  }

  function set(level, name) {  // a canonical name from the server in place of what was typed
    if (!inputs[level] || !name || value(level) === name) return;
    inputs[level].value = name;
    chosen[level] = name;  // the same place in full: the levels below stay
    changed(level);
  }

  function load(level) {
    if (!inputs[level] || !lists[level]) return;
    var params = new URLSearchParams({ province: value("province"), city: value("city"),
                                       district: level === "town" ? value("district") : "" });
    var ticket = ++asked[level];
    fetch(URLS[level] + "?" + params.toString(), { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (!data || ticket !== asked[level]) return;
        fill(level, data[KEYS[level]] || []);
        // the parents in full: 广东 → 广东省; 扬州 alone → 江苏省 扬州市; 义乌 → 金华市 and its district 义乌市
        if (data.province) set("province", data.province);
        if (data.city && level !== "city") set("city", data.city);
        if (data.district && (level === "town" || !value("district"))) set("district", data.district);
      })
      .catch(function () {});  // offline: the fields still take typing
  }

  function commit(level) {
    var v = value(level);
    if (v === chosen[level]) return;
    chosen[level] = v;
    var at = LEVELS.indexOf(level);
    LEVELS.slice(at + 1).forEach(function (below) {  // what was chosen under the old value no longer applies
      asked[below]++;
      fill(below, []);
      if (inputs[below] && inputs[below].value) { inputs[below].value = ""; chosen[below] = ""; changed(below); }
    });
    if (!v) return;
    if (level === "province") load("city");
    if (level === "city") { load("district"); load("town"); }  // 东莞市 has towns and no districts
    if (level === "district") load("town");
  }

  function listed(level, v) {
    var list = lists[level];
    return !!(v && list && Array.prototype.some.call(list.options, function (o) { return o.value === v; }));
  }

  LEVELS.forEach(function (level) {
    var input = inputs[level];
    if (!input) return;
    input.addEventListener("change", function () { commit(level); });  // typed, and the field left
    input.addEventListener("input", function () {  // a pick from the list, or a name typed in full
      if (listed(level, value(level))) commit(level);
    });
  });

  // a form shown again (a refused save, or carried over from the duplicate check): its lists
  if (value("province")) load("city");
  if (value("city")) { load("district"); load("town"); }
})();
