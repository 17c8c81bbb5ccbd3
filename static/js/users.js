// §六 step 3: "enter the login account and check it is free", live, while the admin types.
(function () {
  var script = document.getElementById("crm-users-js");
  var input = document.getElementById("login");
  if (!script || !input) return;
  var url = script.getAttribute("data-check-url");
  var status = document.createElement("div");
  status.className = "crm-login-status";
  status.setAttribute("aria-live", "polite");
  input.parentNode.appendChild(status);
  var timer = null, last = null;
  function check() {
    var value = input.value.trim();
    if (!value || value === last) return;
    last = value;
    fetch(url + "?login=" + encodeURIComponent(value), { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.json(); })
      .then(function (data) {
        if (input.value.trim() !== value) return;
        status.textContent = data.message;
        status.className = "crm-login-status " + (data.free ? "ok" : "taken");
      })
      .catch(function () { status.textContent = ""; });
  }
  input.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(check, 300); });
  input.addEventListener("blur", check);
})();

// §六 step 6: managed departments matter only for supervisors and managers.
(function () {
  var role = document.getElementById("role");
  var managed = document.getElementById("managed_departments");
  if (!role || !managed) return;
  var group = managed.closest(".form-group");
  function toggle() {
    if (group) group.style.display = (role.value === "supervisor" || role.value === "manager") ? "" : "none";
  }
  role.addEventListener("change", toggle);
  toggle();
})();
