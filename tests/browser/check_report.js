#!/usr/bin/env node
// Opens an rdnsctl HTML report in Debian's headless Chromium and checks it as
// a reader's browser would run it. Prints one JSON object and exits 0 when
// every check passed, 1 when one failed, 2 on bad usage.
//
//   node check_report.js REPORT.html [--rows N] [--hostile TEXT]...
//        [--recent IP=CLASSES]... [--screenshot PNG] [--bench]
//
// --rows N        the address table's data must have N rows
// --hostile TEXT  TEXT must be shown as text in the address table
// --recent IP=CLASSES  IP's recent-states cells must have these classes,
//                 oldest first (e.g. "192.0.2.12=f p"), each a visible block
//                 in its own colour with a "run N, DATE: STATUS" tooltip on hover
// --screenshot    writes a PNG of the top of the page (a test artefact)
// --bench         measure load, sort, filter and scroll times; check the
//                 list's ends rather than scrolling through every row
// --max-pages N   printed to A4 PDF, the report takes at most N pages
// --pdf FILE      keeps that PDF (a test artefact, read back with pdftotext)
//
// The page is loaded twice: as delivered (its Content-Security-Policy must
// let the report's own script run and block nothing else) and with the CSP
// bypassed, to prove that escaping alone keeps hostile names inert. Any
// request other than the report file itself is aborted and reported.
'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');
const puppeteer = require('puppeteer-core');

const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-first-run',
  '--disable-dev-shm-usage',
];

function parseArgs(argv) {
  const options = { report: null, rows: null, hostile: [], recent: [], screenshot: null, bench: false, maxPages: null };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--rows') options.rows = Number(argv[++i]);
    else if (arg === '--hostile') options.hostile.push(argv[++i]);
    else if (arg === '--recent') options.recent.push(argv[++i]);
    else if (arg === '--screenshot') options.screenshot = argv[++i];
    else if (arg === '--bench') options.bench = true;
    else if (arg === '--max-pages') options.maxPages = Number(argv[++i]);
    else if (arg === '--pdf') options.pdf = argv[++i];
    else if (!arg.startsWith('--') && !options.report) options.report = arg;
    else throw new Error(`unknown argument ${arg}`);
  }
  if (!options.report) throw new Error('usage: check_report.js REPORT.html [options]');
  return options;
}

function chromiumPath() {
  for (const candidate of [process.env.CHROMIUM, '/usr/bin/chromium', '/usr/lib/chromium/chromium']) {
    if (candidate && fs.existsSync(candidate)) return candidate;
  }
  throw new Error('Chromium not found: install the Debian package "chromium" or set CHROMIUM');
}

/// Opens the report in a new page and collects everything that must not happen.
async function open(browser, url, { bypassCSP }) {
  const page = await browser.newPage();
  const seen = { blocked: [], dialogs: [], violations: [], consoleErrors: [], pageErrors: [] };
  await page.setBypassCSP(bypassCSP);
  await page.setViewport({ width: 1280, height: 1600 });
  await page.setRequestInterception(true);
  page.on('request', (request) => {
    if (request.url() === url) return request.continue();
    seen.blocked.push(request.url());
    return request.abort('blockedbyclient');
  });
  page.on('dialog', async (dialog) => {
    seen.dialogs.push(dialog.message());
    await dialog.dismiss();
  });
  page.on('console', (message) => {
    if (message.type() === 'error') seen.consoleErrors.push(message.text());
  });
  page.on('pageerror', (error) => seen.pageErrors.push(String(error)));
  // Runs before any page script and outside the page's CSP: records
  // violations and any call a payload would make.
  await page.evaluateOnNewDocument(() => {
    window.__violations = [];
    window.__payloadCalls = [];
    document.addEventListener('securitypolicyviolation', (event) => {
      window.__violations.push(`${event.violatedDirective}: ${event.blockedURI}`);
    });
    for (const name of ['alert', 'confirm', 'prompt']) {
      const original = window[name];
      window[name] = function (...args) {
        window.__payloadCalls.push(`${name}(${args.join(',')})`);
        return original.apply(this, args);
      };
    }
  });
  const started = Date.now();
  await page.goto(url, { waitUntil: 'load', timeout: 120000 });
  const loadMs = Date.now() - started;
  const timing = await page.evaluate(() => {
    const nav = performance.getEntriesByType('navigation')[0];
    return { domContentLoaded: nav.domContentLoadedEventEnd, load: nav.loadEventEnd };
  });
  return { page, seen, loadMs, timing };
}

/// The island's rows (as the page's script reads them), the rows in the
/// DOM and the count line.
async function tableState(page) {
  return page.evaluate(() => {
    const data = JSON.parse(document.getElementById('report-data').textContent);
    const rendered = Array.from(document.querySelectorAll('#results tbody tr[data-i]'));
    return {
      data,
      rendered: rendered.length,
      renderedIndices: rendered.map((row) => Number(row.getAttribute('data-i'))),
      shownCount: document.getElementById('shown-count').textContent,
    };
  });
}

/// Scrolls the address table from top to bottom, a screenful at a time, and
/// returns the island indices of every row it rendered, in order: the whole
/// list as a reader scrolling through it sees it. Also the most rows that
/// were in the DOM at once.
async function scrollThrough(page, limit) {
  return page.evaluate(async (maxSteps) => {
    const wrap = document.getElementById('results-wrap');
    const frame = () => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)));
    const seen = new Set();
    const order = [];
    let most = 0;
    wrap.scrollTop = 0;
    await frame();
    for (let step = 0; step < maxSteps; step++) {
      const rows = Array.from(document.querySelectorAll('#results tbody tr[data-i]'));
      most = Math.max(most, rows.length);
      for (const row of rows) {
        const index = Number(row.getAttribute('data-i'));
        if (!seen.has(index)) { seen.add(index); order.push(index); }
      }
      if (wrap.scrollTop + wrap.clientHeight >= wrap.scrollHeight - 1) break;
      wrap.scrollTop += wrap.clientHeight;
      await frame();
    }
    wrap.scrollTop = 0;
    await frame();
    return { order, most };
  }, limit);
}

/// The first and the last rows of the list (top and bottom of the scroll box).
async function ends(page) {
  return page.evaluate(async () => {
    const wrap = document.getElementById('results-wrap');
    const frame = () => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)));
    const indices = () => Array.from(document.querySelectorAll('#results tbody tr[data-i]'))
        .map((row) => Number(row.getAttribute('data-i')));
    wrap.scrollTop = 0;
    await frame();
    const head = indices();
    const started = performance.now();
    wrap.scrollTop = wrap.scrollHeight;
    await frame();
    const scrollMs = performance.now() - started;
    const tail = indices();
    const rendered = tail.length;
    wrap.scrollTop = 0;
    await frame();
    return { head, tail, rendered, scrollMs };
  });
}

async function clickHeader(page, label) {
  const started = Date.now();
  await page.evaluate((text) => {
    const button = Array.from(document.querySelectorAll('#results thead th button'))
        .find((b) => b.textContent === text);
    if (!button) throw new Error(`no sort button ${text}`);
    button.click();
  }, label);
  return Date.now() - started;
}

async function setFilter(page, { text = '', status = '', code = '' }) {
  const started = Date.now();
  await page.evaluate((t, s, c) => {
    const search = document.getElementById('filter-text');
    search.value = t;
    document.getElementById('filter-status').value = s;
    const codeSelect = document.getElementById('filter-code');
    codeSelect.value = c;
    // A change event filters at once; typing is debounced.
    codeSelect.dispatchEvent(new Event('change'));
  }, text, status, code);
  return Date.now() - started;
}

function sorted(values, compare) {
  return values.slice().sort(compare);
}

async function main() {
  const options = parseArgs(process.argv.slice(2));
  const url = 'file://' + path.resolve(options.report);
  const result = { ok: true, failures: [], report: path.resolve(options.report) };
  const check = (condition, message) => {
    if (!condition) {
      result.ok = false;
      result.failures.push(message);
    }
  };

  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'rdnsctl-chromium-'));
  const browser = await puppeteer.launch({
    executablePath: chromiumPath(),
    headless: true,
    userDataDir: profile,
    args: CHROMIUM_ARGS,
    protocolTimeout: 300000,
  });
  try {
    // Pass 1: as delivered, CSP on.
    const delivered = await open(browser, url, { bypassCSP: false });
    const { page, seen } = delivered;
    result.load_ms = delivered.loadMs;
    result.dom_content_loaded_ms = Math.round(delivered.timing.domContentLoaded);
    result.load_event_ms = Math.round(delivered.timing.load);
    const initial = await tableState(page);
    const rows = initial.data.rows;
    const total = rows.length;
    result.rows = total;
    if (options.rows !== null) check(total === options.rows, `expected ${options.rows} rows, found ${total}`);
    const shown = await page.evaluate(() => ({
      controls: !document.getElementById('controls').hidden,
      table: !document.getElementById('results-wrap').hidden,
      fallback: !document.getElementById('fallback').hidden,
    }));
    check(shown.controls && shown.table, 'the report script did not run (controls still hidden): CSP hash or script error');
    check(!shown.fallback, 'the no-script list still shows with the script running');
    // Virtual scrolling: a screenful of rows and a margin in the DOM, however many there are.
    const kMaxRendered = 150;
    check(initial.rendered === Math.min(total, initial.rendered) && initial.rendered <= kMaxRendered &&
          (total === 0 || initial.rendered > 0), `${initial.rendered} rows rendered of ${total}`);
    const countLine = (n) => `${n} of ${total} addresses match`;
    check(initial.shownCount.startsWith(countLine(total)), `count text is "${initial.shownCount}"`);

    // The whole list, as scrolling shows it, against the order it must have.
    // Small reports are scrolled through row by row; large ones at both ends.
    const rank = (index) => rows[index][1];
    const all = rows.map((row, index) => index);
    const byStatus = all.slice().sort((a, b) => rank(a) - rank(b) || a - b);
    const full = total <= 5000 && !options.bench;
    const listed = async (what) => {
      if (full) {
        const through = await scrollThrough(page, 1000);
        check(through.most <= kMaxRendered, `${what}: ${through.most} rows in the DOM at once`);
        return through.order;
      }
      const both = await ends(page);
      check(both.rendered <= kMaxRendered, `${what}: ${both.rendered} rows in the DOM at the bottom`);
      result.scroll_to_end_ms = Math.round(both.scrollMs);
      return { head: both.head, tail: both.tail };
    };
    const same = (seenList, expected, what) => {
      if (Array.isArray(seenList)) {
        check(JSON.stringify(seenList) === JSON.stringify(expected), `${what}: the list is not as expected`);
      } else {
        const head = expected.slice(0, seenList.head.length);
        const tail = expected.slice(expected.length - seenList.tail.length);
        check(JSON.stringify(seenList.head) === JSON.stringify(head) &&
              JSON.stringify(seenList.tail) === JSON.stringify(tail), `${what}: the list's ends are not as expected`);
      }
    };
    same(await listed('at first'), byStatus, 'failures first');

    // The rendered table is laid out as it comes into view: time it.
    result.table_first_paint_ms = Math.round(await page.evaluate(() => new Promise((resolve) => {
      const started = performance.now();
      document.getElementById('results-wrap').scrollIntoView();
      requestAnimationFrame(() => requestAnimationFrame(() => resolve(performance.now() - started)));
    })));

    // Sorting: by IP ascending then descending, by status (fail first).
    result.sort_ms = await clickHeader(page, 'IP');
    same(await listed('IP ascending'), all, 'IP sort ascending');
    await clickHeader(page, 'IP');
    same(await listed('IP descending'), all.slice().reverse(), 'IP sort descending');
    result.status_sort_ms = await clickHeader(page, 'Status');
    same(await listed('status'), byStatus, 'status sort');
    const ariaSort = await page.evaluate(() =>
      Array.from(document.querySelectorAll('#results thead th[aria-sort]')).map((th) => th.textContent + ':' + th.getAttribute('aria-sort')));
    check(ariaSort.length === 1 && ariaSort[0] === 'Status:ascending', `aria-sort is ${ariaSort}`);

    // Filtering by status, by code and by text, then back to everything.
    result.filter_ms = await setFilter(page, { status: 'pass' });
    const passing = byStatus.filter((index) => rows[index][1] === 3);
    let state = await tableState(page);
    check(state.shownCount.startsWith(countLine(passing.length)), `count text is "${state.shownCount}", expected "${countLine(passing.length)}"`);
    same(await listed('status filter'), passing, 'status filter');
    const codes = initial.data.codes;
    if (codes.length) {
      const code = codes[0][0];
      await setFilter(page, { code });
      const expected = byStatus.filter((index) => rows[index][6].some((v, n) => n % 2 === 0 && v === 0));
      state = await tableState(page);
      check(state.shownCount.startsWith(countLine(expected.length)), `code filter ${code}: "${state.shownCount}", expected ${expected.length}`);
      same(await listed('code filter'), expected, `code filter ${code}`);
    }
    if (!options.bench && total > 0) {
      // Search for the last address, upper-cased: matching is case-insensitive.
      const needle = rows[total - 1][0].toLowerCase();
      await new Promise((resolve) => setTimeout(resolve, 0));
      await setFilter(page, { text: needle.toUpperCase() });
      const expected = byStatus.filter((index) => JSON.stringify(rows[index]).toLowerCase().includes(needle));
      state = await tableState(page);
      check(expected.length > 0 && state.shownCount.startsWith(countLine(expected.length)),
            `text filter shows "${state.shownCount}", expected ${expected.length}`);
      same(await listed('text filter'), expected, 'text filter');
      await setFilter(page, { text: 'no-such-name-anywhere' });
      check((await tableState(page)).rendered === 0, 'a search that matches nothing still shows rows');
    }
    await setFilter(page, {});
    check((await tableState(page)).shownCount.startsWith(countLine(total)), 'clearing the filters does not show every row');

    // Recent states: the cells as the reader sees them, with the tooltip
    // the script gives each on hover.
    for (const spec of options.recent) {
      const [ip, classes] = spec.split('=');
      await setFilter(page, { text: ip });
      const cells = await page.evaluate((address) => {
        const row = Array.from(document.querySelectorAll('#results tbody tr[data-i]'))
            .find((r) => r.cells[0].textContent === address);
        if (!row) return null;
        return Array.from(row.querySelectorAll('td.recent i')).map((cell) => {
          cell.dispatchEvent(new MouseEvent('mouseover', { bubbles: true }));
          const box = cell.getBoundingClientRect();
          return { className: cell.className, title: cell.title, width: box.width, height: box.height,
                   color: getComputedStyle(cell).backgroundColor };
        });
      }, ip);
      if (!cells) {
        check(false, `recent states: no row for ${ip}`);
        continue;
      }
      const found = cells.map((cell) => cell.className).join(' ');
      check(found === classes, `recent states of ${ip} are "${found}", expected "${classes}"`);
      const words = { p: 'pass', w: 'warn', f: 'fail', u: 'unknown', n: 'not audited' };
      for (const cell of cells) {
        const pattern = new RegExp(`^run \\d+, \\d{4}-\\d\\d-\\d\\dT[\\d:]{8}Z: ${words[cell.className]}$`);
        check(pattern.test(cell.title), `recent state of ${ip} has the tooltip "${cell.title}"`);
        check(cell.width > 0 && cell.height > 0, `recent state of ${ip} is not visible`);
      }
      const colors = new Map(cells.map((cell) => [cell.className, cell.color]));
      check(new Set(colors.values()).size === colors.size,
            `recent states of ${ip}: two states share a colour (${JSON.stringify([...colors])})`);
    }
    await setFilter(page, {});

    // Print: the controls and the scrolling table are not printed; the list
    // of addresses that do not pass is, with its findings in a column wide
    // enough to read; the passing ones are only counted. A4 at 96 dpi is 794 px wide.
    await page.setViewport({ width: 794, height: 1123 });
    await page.emulateMediaType('print');
    const paper = await page.evaluate(() => {
      const rows = Array.from(document.querySelectorAll('#failing tbody tr'));
      const printed = rows.filter((row) => getComputedStyle(row).display !== 'none' && row.getBoundingClientRect().height > 0);
      const findings = printed.map((row) => row.cells[4].getBoundingClientRect().width);
      return {
        controls: getComputedStyle(document.getElementById('controls')).display,
        table: getComputedStyle(document.getElementById('results-wrap')).display,
        printed: printed.map((row) => row.getAttribute('data-status')),
        narrowestFindings: findings.length ? Math.min(...findings) : 0,
      };
    });
    const notPassing = rows.filter((row) => row[1] !== 3).length;
    check(paper.controls === 'none' && paper.table === 'none',
          `controls print as display:${paper.controls}, the scrolling table as ${paper.table}`);
    check(paper.printed.length === Math.min(notPassing, 1000) && !paper.printed.includes('pass'),
          `print lists ${paper.printed.length} rows (${[...new Set(paper.printed)]}), expected the ${notPassing} that do not pass`);
    check(paper.printed.length === 0 || paper.narrowestFindings >= 150,
          `the printed Findings column is ${paper.narrowestFindings} px wide`);
    const pdf = Buffer.from(await page.pdf({ format: 'A4', printBackground: true }));
    result.pdf_pages = (pdf.toString('latin1').match(/\/Type\s*\/Page[^s]/g) || []).length;
    if (options.pdf) fs.writeFileSync(options.pdf, pdf);
    if (options.maxPages) {
      check(result.pdf_pages >= 1 && result.pdf_pages <= options.maxPages,
            `the report prints on ${result.pdf_pages} A4 pages, expected at most ${options.maxPages}`);
    }
    await page.emulateMediaType('screen');

    // A phone: the table's box fits the screen (it scrolls sideways inside)
    // and its rows keep one line each.
    await page.setViewport({ width: 420, height: 900 });
    const phone = await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => {
      const rows = Array.from(document.querySelectorAll('#results tbody tr[data-i]'));
      const boxes = rows.slice(0, 100).map((row) => row.getBoundingClientRect());
      resolve({ tallest: Math.max(0, ...boxes.map((box) => box.height)),
                rightmost: document.getElementById('results-wrap').getBoundingClientRect().right });
    })));
    check(phone.tallest < 100, `at 420 px the tallest address row is ${phone.tallest} px`);
    check(phone.rightmost <= 420, `at 420 px the address table reaches ${phone.rightmost} px`);
    await page.setViewport({ width: 1280, height: 1600 });

    if (options.screenshot) {
      await page.evaluate(() => window.scrollTo(0, 0));
      await page.screenshot({ path: options.screenshot, fullPage: total <= 200 });
      result.screenshot = path.resolve(options.screenshot);
    }
    result.violations = await page.evaluate(() => window.__violations);
    result.payload_calls = await page.evaluate(() => window.__payloadCalls);
    Object.assign(result, { blocked_requests: seen.blocked, dialogs: seen.dialogs,
                            console_errors: seen.consoleErrors, page_errors: seen.pageErrors });
    await page.close();

    // Pass 2: CSP bypassed, so only escaping stands between a name and the
    // DOM: each hostile name is searched for and must show as text.
    if (!options.bench) {
      const bare = await open(browser, url, { bypassCSP: true });
      const shownAsText = [];
      for (const text of options.hostile) {
        await setFilter(bare.page, { text });
        shownAsText.push(await bare.page.evaluate((needle) =>
          Array.from(document.querySelectorAll('#results td')).some((cell) => cell.textContent.includes(needle)), text));
      }
      await setFilter(bare.page, {});
      const dom = await bare.page.evaluate(() => ({
        images: document.getElementsByTagName('img').length,
        scripts: document.getElementsByTagName('script').length,
        iframes: document.getElementsByTagName('iframe').length,
        handlers: Array.from(document.querySelectorAll('*')).filter((el) =>
          Array.from(el.attributes).some((a) => a.name.startsWith('on'))).length,
        payloadCalls: window.__payloadCalls,
        controls: !document.getElementById('controls').hidden,
      }));
      check(dom.images === 0, `${dom.images} <img> elements in the page`);
      check(dom.scripts === 2, `${dom.scripts} <script> elements in the page (the data island and the report's script expected)`);
      check(dom.iframes === 0, `${dom.iframes} <iframe> elements in the page`);
      check(dom.handlers === 0, `${dom.handlers} elements carry an on* handler attribute`);
      options.hostile.forEach((text, i) => check(shownAsText[i], `hostile text not shown as text: ${text}`));
      check(dom.controls, 'the script did not run with the CSP bypassed');
      result.payload_calls = result.payload_calls.concat(dom.payloadCalls);
      result.dialogs = result.dialogs.concat(bare.seen.dialogs);
      result.blocked_requests = result.blocked_requests.concat(bare.seen.blocked);
      result.page_errors = result.page_errors.concat(bare.seen.pageErrors);
      await bare.page.close();
    }

    check(result.blocked_requests.length === 0, `network requests attempted: ${result.blocked_requests.join(' ')}`);
    check(result.dialogs.length === 0, `dialogs opened: ${result.dialogs.join(' ')}`);
    check(result.payload_calls.length === 0, `payload calls: ${result.payload_calls.join(' ')}`);
    check(result.violations.length === 0, `CSP violations: ${result.violations.join(' ')}`);
    check(result.page_errors.length === 0, `script errors: ${result.page_errors.join(' ')}`);
  } finally {
    await browser.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
  process.stdout.write(JSON.stringify(result) + '\n');
  return result.ok ? 0 : 1;
}

main().then((code) => process.exit(code), (error) => {
  process.stdout.write(JSON.stringify({ ok: false, failures: [String(error && error.stack || error)] }) + '\n');
  process.exit(error && /^usage|unknown argument/.test(error.message) ? 2 : 1);
});
