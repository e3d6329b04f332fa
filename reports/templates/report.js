// Sorting and filtering of the address table. Without this script the
// report is a complete static table; the controls stay hidden. The script
// only reads the DOM the template produced and never builds markup from
// data: everything from DNS stays text.
(function () {
  'use strict';
  var table = document.getElementById('results');
  if (!table || !table.tBodies.length) return;
  var body = table.tBodies[0];
  var rows = Array.prototype.slice.call(body.rows);
  var controls = document.getElementById('controls');
  var search = document.getElementById('filter-text');
  var statusFilter = document.getElementById('filter-status');
  var codeFilter = document.getElementById('filter-code');
  var shownCount = document.getElementById('shown-count');
  var statusRank = { fail: 0, unknown: 1, warn: 2, pass: 3 };
  var texts = null;  // lower-case row text, built on the first search

  function sortKey(row, kind, column) {
    if (kind === 'ip') return row.getAttribute('data-key');
    if (kind === 'status') {
      var rank = statusRank[row.getAttribute('data-status')];
      return rank === undefined ? 9 : rank;
    }
    if (kind === 'findings') return Number(row.getAttribute('data-n'));
    return row.cells[column].textContent.toLowerCase();
  }

  function sortBy(header, column) {
    var ascending = header.getAttribute('aria-sort') !== 'ascending';
    var kind = header.getAttribute('data-sort');
    var headers = table.tHead.rows[0].cells;
    for (var h = 0; h < headers.length; h++) headers[h].removeAttribute('aria-sort');
    header.setAttribute('aria-sort', ascending ? 'ascending' : 'descending');
    var keyed = rows.map(function (row, index) {
      return { row: row, key: sortKey(row, kind, column), index: index };
    });
    keyed.sort(function (a, b) {
      var order = a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
      if (!ascending) order = -order;
      return order || a.index - b.index;
    });
    rows = keyed.map(function (entry) { return entry.row; });
    texts = null;
    var fragment = document.createDocumentFragment();
    for (var i = 0; i < rows.length; i++) fragment.appendChild(rows[i]);
    body.appendChild(fragment);
  }

  function applyFilter() {
    var text = search.value.trim().toLowerCase();
    var status = statusFilter.value;
    var code = codeFilter.value;
    if (text && !texts) texts = rows.map(function (row) { return row.textContent.toLowerCase(); });
    var shown = 0;
    for (var i = 0; i < rows.length; i++) {
      var row = rows[i];
      var visible = (!status || row.getAttribute('data-status') === status) &&
          (!code || (' ' + row.getAttribute('data-codes') + ' ').indexOf(' ' + code + ' ') >= 0) &&
          (!text || texts[i].indexOf(text) >= 0);
      if (row.hidden === visible) row.hidden = !visible;
      if (visible) shown++;
    }
    shownCount.textContent = shown + ' of ' + rows.length + ' addresses shown';
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
    button.addEventListener('click', function () { sortBy(header, column); });
  });

  var pending = 0;
  search.addEventListener('input', function () {
    clearTimeout(pending);
    pending = setTimeout(applyFilter, rows.length > 5000 ? 250 : 50);
  });
  statusFilter.addEventListener('change', applyFilter);
  codeFilter.addEventListener('change', applyFilter);
  controls.hidden = false;
  shownCount.textContent = rows.length + ' addresses';
})();
