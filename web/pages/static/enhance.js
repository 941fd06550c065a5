// Progressive enhancement: pages work without this file.
// An upload form with data-progress shows how much of a large file has gone, and the
// import summary (where the upload's answer leads) opens when the upload is done.
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("form[data-progress]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      var input = form.querySelector("input[type=file]");
      if (!input || !input.files.length || !window.XMLHttpRequest) return;
      event.preventDefault();
      var bar = document.getElementById(form.getAttribute("data-progress"));
      var status = document.getElementById(form.getAttribute("data-progress") + "-status");
      if (bar) { bar.hidden = false; bar.value = 0; }
      var request = new XMLHttpRequest();
      request.open("POST", form.action);
      request.upload.addEventListener("progress", function (e) {
        if (e.lengthComputable && bar) {
          bar.max = e.total; bar.value = e.loaded;
          if (status) status.textContent = Math.round(100 * e.loaded / e.total) + "% sent";
        }
      });
      request.addEventListener("load", function () {
        if (request.status < 400 && request.responseURL) { window.location.assign(request.responseURL); return; }
        document.open(); document.write(request.responseText); document.close();
      });
      request.addEventListener("error", function () { form.submit(); });
      request.send(new FormData(form));
      if (status) status.textContent = "Sending…";
    });
  });
});
