/* The imports pages (templates/imports/): progress bars that follow the background job, and the
   upload form's target fields. No inline script: the content security policy forbids it. */
(function () {
  'use strict';

  // Widths come from data-width (an inline style attribute set by script is allowed; one in the HTML is not).
  function paint(bar) {
    var inner = bar.querySelector('.progress-bar');
    inner.style.width = (inner.getAttribute('data-width') || '0') + '%';
  }

  // Poll the job's progress; when its status changes (checked, imported, failed), show the new page.
  function follow(bar) {
    var url = bar.getAttribute('data-import-progress');
    var status = bar.getAttribute('data-status');
    var inner = bar.querySelector('.progress-bar');
    var text = bar.querySelector('[data-progress-text]');
    function poll() {
      fetch(url, {credentials: 'same-origin', headers: {'Accept': 'application/json'}})
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (state) {
          if (!state) { return; }
          if (state.status !== status) { window.location.reload(); return; }
          if (state.queued) {  // still waiting for a worker: how many jobs before it, or that none seems to run
            text.textContent = state.queued;
            text.classList.toggle('text-danger', !!state.worker_down);
            text.classList.toggle('text-muted', !state.worker_down);
          } else if (text.hasAttribute('data-queued')) {  // a worker took it: no longer the queue's words
            text.removeAttribute('data-queued');
            text.classList.remove('text-danger');
            text.classList.add('text-muted');
            text.textContent = text.getAttribute('data-started');
          }
          if (state.total && !state.queued) {
            var percent = Math.min(100, Math.floor(state.done * 100 / state.total));
            inner.style.width = percent + '%';
            inner.textContent = percent + '%';
            inner.setAttribute('aria-valuenow', state.done);
            inner.setAttribute('aria-valuemax', state.total);
            text.textContent = text.getAttribute('data-template') ?
              text.getAttribute('data-template').replace('{done}', state.done).replace('{total}', state.total) :
              state.done + ' / ' + state.total;
          }
          window.setTimeout(poll, 1000);
        })
        .catch(function () { window.setTimeout(poll, 3000); });
    }
    window.setTimeout(poll, 700);
  }

  document.querySelectorAll('[data-import-progress]').forEach(function (bar) { paint(bar); follow(bar); });

  // The upload form shows the owner and department fields only for the targets that use them.
  var form = document.getElementById('import-form');
  if (form) {
    var show = function () {
      var checked = form.querySelector('input[name=target]:checked');
      var target = checked ? checked.value : '';
      form.querySelectorAll('[data-import-for]').forEach(function (group) {
        group.hidden = group.getAttribute('data-import-for').split(' ').indexOf(target) < 0;
      });
    };
    form.addEventListener('change', show);
    show();
  }
})();
