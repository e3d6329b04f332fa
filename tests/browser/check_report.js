#!/usr/bin/env node
// Opens an rdnsctl HTML report in Debian's headless Chromium and checks it as
// a reader's browser would run it. Prints one JSON object and exits 0 when
// every check passed, 1 when one failed, 2 on bad usage.
//
//   node check_report.js REPORT.html [--rows N] [--hostile TEXT]...
//        [--recent IP=CLASSES]... [--screenshot PNG] [--bench]
//
// --rows N        the address table must have N rows
// --hostile TEXT  TEXT must be shown as text in the address table
// --recent IP=CLASSES  IP's recent-states cells must have these classes,
//                 oldest first (e.g. "192.0.2.12=f p"), each a visible block
//                 in its own colour with a "run N, DATE: STATUS" tooltip on hover
// --screenshot    writes a PNG of the top of the page (a test artefact)
// --bench         only measure load, sort and filter times
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

/// Every row in DOM order (hidden ones too), and what is visible.
async function tableState(page, withTexts) {
  return page.evaluate((texts) => {
    const rows = Array.from(document.querySelectorAll('#results tbody tr'));
    const visible = rows.filter((row) => !row.hidden);
    return {
      rows: rows.length,
      pageSize: Number(document.getElementById('results').getAttribute('data-page')),
      visible: visible.length,
      keys: rows.map((row) => row.getAttribute('data-key')),
      statuses: rows.map((row) => row.getAttribute('data-status')),
      codes: rows.map((row) => row.getAttribute('data-codes')),
      visibleStatuses: visible.map((row) => row.getAttribute('data-status')),
      texts: texts ? rows.map((row) => row.textContent.toLowerCase()) : [],
      shownCount: document.getElementById('shown-count').textContent,
      pager: !document.getElementById('show-all').hidden,
    };
  }, withTexts);
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
    const initial = await tableState(page, !options.bench);
    const page1 = (n) => Math.min(n, initial.pageSize);
    result.rows = initial.rows;
    if (options.rows !== null) check(initial.rows === options.rows, `expected ${options.rows} rows, found ${initial.rows}`);
    const controlsShown = await page.evaluate(() => !document.getElementById('controls').hidden);
    check(controlsShown, 'the report script did not run (controls still hidden): CSP hash or script error');
    check(initial.visible === page1(initial.rows), `${initial.visible} rows shown at first, expected one page`);
    check(initial.pager === initial.rows > initial.pageSize, 'the show more/all buttons are wrong');
    const statusRank = { fail: 0, unknown: 1, warn: 2, pass: 3 };
    check(JSON.stringify(initial.statuses) ===
          JSON.stringify(sorted(initial.statuses, (a, b) => statusRank[a] - statusRank[b])),
          'the table does not list failures first');

    // The address table is laid out only when scrolled to (content-visibility):
    // time that first layout and paint.
    result.table_first_paint_ms = Math.round(await page.evaluate(() => new Promise((resolve) => {
      const started = performance.now();
      document.getElementById('results').scrollIntoView();
      requestAnimationFrame(() => requestAnimationFrame(() => resolve(performance.now() - started)));
    })));

    // Sorting: by IP ascending then descending, by status (fail first); the
    // whole table is reordered, and the first page of it shown.
    result.sort_ms = await clickHeader(page, 'IP');
    let state = await tableState(page, false);
    check(JSON.stringify(state.keys) === JSON.stringify(sorted(state.keys)), 'IP sort ascending is wrong');
    await clickHeader(page, 'IP');
    state = await tableState(page, false);
    check(JSON.stringify(state.keys) === JSON.stringify(sorted(state.keys).reverse()), 'IP sort descending is wrong');
    result.status_sort_ms = await clickHeader(page, 'Status');
    state = await tableState(page, false);
    const rank = { fail: 0, unknown: 1, warn: 2, pass: 3 };
    check(JSON.stringify(state.statuses) ===
          JSON.stringify(sorted(state.statuses, (a, b) => rank[a] - rank[b])), 'status sort is wrong');
    check(state.visible === page1(initial.rows), 'sorting changed how many rows are shown');
    const ariaSort = await page.evaluate(() =>
      Array.from(document.querySelectorAll('#results thead th[aria-sort]')).map((th) => th.textContent + ':' + th.getAttribute('aria-sort')));
    check(ariaSort.length === 1 && ariaSort[0] === 'Status:ascending', `aria-sort is ${ariaSort}`);

    // Filtering by status, by code and by text, then back to everything.
    result.filter_ms = await setFilter(page, { status: 'pass' });
    state = await tableState(page, false);
    const passing = initial.statuses.filter((s) => s === 'pass').length;
    check(state.visible === page1(passing) && state.visibleStatuses.every((s) => s === 'pass'),
          `status filter shows ${state.visible} rows, expected ${page1(passing)} passing`);
    const countText = `Showing ${page1(passing)} of ${passing} matching addresses (${initial.rows} in all)`;
    check(state.shownCount === countText, `count text is "${state.shownCount}", expected "${countText}"`);
    const someCode = initial.codes.flatMap((c) => c.split(' ')).find((c) => c);
    if (someCode) {
      await setFilter(page, { code: someCode });
      state = await tableState(page, false);
      const expected = initial.codes.filter((c) => c.split(' ').includes(someCode)).length;
      check(state.visible === page1(expected), `code filter ${someCode} shows ${state.visible}, expected ${page1(expected)}`);
    }
    if (!options.bench) {
      // Search for the last row's IP, upper-cased: matching is case-insensitive.
      const needle = await page.evaluate(() =>
        document.querySelector('#results tbody tr:last-child td').textContent);
      await setFilter(page, { text: needle.toUpperCase() });
      state = await tableState(page, false);
      const expected = initial.texts.filter((t) => t.includes(needle.toLowerCase())).length;
      check(state.visible === page1(expected) && state.visible > 0, `text filter shows ${state.visible}, expected ${page1(expected)}`);
      await setFilter(page, { text: 'no-such-name-anywhere' });
      check((await tableState(page, false)).visible === 0, 'a search that matches nothing still shows rows');
    }
    await setFilter(page, {});
    check((await tableState(page, false)).visible === page1(initial.rows), 'clearing the filters does not show the first page');
    if (!options.bench && initial.rows > initial.pageSize) {
      await page.click('#show-more');
      check((await tableState(page, false)).visible === Math.min(initial.rows, 2 * initial.pageSize), '"show more" does not show another page');
      await page.click('#show-all');
      check((await tableState(page, false)).visible === initial.rows, '"show all" does not show every row');
    }

    // Recent states: the cells as the reader sees them, with the tooltip
    // the script gives each on hover.
    for (const spec of options.recent) {
      const [ip, classes] = spec.split('=');
      const cells = await page.evaluate((address) => {
        const row = Array.from(document.querySelectorAll('#results tbody tr'))
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

    // Print: the controls are not printed; every address that does not pass
    // is, with its findings in a column wide enough to read; the passing ones
    // are only counted. A4 at 96 dpi is 794 px wide.
    await page.setViewport({ width: 794, height: 1123 });
    await page.emulateMediaType('print');
    const paper = await page.evaluate(() => {
      const rows = Array.from(document.querySelectorAll('#results tbody tr'));
      const printed = rows.filter((row) => getComputedStyle(row).display !== 'none');
      const findings = printed.map((row) => row.cells[7].getBoundingClientRect().width);
      return {
        controls: getComputedStyle(document.getElementById('controls')).display,
        printed: printed.map((row) => row.getAttribute('data-status')),
        notPassing: rows.filter((row) => row.getAttribute('data-status') !== 'pass').length,
        narrowestFindings: findings.length ? Math.min(...findings) : 0,
      };
    });
    check(paper.controls === 'none', `controls print as display:${paper.controls}`);
    check(paper.printed.length === paper.notPassing && !paper.printed.includes('pass'),
          `print lists ${paper.printed.length} rows (${[...new Set(paper.printed)]}), expected the ${paper.notPassing} that do not pass`);
    check(paper.notPassing === 0 || paper.narrowestFindings >= 150,
          `the printed Findings column is ${paper.narrowestFindings} px wide`);
    const pdf = Buffer.from(await page.pdf({ format: 'A4', printBackground: true }));
    result.pdf_pages = (pdf.toString('latin1').match(/\/Type\s*\/Page[^s]/g) || []).length;
    if (options.pdf) fs.writeFileSync(options.pdf, pdf);
    if (options.maxPages) {
      check(result.pdf_pages >= 1 && result.pdf_pages <= options.maxPages,
            `the report prints on ${result.pdf_pages} A4 pages, expected at most ${options.maxPages}`);
    }
    await page.emulateMediaType('screen');

    // A phone: each address is a card of bounded height, none wider than the screen.
    await page.setViewport({ width: 420, height: 900 });
    const phone = await page.evaluate(() => {
      const rows = Array.from(document.querySelectorAll('#results tbody tr')).filter((row) => !row.hidden);
      const boxes = rows.slice(0, 100).map((row) => row.getBoundingClientRect());
      return { tallest: Math.max(0, ...boxes.map((box) => box.height)),
               rightmost: Math.max(0, ...boxes.map((box) => box.right)) };
    });
    check(phone.tallest < 600, `at 420 px the tallest address row is ${phone.tallest} px`);
    check(phone.rightmost <= 420, `at 420 px an address row reaches ${phone.rightmost} px`);
    await page.setViewport({ width: 1280, height: 1600 });

    if (options.screenshot) {
      await page.evaluate(() => window.scrollTo(0, 0));
      await page.screenshot({ path: options.screenshot, fullPage: initial.rows <= 200 });
      result.screenshot = path.resolve(options.screenshot);
    }
    result.violations = await page.evaluate(() => window.__violations);
    result.payload_calls = await page.evaluate(() => window.__payloadCalls);
    Object.assign(result, { blocked_requests: seen.blocked, dialogs: seen.dialogs,
                            console_errors: seen.consoleErrors, page_errors: seen.pageErrors });
    await page.close();

    // Pass 2: CSP bypassed, so only escaping stands between a name and the DOM.
    if (!options.bench) {
      const bare = await open(browser, url, { bypassCSP: true });
      const dom = await bare.page.evaluate((hostile) => {
        const cells = Array.from(document.querySelectorAll('#results td'));
        return {
          images: document.getElementsByTagName('img').length,
          scripts: document.getElementsByTagName('script').length,
          iframes: document.getElementsByTagName('iframe').length,
          handlers: Array.from(document.querySelectorAll('*')).filter((el) =>
            Array.from(el.attributes).some((a) => a.name.startsWith('on'))).length,
          shown: hostile.map((text) => cells.some((cell) => cell.textContent.includes(text))),
          payloadCalls: window.__payloadCalls,
          controls: !document.getElementById('controls').hidden,
        };
      }, options.hostile);
      check(dom.images === 0, `${dom.images} <img> elements in the page`);
      check(dom.scripts === 1, `${dom.scripts} <script> elements in the page`);
      check(dom.iframes === 0, `${dom.iframes} <iframe> elements in the page`);
      check(dom.handlers === 0, `${dom.handlers} elements carry an on* handler attribute`);
      options.hostile.forEach((text, i) => check(dom.shown[i], `hostile text not shown as text: ${text}`));
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
