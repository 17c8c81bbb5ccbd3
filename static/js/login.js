// The login page's captcha (issue 21): 换一张 and a click on the image load a new one; before the form is
// sent, the typed code is checked (POST /login/captcha-check, which does not use the image up), so a
// misread code is said next to the code field and the typed password stays where it is. Without this
// script, or when the check cannot answer, the form is sent and the server checks the code as before.
(function () {
  var form = document.getElementById("login-form");
  var image = document.getElementById("captcha-image");
  var input = document.getElementById("captcha");
  if (!form || !image || !input) return;
  var feedback = document.getElementById("captcha-feedback");
  var refresh = document.getElementById("captcha-refresh");
  var base = image.getAttribute("src");

  function say(message) {
    feedback.textContent = message || "";
    input.classList.toggle("is-invalid", !!message);
    if (message) input.setAttribute("aria-invalid", "true"); else input.removeAttribute("aria-invalid");
  }
  function newImage() {
    image.setAttribute("src", base + "?t=" + Date.now());
    input.value = "";
    input.focus();
  }
  image.addEventListener("click", function () { say(""); newImage(); });
  if (refresh) {
    refresh.hidden = false;
    refresh.addEventListener("click", function () { say(""); newImage(); });
  }
  input.addEventListener("input", function () { if (feedback.textContent) say(""); });

  var checked = false;  // the code was found right: this submit goes to the server
  form.addEventListener("submit", function (event) {
    if (checked) return;
    event.preventDefault();
    var body = new URLSearchParams();
    body.set("csrf_token", form.querySelector("[name=csrf_token]").value);
    body.set("captcha", input.value);
    fetch(form.getAttribute("data-check-url"), {
      method: "POST", credentials: "same-origin", body: body,
      headers: { "Accept": "application/json", "X-CSRFToken": form.querySelector("[name=csrf_token]").value }
    }).then(function (response) {
      if (!response.ok) throw new Error(response.status);  // waiting, or anything odd: the server decides
      return response.json();
    }).then(function (data) {
      if (data.ok) { checked = true; form.submit(); return; }
      say(data.message);
      if (data.error === "expired") newImage(); else { input.focus(); input.select(); }
    }).catch(function () { checked = true; form.submit(); });
  });
})();
