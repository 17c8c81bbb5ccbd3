/* The duplicates pages (templates/duplicates/): the scan's progress bar, and the merge form's
   defaults. No inline script: the content security policy forbids it. */
(function () {
  'use strict';

  // The scan runs on the worker: poll its progress, and show the new page when its status changes.
  var bar = document.querySelector('[data-scan-progress]');
  if (bar) {
    var inner = bar.querySelector('.progress-bar');
    var text = bar.querySelector('[data-progress-text]');
    inner.style.width = (inner.getAttribute('data-width') || '0') + '%';
    var poll = function () {
      fetch(bar.getAttribute('data-scan-progress'), {credentials: 'same-origin', headers: {'Accept': 'application/json'}})
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (state) {
          if (!state) { return; }
          if (state.status !== bar.getAttribute('data-status')) { window.location.reload(); return; }
          if (state.total) {
            var percent = Math.min(100, Math.floor(state.done * 100 / state.total));
            inner.style.width = percent + '%';
            inner.textContent = percent + '%';
            inner.setAttribute('aria-valuenow', state.done);
            inner.setAttribute('aria-valuemax', state.total);
            text.textContent = text.getAttribute('data-template').replace('{done}', state.done).replace('{total}', state.total);
          }
          window.setTimeout(poll, 1000);
        })
        .catch(function () { window.setTimeout(poll, 3000); });
    };
    window.setTimeout(poll, 700);
  }

  // The merge form: whose value each field keeps follows the record kept (its own value, else the
  // first merged record's that has one, as the server does) until the admin picks one by hand.
  var form = document.getElementById('merge-form');
  if (!form) { return; }
  var kept = function () {
    var checked = form.querySelector('input[name=keep]:checked');
    return checked ? checked.value : null;
  };
  var included = function (id) {
    var box = form.querySelector('input[name=merge][value="' + id + '"]');
    return id === kept() || (box && box.checked);
  };
  var refresh = function () {
    var keep = kept();
    form.querySelectorAll('[data-record]').forEach(function (cell) {
      cell.classList.toggle('crm-kept', cell.getAttribute('data-record') === keep);
    });
    form.querySelectorAll('input[name=merge]').forEach(function (box) {
      if (box.value === keep) { box.checked = false; box.disabled = true; }
      else if (box.disabled) { box.disabled = false; box.checked = true; }  // the record kept before
    });
    form.querySelectorAll('tr[data-field]').forEach(function (row) {
      var radios = row.querySelectorAll('input[type=radio]');
      if (!radios.length) { return; }
      var current = row.querySelector('input[type=radio]:checked');
      if (row.hasAttribute('data-touched') && current && included(current.value)) { return; }
      var pick = null;
      var cells = Array.prototype.slice.call(row.querySelectorAll('td[data-record]'));
      var own = cells.filter(function (c) { return c.getAttribute('data-record') === keep; })[0];
      if (own && (own.getAttribute('data-empty') === '0' || row.getAttribute('data-field') === 'owner')) { pick = own; }
      cells.forEach(function (cell) {
        if (!pick && cell.getAttribute('data-empty') === '0' && included(cell.getAttribute('data-record'))) { pick = cell; }
      });
      pick = pick || own;
      if (pick) { pick.querySelector('input[type=radio]').checked = true; }
    });
  };
  form.addEventListener('change', function (event) {
    var row = event.target.closest('tr[data-field]');
    if (row) { row.setAttribute('data-touched', ''); return; }
    refresh();
  });
})();
