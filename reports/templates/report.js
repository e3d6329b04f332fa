// The address table: built from the data island (#report-data, a JSON array
// of arrays) by this script, with sorting, filtering and virtual scrolling:
// only the rows in view, plus a margin, exist in the DOM, so 100,000
// addresses scroll, sort and filter as fast as 100. Everything from DNS is
// set as text (textContent, title) and never parsed as markup. Without this
// script the page shows the static list of addresses that do not pass
// (#fallback), which is also what prints.
(function () {
  'use strict';
  var island = document.getElementById('report-data');
  var wrap = document.getElementById('results-wrap');
  if (!island || !wrap) return;
  var data = JSON.parse(island.textContent);
  var rows = data.rows;
  var table = document.getElementById('results');
  var body = table.tBodies[0];
  var controls = document.getElementById('controls');
  var search = document.getElementById('filter-text');
  var statusFilter = document.getElementById('filter-status');
  var codeFilter = document.getElementById('filter-code');
  var shownCount = document.getElementById('shown-count');
  var OVERSCAN = 20;  // rows rendered above and below the visible ones
  var rowHeight = 0;  // measured from the first row rendered
  var view = [];      // indices into rows: those matching, in display order
  var order = [];     // indices into rows in the current sort order
  var texts = null;   // lower-case row text, built on the first search
  var rendered = { first: -1, last: -1 };
  var recentRuns = Array.prototype.map.call(
      document.querySelectorAll('#recent-runs li'), function (item) { return item.textContent; });
  var stateWords = { p: 'pass', w: 'warn', f: 'fail', u: 'unknown', n: 'not audited' };

  // Row fields: [ip, status rank, change code, recent letters, [PTR...],
  // [[PTR index or name, 0 (the row's own address) or address...]...],
  // [code index, detail, ...]] (docs/reports.md, "The data island").
  function family(row) { return row[0].indexOf(':') >= 0 ? 'ipv6' : 'ipv4'; }
  function status(row) { return data.statuses[row[1]] || 'unknown'; }
  function ptrText(row) { return row[4].join(' '); }
  function forwardText(row) {
    return row[5].map(function (entry) {
      var name = typeof entry[0] === 'number' ? row[4][entry[0]] : entry[0];
      var addresses = entry.slice(1).map(function (a) { return a === 0 ? row[0] : a; });
      return name + ' \u2192 ' + (addresses.length ? addresses.join(', ') : 'no address');
    }).join('; ');
  }
  function findings(row) {
    var list = [];
    for (var f = 0; f + 1 < row[6].length; f += 2) {
      var code = data.codes[row[6][f]] || ['?', 'info'];
      list.push({ code: code[0], severity: code[1], detail: row[6][f + 1] });
    }
    return list;
  }
  function codeNames(row) {
    return findings(row).map(function (f) { return f.code; }).join(' ');
  }
  function rowText(row) {
    var parts = [row[0], family(row), status(row), data.changes[row[2]] || '', ptrText(row),
                 forwardText(row)];
    findings(row).forEach(function (f) { parts.push(f.code, f.detail); });
    return parts.join(' ').toLowerCase();
  }

  function cell(tr, text, className) {
    var td = document.createElement('td');
    if (className) td.className = className;
    td.textContent = text;
    if (text.length > 24) td.title = text;
    tr.appendChild(td);
    return td;
  }

  function renderRow(index) {
    var row = rows[index];
    var tr = document.createElement('tr');
    var st = status(row);
    tr.setAttribute('data-i', String(index));
    tr.setAttribute('data-status', st);
    tr.setAttribute('data-codes', codeNames(row));
    cell(tr, row[0], 'ip');
    cell(tr, family(row));
    var badge = document.createElement('span');
    badge.className = 'st st-' + st;
    badge.textContent = st;
    cell(tr, '').appendChild(badge);
    cell(tr, data.changes[row[2]] || '');
    var recent = cell(tr, '', 'recent');
    for (var r = 0; r < row[3].length; r++) {
      var block = document.createElement('i');
      block.className = 'pwfun'.indexOf(row[3][r]) >= 0 ? row[3][r] : 'n';
      recent.appendChild(block);
    }
    cell(tr, ptrText(row), 'names');
    cell(tr, forwardText(row), 'names');
    var list = findings(row);
    var td = cell(tr, '', 'findings');
    td.title = list.map(function (f) { return f.code + ' ' + f.detail; }).join('\n');
    list.forEach(function (f, n) {
      if (n > 0) td.appendChild(document.createTextNode('; '));
      var link = document.createElement('a');
      link.className = 'sev-' + f.severity;
      link.setAttribute('href', '#code-' + f.code);
      link.textContent = f.code;
      td.appendChild(link);
      td.appendChild(document.createTextNode(' ' + f.detail));
    });
    return tr;
  }

  function spacer(height) {
    var tr = document.createElement('tr');
    tr.className = 'spacer';
    tr.setAttribute('aria-hidden', 'true');
    var td = document.createElement('td');
    td.colSpan = 8;
    td.style.height = height + 'px';
    tr.appendChild(td);
    return tr;
  }

  // Renders the rows of `view` that are in sight, between two spacers that
  // keep the scroll height of the whole list.
  function render(force) {
    if (!rowHeight && view.length) {
      body.replaceChildren(renderRow(view[0]));
      rowHeight = body.rows[0].getBoundingClientRect().height || 24;
    }
    var height = rowHeight || 24;
    var first = Math.max(0, Math.floor(wrap.scrollTop / height) - OVERSCAN);
    var last = Math.min(view.length, Math.ceil((wrap.scrollTop + wrap.clientHeight) / height) + OVERSCAN);
    if (!force && first === rendered.first && last === rendered.last) return;
    rendered = { first: first, last: last };
    var fragment = document.createDocumentFragment();
    fragment.appendChild(spacer(first * height));
    for (var i = first; i < last; i++) fragment.appendChild(renderRow(view[i]));
    fragment.appendChild(spacer((view.length - last) * height));
    body.replaceChildren(fragment);
  }

  var frame = 0;
  wrap.addEventListener('scroll', function () {
    if (frame) return;
    frame = requestAnimationFrame(function () { frame = 0; render(false); });
  });
  // A new width can change the line height (print, a phone): measure again.
  window.addEventListener('resize', function () { rowHeight = 0; render(true); });

  function applyFilter() {
    var text = search.value.trim().toLowerCase();
    var st = statusFilter.value;
    var code = codeFilter.value;
    var codeIndex = -1;
    data.codes.forEach(function (entry, n) { if (entry[0] === code) codeIndex = n; });
    if (text && !texts) texts = rows.map(rowText);
    view = order.filter(function (index) {
      var row = rows[index];
      if (st && status(row) !== st) return false;
      if (code) {
        var has = false;
        for (var f = 0; f < row[6].length; f += 2) if (row[6][f] === codeIndex) has = true;
        if (!has) return false;
      }
      return !text || texts[index].indexOf(text) >= 0;
    });
    shownCount.textContent = view.length + ' of ' + rows.length + ' addresses match' +
        (data.passing_listed ? '' : ' (passing addresses are counted above, not listed)');
    wrap.scrollTop = 0;
    render(true);
  }

  function sortKey(kind, column, index) {
    var row = rows[index];
    if (kind === 'ip') return index;  // the island is in address order
    if (kind === 'status') return row[1];
    if (kind === 'findings') return row[6].length;
    var values = [row[0], family(row), status(row), data.changes[row[2]] || '', '',
                  ptrText(row), forwardText(row)];
    return values[column].toLowerCase();
  }

  function sortBy(header, column, ascending) {
    var kind = header.getAttribute('data-sort');
    var headers = table.tHead.rows[0].cells;
    for (var h = 0; h < headers.length; h++) headers[h].removeAttribute('aria-sort');
    header.setAttribute('aria-sort', ascending ? 'ascending' : 'descending');
    var keyed = rows.map(function (row, index) {
      return { key: sortKey(kind, column, index), index: index };
    });
    keyed.sort(function (a, b) {
      var o = a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
      if (!ascending) o = -o;
      return o || a.index - b.index;
    });
    order = keyed.map(function (entry) { return entry.index; });
    applyFilter();
  }

  var headers = table.tHead.rows[0].cells;
  Array.prototype.forEach.call(headers, function (header, column) {
    if (!header.hasAttribute('data-sort')) return;
    var button = document.createElement('button');
    button.type = 'button';
    button.textContent = header.textContent;
    button.title = 'Sort by ' + header.textContent;
    header.textContent = '';
    header.appendChild(button);
    button.addEventListener('click', function () {
      sortBy(header, column, header.getAttribute('aria-sort') !== 'ascending');
    });
  });

  var pending = 0;
  search.addEventListener('input', function () {
    clearTimeout(pending);
    pending = setTimeout(applyFilter, rows.length > 5000 ? 250 : 50);
  });
  statusFilter.addEventListener('change', applyFilter);
  codeFilter.addEventListener('change', applyFilter);
  // Recent states: a block's tooltip names its run and status, written on
  // first hover from the #recent-runs list, so the file names each run once
  // rather than once per address and run.
  body.addEventListener('mouseover', function (event) {
    var block = event.target;
    if (block.tagName !== 'I' || block.title || !block.parentNode.classList.contains('recent')) return;
    var index = Array.prototype.indexOf.call(block.parentNode.children, block);
    block.title = (recentRuns[index] || '') + ': ' + (stateWords[block.className] || block.className);
  });

  // Failures first, then unknown, warn, pass, each in address order.
  order = rows.map(function (row, index) { return index; });
  order.sort(function (a, b) { return rows[a][1] - rows[b][1] || a - b; });
  document.getElementById('fallback').hidden = true;
  controls.hidden = false;
  wrap.hidden = false;
  applyFilter();
})();
