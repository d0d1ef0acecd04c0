// Keyboard shortcuts for the incident list and the triage queue, loaded
// from the page (the CSP allows no inline script). j and k move through
// the rows by focusing each row's link, so Enter opens the incident; /
// goes to the text filter. Keys typed into form fields are left alone.
// Without JavaScript the list works the same, only without the keys.
(function () {
  'use strict';

  function rows() {
    return Array.prototype.slice.call(document.querySelectorAll('#incident-table tbody tr'));
  }

  function currentIndex(rs) {
    for (var n = 0; n < rs.length; n++) {
      if (rs[n].contains(document.activeElement)) {
        return n;
      }
    }
    return -1;
  }

  function select(rs, n) {
    if (rs.length === 0) {
      return;
    }
    n = Math.max(0, Math.min(n, rs.length - 1));
    rs.forEach(function (r) { r.classList.remove('current'); });
    rs[n].classList.add('current');
    var link = rs[n].querySelector('a');
    if (link) {
      link.focus();
    }
  }

  document.addEventListener('keydown', function (e) {
    if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey) {
      return;
    }
    var t = e.target;
    if (t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT|BUTTON)$/.test(t.tagName))) {
      return;
    }
    var rs = rows();
    switch (e.key) {
      case 'j':
        select(rs, currentIndex(rs) + 1);
        e.preventDefault();
        break;
      case 'k':
        select(rs, Math.max(currentIndex(rs) - 1, 0));
        e.preventDefault();
        break;
      case '/':
        var q = document.getElementById('q');
        if (q) {
          q.focus();
          e.preventDefault();
        }
        break;
    }
  });
}());
