// A click on the captcha image loads a new one (the old answer is discarded server-side).
(function () {
  var image = document.getElementById("captcha-image");
  if (!image) return;
  var base = image.getAttribute("src");
  image.addEventListener("click", function () {
    image.setAttribute("src", base + "?t=" + Date.now());
    var input = document.getElementById("captcha");
    if (input) { input.value = ""; input.focus(); }
  });
})();
