// The live view: follows the organisation's event stream (Server-Sent
// Events from the address in #live-status's data-stream) and adds each
// new event at the top of #live-events. The browser resumes a dropped
// stream with Last-Event-ID, so nothing is missed across reconnections.
// Text is set with textContent only: event fields are never parsed as
// HTML.
(function () {
  'use strict';

  var status = document.getElementById('live-status');
  var table = document.getElementById('live-events');
  if (!status || !table || typeof EventSource === 'undefined') {
    return;
  }
  var body = table.tBodies[0];
  var none = document.getElementById('live-none');
  var maxRows = 500;

  function cell(row, text) {
    var td = document.createElement('td');
    td.textContent = text;
    row.appendChild(td);
    return td;
  }

  function endpoint(e) {
    if (!e) {
      return '';
    }
    var s = e.ip || '';
    if (e.port) {
      s += ':' + e.port;
    }
    if (e.fqdn) {
      s += (s ? ' ' : '') + e.fqdn;
    }
    if (e.url) {
      s += (s ? ' ' : '') + e.url;
    }
    return s;
  }

  function add(ev) {
    var old = body.querySelector('tr[data-id="' + String(ev.id) + '"]');
    if (old) {
      old.parentNode.removeChild(old);
    }
    var row = document.createElement('tr');
    row.setAttribute('data-id', String(ev.id));
    row.className = 'new';
    var first = document.createElement('td');
    var link = document.createElement('a');
    link.href = '/events/' + encodeURIComponent(String(ev.id));
    link.textContent = (ev.last_seen || '').replace('T', ' ').replace(/\.\d+/, '').replace('Z', ' UTC');
    first.appendChild(link);
    row.appendChild(first);
    cell(row, ev['class'] + '/' + ev.type + (ev.malware ? ' (' + ev.malware + ')' : ''));
    cell(row, endpoint(ev.source));
    cell(row, endpoint(ev.destination));
    cell(row, ev.feed || '');
    var tlp = document.createElement('span');
    tlp.className = 'tlp tlp-' + (ev.tlp || '');
    tlp.textContent = 'TLP:' + (ev.tlp || 'unlabelled');
    cell(row, '').appendChild(tlp);
    cell(row, String(ev.count || 1));
    body.insertBefore(row, body.firstChild);
    while (body.rows.length > maxRows) {
      body.deleteRow(body.rows.length - 1);
    }
    if (none) {
      none.hidden = true;
    }
  }

  var source = new EventSource(status.getAttribute('data-stream'));
  source.onopen = function () {
    status.textContent = 'Connected: new events of your organisation appear here as focal stores them.';
    status.setAttribute('data-state', 'open');
  };
  source.onerror = function () {
    status.textContent = 'Disconnected: reconnecting…';
    status.setAttribute('data-state', 'error');
  };
  source.addEventListener('event', function (m) {
    try {
      add(JSON.parse(m.data));
    } catch (err) {
      status.textContent = 'An event could not be shown: ' + err.message;
    }
  });
}());
