/* Behaviour that Flask-Admin writes as inline event handlers, which the content security policy
   (views/security.py) forbids: confirmations and the bulk actions of a list. */
(function () {
  'use strict';

  // A button or link with data-crm-confirm asks first; "cancel" stops the click, and so its form.
  document.addEventListener('click', function (event) {
    var target = event.target.closest('[data-crm-confirm]');
    if (target && !window.confirm(target.getAttribute('data-crm-confirm'))) {
      event.preventDefault();
      event.stopPropagation();
    }
  }, true);

  // "With selected" actions: Flask-Admin's modelActions (admin/js/actions.js) checks the selection,
  // asks the action's confirmation and posts the action form with its CSRF token.
  document.addEventListener('click', function (event) {
    var link = event.target.closest('[data-crm-action]');
    if (!link) { return; }
    event.preventDefault();
    if (window.modelActions) { window.modelActions.execute(link.getAttribute('data-crm-action')); }
  });

  // Links that only open a menu or add a filter ("javascript:void(0)" or "#" in Flask-Admin's
  // templates) must not navigate: a javascript: URL is inline script, which the policy blocks.
  document.addEventListener('click', function (event) {
    var link = event.target.closest('a[href^="javascript:"], a[href="#"][data-toggle], a[data-crm-action]');
    if (link) { event.preventDefault(); }
  }, true);  // capture: menus stop the click's propagation before it would reach the document
})();
