// Sorting, filtering and paging of the address table. Without this script
// the report is a complete static table; the controls stay hidden. With it,
// at most one page of matching rows is shown at a time (Chromium takes tens
// of seconds to lay out 100,000 rows), with "show more" and "show all". The script
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
  var showMore = document.getElementById('show-more');
  var showAll = document.getElementById('show-all');
  var pageSize = Number(table.getAttribute('data-page')) || 500;
  var limit = pageSize;
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
    applyFilter(false);
  }

  // Shows the first `limit` rows that match; a new filter starts at one page.
  function applyFilter(newFilter) {
    if (newFilter) limit = pageSize;
    var text = search.value.trim().toLowerCase();
    var status = statusFilter.value;
    var code = codeFilter.value;
    if (text && !texts) texts = rows.map(function (row) { return row.textContent.toLowerCase(); });
    var shown = 0;
    var matching = 0;
    for (var i = 0; i < rows.length; i++) {
      var row = rows[i];
      var matches = (!status || row.getAttribute('data-status') === status) &&
          (!code || (' ' + row.getAttribute('data-codes') + ' ').indexOf(' ' + code + ' ') >= 0) &&
          (!text || texts[i].indexOf(text) >= 0);
      var visible = matches && matching < limit;
      if (matches) matching++;
      if (row.hidden === visible) row.hidden = !visible;
      if (visible) shown++;
    }
    shownCount.textContent = 'Showing ' + shown + ' of ' + matching + ' matching addresses (' +
        rows.length + ' in all)';
    showMore.hidden = showAll.hidden = shown >= matching;
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
    pending = setTimeout(function () { applyFilter(true); }, rows.length > 5000 ? 250 : 50);
  });
  statusFilter.addEventListener('change', function () { applyFilter(true); });
  codeFilter.addEventListener('change', function () { applyFilter(true); });
  showMore.addEventListener('click', function () { limit += pageSize; applyFilter(false); });
  showAll.addEventListener('click', function () { limit = Infinity; applyFilter(false); });
  // Recent states: a block's tooltip names its run and status, written on
  // first hover from the #recent-runs list, so the file names each run once
  // rather than once per address and run.
  var recentRuns = Array.prototype.map.call(
      document.querySelectorAll('#recent-runs li'), function (item) { return item.textContent; });
  var stateWords = { p: 'pass', w: 'warn', f: 'fail', u: 'unknown', n: 'not audited' };
  body.addEventListener('mouseover', function (event) {
    var cell = event.target;
    if (cell.tagName !== 'I' || cell.title || !cell.parentNode.classList.contains('recent')) return;
    var index = Array.prototype.indexOf.call(cell.parentNode.children, cell);
    cell.title = (recentRuns[index] || '') + ': ' + (stateWords[cell.className] || cell.className);
  });
  controls.hidden = false;
  applyFilter(true);
})();
