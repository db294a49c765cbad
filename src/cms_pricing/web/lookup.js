/* The look-up page (docs/lookup.md): a client of the public API, nothing more.
 *
 * Requests: GET /codes/{code}/prices per code (at most SIMULTANEOUS at once), then for the
 * code shown in detail GET /codes/{code}/sites and GET /codes/{code}/localities, and
 * POST /plans/price for the plan builder. A 401 or 403 asks for an API key, kept in
 * sessionStorage only. Every element is built with the DOM (no HTML from data), no inline
 * script or style (the page's CSP allows 'self' only).
 */
'use strict';

(function () {
  const KEY = 'cms-pricing-api-key';
  const SIMULTANEOUS = 6;
  const SVG = 'http://www.w3.org/2000/svg';
  const SCHEDULE_NAMES = {
    mpfs: 'Physician fee schedule (MPFS)',
    clfs: 'Clinical laboratory (CLFS)',
    dmepos: 'DMEPOS',
    asp: 'Part B drug (ASP)',
    anesthesia: 'Anesthesia',
    opps: 'Hospital outpatient (OPPS)',
    asc: 'Ambulatory surgical center (ASC)',
  };
  const SITE_NAMES = {
    office: 'Office',
    hospital_outpatient: 'Hospital outpatient',
    asc: 'Ambulatory surgical center',
  };
  const PLACE_FIELDS = { zip: 'where', locality: 'where', date: 'date', setting: 'setting' };

  const state = { key: null, rows: [], results: [], retry: null, description: false };

  const $ = (id) => document.getElementById(id);

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (name === 'text') node.textContent = value;
      else if (name === 'className') node.className = value;
      else node.setAttribute(name, value === true ? '' : value);
    }
    for (const child of children) {
      if (child === null || child === undefined) continue;
      node.append(child instanceof Node ? child : String(child));
    }
    return node;
  }

  function svg(tag, attrs, ...children) {
    const node = document.createElementNS(SVG, tag);
    for (const [name, value] of Object.entries(attrs || {})) node.setAttribute(name, value);
    for (const child of children) node.append(child);
    return node;
  }

  /* "1234.5" -> "$1,234.50"; decimal strings are formatted as text, never as floats. */
  function money(amount) {
    if (amount === null || amount === undefined) return '';
    const negative = amount.startsWith('-');
    const [whole, fraction = ''] = (negative ? amount.slice(1) : amount).split('.');
    const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
    return (negative ? '-$' : '$') + grouped + '.' + (fraction + '00').slice(0, 2);
  }

  // -- the API --------------------------------------------------------------------------

  class ApiError extends Error {
    constructor(status, body) {
      const error = (body && body.error) || {};
      super(error.message || `the service answered ${status}`);
      this.status = status;
      this.field = (error.details || {}).field || null;
    }
  }

  async function api(path, options) {
    const headers = { Accept: 'application/json' };
    if (state.key) headers['X-API-Key'] = state.key;
    const init = Object.assign({}, options || {});
    init.headers = Object.assign(headers, (options && options.headers) || {});
    let response;
    try {
      response = await fetch(path, init);
    } catch (failure) {
      throw new ApiError(0, { error: { message: 'the service did not answer: ' + failure.message } });
    }
    let body = null;
    try {
      body = await response.json();
    } catch (_ignored) {
      body = null;
    }
    if (!response.ok) throw new ApiError(response.status, body);
    return body;
  }

  function needsKey(failure) {
    return failure instanceof ApiError && (failure.status === 401 || failure.status === 403);
  }

  function askForKey(message, retry) {
    state.retry = retry;
    $('key-why').textContent = message;
    $('key-panel').hidden = false;
    $('key').focus();
  }

  function useKey(event) {
    event.preventDefault();
    const key = $('key').value.trim();
    if (!key) return;
    state.key = key;
    sessionStorage.setItem(KEY, key);
    $('key').value = '';
    $('key-panel').hidden = true;
    const retry = state.retry;
    state.retry = null;
    if (retry) retry();
  }

  function forgetKey() {
    state.key = null;
    sessionStorage.removeItem(KEY);
    $('key-why').textContent = 'The key is forgotten. Enter one to continue.';
  }

  // -- what was asked ---------------------------------------------------------------------

  function parseCodes(text) {
    const seen = new Set();
    const codes = [];
    for (const part of text.split(/[\s,;|]+/)) {
      const code = part.trim().replace(/^"|"$/g, '').toUpperCase();
      if (code && !seen.has(code)) {
        seen.add(code);
        codes.push(code);
      }
    }
    return codes;
  }

  /* The place and date as query parameters: a ZIP, or a 7-digit carrier-locality. */
  function placeParams() {
    const where = $('where').value.trim();
    const params = new URLSearchParams();
    if (/^\d{7}$/.test(where)) params.set('locality', where);
    else params.set('zip', where);
    const date = $('date').value;
    if (date) params.set('date', date);
    return params;
  }

  function clearErrors() {
    $('error').replaceChildren();
    for (const id of ['codes', 'where', 'date', 'setting']) $(id).removeAttribute('aria-invalid');
  }

  function showError(message, field) {
    const id = PLACE_FIELDS[field] || field;
    const target = id && $(id);
    const parts = [el('strong', { text: 'Cannot price: ' }), message];
    $('error').replaceChildren(el('p', {}, ...parts));
    if (target) {
      target.setAttribute('aria-invalid', 'true');
      target.focus();
    }
  }

  // -- pricing ----------------------------------------------------------------------------

  async function priceCode(code) {
    const params = placeParams();
    params.set('setting', $('setting').value);
    try {
      const body = await api(`/codes/${encodeURIComponent(code)}/prices?${params}`);
      return { code, body };
    } catch (failure) {
      return { code, failure };
    }
  }

  async function pool(items, limit, work) {
    const results = new Array(items.length);
    let next = 0;
    async function worker() {
      while (next < items.length) {
        const index = next++;
        results[index] = await work(items[index]);
      }
    }
    await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
    return results;
  }

  async function run(event) {
    if (event) event.preventDefault();
    clearErrors();
    const codes = parseCodes($('codes').value);
    if (!codes.length) return showError('enter at least one code in Codes.', 'codes');
    if (!$('where').value.trim()) return showError('enter a ZIP or locality.', 'where');
    const started = performance.now();
    $('status').textContent = `Pricing ${codes.length} code${codes.length > 1 ? 's' : ''}…`;
    const results = await pool(codes, SIMULTANEOUS, priceCode);
    const locked = results.find((r) => needsKey(r.failure));
    if (locked) {
      $('status').textContent = '';
      return askForKey(locked.failure.message, () => run());
    }
    const placeFailure = results.find(
      (r) => r.failure && r.failure.field && r.failure.field in PLACE_FIELDS,
    );
    if (placeFailure) {
      $('status').textContent = '';
      $('results').hidden = true;
      $('detail').hidden = true;
      return showError(placeFailure.failure.message, placeFailure.failure.field);
    }
    state.results = results;
    renderResults(results);
    const took = Math.round(performance.now() - started);
    const priced = results.filter((r) => r.body).length;
    $('status').textContent = `Priced ${priced} of ${codes.length} codes in ${took} ms.`;
    const first = results.find((r) => r.body);
    if (first) showDetail(first.code, false);
  }

  // -- how each schedule's figure is worked ------------------------------------------------

  function arithmetic(answer) {
    if (!answer || !answer.payable) return '';
    const c = answer.components || {};
    switch (answer.schedule) {
      case 'mpfs':
        return `${c.arithmetic}, rounded to ${money(answer.amount) || 'no payment'}` +
          (answer.opps_cap && answer.opps_cap.applies ? `; OPPS cap ${money(answer.opps_cap.cap)} paid` : '');
      case 'clfs':
        return c.rate ? `national limitation amount ${money(c.rate)}` : c.indicator_meaning || '';
      case 'dmepos':
        return `${c.fee_applied}: ${money(c.former_cba_fee || c.state_fee || c.mail_order_fee)} ` +
          `(${c.state}, ${c.rural ? 'rural' : 'non-rural'}; modifiers ${answer.modifiers.join(' ') || 'none'})`;
      case 'asp':
      case 'anesthesia':
        return c.arithmetic || '';
      case 'opps':
      case 'asc': {
        const weight = c.relative_weight || c.payment_weight;
        if (!weight) return c.status_meaning || c.indicator_meaning || '';
        let text = `${weight} x ${c.conversion_factor} = ${c.weight_x_conversion_factor}`;
        if (c.wage_adjusted) {
          text += `; x (${c.labor_share} x ${c.wage_index} + 1 - ${c.labor_share}) = ${c.unrounded_amount}`;
        }
        return text;
      }
      default:
        return '';
    }
  }

  function statusText(entry) {
    const answer = entry.answer;
    if (answer && answer.schedule === 'mpfs') return `${answer.status}: ${answer.status_reason}`;
    if (entry.payable) return 'paid';
    return entry.reason || 'not paid';
  }

  function notesOf(entry) {
    const notes = entry.answer ? [...entry.answer.notes] : [];
    if (!entry.answer && entry.reason) notes.unshift(entry.reason);
    return notes;
  }

  function rowsOf(result) {
    if (result.failure) {
      return [{
        code: result.code, description: '', schedule: '', amount: null, amount_cents: null,
        payable: false, status: 'error', arithmetic: '', notes: [result.failure.message],
        dataset: '', error: true,
      }];
    }
    const body = result.body;
    return body.prices.map((entry) => ({
      code: body.code,
      description: body.description || '',
      schedule: entry.schedule,
      amount: entry.amount,
      amount_cents: entry.amount_cents,
      payable: entry.payable,
      status: statusText(entry),
      arithmetic: arithmetic(entry.answer),
      notes: notesOf(entry),
      dataset: entry.answer ? entry.answer.release.id : '',
      modifiers: entry.answer ? entry.answer.modifiers : [],
    }));
  }

  function renderResults(results) {
    const body = $('results-table').tBodies[0];
    body.replaceChildren();
    state.rows = [];
    state.description = results.some((r) => r.body && r.body.description);
    $('ama').hidden = !state.description;
    for (const result of results) {
      const rows = rowsOf(result);
      rows.forEach((row, index) => {
        state.rows.push(row);
        const codeCell = el('th', { scope: 'row' }, row.code);
        if (index === 0 && row.description) codeCell.append(el('span', { className: 'descriptor', text: row.description }));
        const details = index === 0 && !row.error
          ? el('button', { type: 'button', className: 'link', 'data-code': row.code },
            'Show details', el('span', { className: 'visually-hidden', text: ` of ${row.code}` }))
          : '';
        body.append(el('tr', { className: row.error ? 'failed' : (row.payable ? '' : 'unpaid'), 'data-code': row.code, 'data-schedule': row.schedule },
          codeCell,
          el('td', { text: SCHEDULE_NAMES[row.schedule] || '' }),
          el('td', { className: 'num amount', text: row.amount ? money(row.amount) : '—' }),
          el('td', { text: row.status }),
          el('td', { className: 'arith', text: row.arithmetic }),
          el('td', {}, noteList(row.notes)),
          el('td', {}, details)));
      });
    }
    $('results').hidden = false;
  }

  function noteList(notes) {
    if (!notes.length) return '';
    return el('ul', { className: 'notes' }, ...notes.map((n) => el('li', { text: n })));
  }

  // -- CSV ---------------------------------------------------------------------------------

  function csvField(value) {
    const text = value === null || value === undefined ? '' : String(value);
    return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
  }

  function downloadCsv() {
    const where = $('where').value.trim();
    const columns = ['code', ...(state.description ? ['description'] : []), 'schedule', 'payable',
      'amount', 'amount_cents', 'status', 'arithmetic', 'notes', 'zip_or_locality', 'date',
      'setting', 'dataset'];
    const lines = [columns.join(',')];
    for (const row of state.rows) {
      const values = {
        ...row, notes: row.notes.join(' | '), zip_or_locality: where,
        date: $('date').value, setting: $('setting').value,
      };
      lines.push(columns.map((name) => csvField(values[name])).join(','));
    }
    const blob = new Blob([lines.join('\r\n') + '\r\n'], { type: 'text/csv' });
    const link = el('a', { href: URL.createObjectURL(blob), download: 'medicare-prices.csv', className: 'visually-hidden' }, 'CSV');
    document.body.append(link);
    link.click();
    setTimeout(() => { URL.revokeObjectURL(link.href); link.remove(); }, 1000);
    $('status').textContent = `Downloaded ${state.rows.length} rows as medicare-prices.csv.`;
  }

  // -- one code in detail ------------------------------------------------------------------

  function showDetail(code, focus) {
    const result = state.results.find((r) => r.code === code && r.body);
    if (!result) return;
    const body = result.body;
    $('detail').hidden = false;
    const heading = $('detail-heading');
    heading.replaceChildren(`${code} in detail`);
    if (body.description) heading.append(el('span', { className: 'descriptor', text: body.description }));
    $('schedules').replaceChildren(...body.prices.map(scheduleCard));
    if (focus) heading.focus();
    loadSites(code);
    loadAreas(body);
  }

  function definition(term, value) {
    return value === null || value === undefined || value === ''
      ? [] : [el('dt', { text: term }), el('dd', { text: value })];
  }

  function scheduleCard(entry) {
    const a = entry.answer;
    const items = [
      ...definition('Amount', entry.amount ? money(entry.amount) : 'not paid here'),
      ...definition('Status', statusText(entry)),
      ...definition('Arithmetic', arithmetic(a)),
    ];
    if (a && a.schedule === 'mpfs') {
      items.push(
        ...definition('Non-participating', money(a.non_participating)),
        ...definition('Limiting charge', money(a.limiting_charge)),
        ...definition('Locality', `${a.geography.carrier_locality} ${a.geography.locality_name}`),
        ...definition('Global days', a.indicators.global_days),
      );
    }
    if (a && a.cost_sharing) {
      const share = a.cost_sharing.copayment
        ? `copayment ${money(a.cost_sharing.copayment)}`
        : `coinsurance ${Math.round(Number(a.cost_sharing.coinsurance_rate) * 100)}%` +
          (a.cost_sharing.deductible_applies ? ', after the Part B deductible' : ', no deductible');
      items.push(...definition('Beneficiary share', share));
    }
    if (a) items.push(...definition('Dataset', `${a.release.id} (from ${a.release.effective_from})`));
    return el('section', { className: 'card' },
      el('h4', { text: entry.title }),
      el('dl', {}, ...items),
      noteList(notesOf(entry)));
  }

  async function loadSites(code) {
    const holder = $('sites');
    holder.replaceChildren(el('p', { text: 'Loading the site-of-service comparison…' }));
    try {
      const body = await api(`/codes/${encodeURIComponent(code)}/sites?${placeParams()}`);
      holder.replaceChildren(sitesTable(body));
    } catch (failure) {
      if (needsKey(failure)) return askForKey(failure.message, () => loadSites(code));
      holder.replaceChildren(el('p', { text: `No site-of-service comparison: ${failure.message}` }));
    }
  }

  function sitesTable(body) {
    const head = ['Site', 'Professional fee', 'Facility fee', 'Total', 'Beneficiary', 'Medicare',
      'Difference from office', 'Why not paid'];
    const rows = body.sites.map((site) => el('tr', { 'data-site': site.site },
      el('th', { scope: 'row', text: SITE_NAMES[site.site] + (body.lowest === site.site ? ' (lowest)' : '') }),
      el('td', { className: 'num', text: site.professional ? money(site.professional.amount) || '—' : '—' }),
      el('td', { className: 'num', text: site.facility ? money(site.facility.amount) || '—' : (site.site === 'office' ? 'none' : '—') }),
      el('td', { className: 'num site-total', text: site.payable ? money(site.total) : 'not paid' }),
      el('td', { className: 'num', text: money(site.beneficiary) }),
      el('td', { className: 'num', text: money(site.medicare) }),
      el('td', { className: 'num', text: money(site.difference_from_office) }),
      el('td', { className: 'reason', text: site.reason || '' })));
    return el('div', {},
      el('div', { className: 'scroll', role: 'region', 'aria-label': 'Sites of service', tabindex: '0' },
        el('table', {},
          el('caption', { text: `Facility fees ${body.place.facility_fees}` }),
          el('thead', {}, el('tr', {}, ...head.map((h) => el('th', { scope: 'col', text: h })))),
          el('tbody', {}, ...rows))),
      noteList(body.notes));
  }

  async function loadAreas(body) {
    const holder = $('areas');
    const mpfs = body.prices.find((p) => p.schedule === 'mpfs' && p.payable);
    const dme = body.prices.find((p) => p.schedule === 'dmepos' && p.payable);
    const params = new URLSearchParams();
    if (mpfs) {
      params.set('setting', $('setting').value);
      $('chart-heading').textContent = 'Across all localities';
    } else if (dme) {
      params.set('schedule', 'dmepos');
      dme.answer.modifiers.forEach((m, i) => params.set(['modifier', 'modifier2', 'modifier3'][i], m));
      $('chart-heading').textContent = 'Across all states (DMEPOS)';
    } else {
      $('chart-heading').textContent = 'Across localities';
      holder.replaceChildren(el('p', { text: 'This code is paid the same everywhere, or not by place: there is no chart by locality.' }));
      return;
    }
    const date = $('date').value;
    if (date) params.set('date', date);
    holder.replaceChildren(el('p', { text: 'Loading prices at every place…' }));
    try {
      const areas = await api(`/codes/${encodeURIComponent(body.code)}/localities?${params}`);
      const here = mpfs ? mpfs.answer.geography.carrier_locality : dme.answer.geography.state;
      holder.replaceChildren(...chart(areas, here));
    } catch (failure) {
      if (needsKey(failure)) return askForKey(failure.message, () => loadAreas(body));
      holder.replaceChildren(el('p', { text: `No chart: ${failure.message}` }));
    }
  }

  function chart(areas, here) {
    const priced = areas.areas.filter((a) => a.amount_cents !== null)
      .sort((a, b) => a.amount_cents - b.amount_cents);
    const kind = areas.kind === 'state' ? 'states' : 'localities';
    const top = priced.length ? priced[priced.length - 1].amount_cents : 0;
    const width = 760;
    const height = 240;
    const left = 70;
    const bar = (width - left - 10) / Math.max(priced.length, 1);
    const mine = priced.find((a) => a.area === here);
    const summary = `${areas.code} at ${areas.count} ${kind} (${areas.release.id}): ` +
      (areas.lowest ? `lowest ${money(areas.lowest.amount)} (${areas.lowest.name}), highest ${money(areas.highest.amount)} (${areas.highest.name})` : 'not paid anywhere') +
      (mine ? `; ${mine.name}: ${money(mine.amount)}` : '');
    const title = svg('title', { id: 'chart-title' });
    title.textContent = summary;
    const bars = priced.map((area, index) => {
      const tall = top ? Math.max(1, (area.amount_cents / top) * (height - 30)) : 0;
      const rect = svg('rect', {
        x: (left + index * bar).toFixed(2), y: (height - 20 - tall).toFixed(2),
        width: Math.max(bar - 1, 1).toFixed(2), height: tall.toFixed(2),
        class: area.area === here ? 'bar here' : 'bar', 'data-area': area.area,
      });
      const tip = svg('title');
      tip.textContent = `${area.name}: ${money(area.amount)}`;
      rect.append(tip);
      return rect;
    });
    const label = (y, text) => {
      const node = svg('text', { x: left - 6, y, class: 'axis', 'text-anchor': 'end' });
      node.textContent = text;
      return node;
    };
    const figure = svg('svg', {
      viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-labelledby': 'chart-title',
      class: 'chart', id: 'chart', preserveAspectRatio: 'xMinYMin meet',
    }, title,
    svg('line', { x1: left, y1: height - 20, x2: width - 10, y2: height - 20, class: 'baseline' }),
    label(height - 20, '$0'),
    label(14, top ? money((top / 100).toFixed(2)) : ''),
    ...bars);
    const rows = areas.areas.map((a) => el('tr', { className: a.area === here ? 'here' : '' },
      el('th', { scope: 'row', text: a.area }), el('td', { text: a.name }),
      el('td', { className: 'num', text: a.amount ? money(a.amount) : `not paid: ${a.reason}` })));
    const table = el('details', {},
      el('summary', { text: `The chart's figures: ${areas.count} ${kind}` }),
      el('div', { className: 'scroll', role: 'region', 'aria-label': `Prices at every ${kind === 'states' ? 'state' : 'locality'}`, tabindex: '0' },
        el('table', { id: 'areas-table' },
          el('caption', { text: summary }),
          el('thead', {}, el('tr', {}, ...['Area', 'Name', 'Amount'].map((h) => el('th', { scope: 'col', text: h })))),
          el('tbody', {}, ...rows))));
    return [el('figure', {}, figure, el('figcaption', { id: 'chart-caption', text: summary + (mine ? ' (highlighted).' : '.') })), table];
  }

  // -- the plan builder --------------------------------------------------------------------

  let planLineCount = 0;

  function addPlanLine(line) {
    const values = Object.assign({ code: '', schedule: 'mpfs', modifiers: '', units: '1' }, line || {});
    planLineCount += 1;
    const n = planLineCount;
    const schedule = el('select', { id: `plan-schedule-${n}`, name: 'schedule', 'aria-label': `Schedule, line ${n}` },
      ...Object.keys(SCHEDULE_NAMES).filter((s) => s !== 'anesthesia')
        .map((s) => el('option', { value: s, selected: s === values.schedule }, SCHEDULE_NAMES[s])));
    const row = el('tr', {},
      el('td', {},
        el('label', { for: `plan-code-${n}`, className: 'visually-hidden', text: `Code, line ${n}` }),
        el('input', { id: `plan-code-${n}`, name: 'code', value: values.code, size: '7', spellcheck: 'false', autocomplete: 'off' }),
        schedule),
      el('td', {},
        el('label', { for: `plan-modifiers-${n}`, className: 'visually-hidden', text: `Modifiers, line ${n}` }),
        el('input', { id: `plan-modifiers-${n}`, name: 'modifiers', value: values.modifiers, size: '9', spellcheck: 'false', autocomplete: 'off' })),
      el('td', {},
        el('label', { for: `plan-units-${n}`, className: 'visually-hidden', text: `Units, line ${n}` }),
        el('input', { id: `plan-units-${n}`, name: 'units', type: 'number', min: '1', value: values.units, className: 'units' })),
      el('td', {},
        el('button', { type: 'button', className: 'secondary remove' }, 'Remove',
          el('span', { className: 'visually-hidden', text: ` line ${n}` }))));
    $('plan-lines').tBodies[0].append(row);
    return row;
  }

  function removePlanLine(event) {
    const button = event.target.closest('button.remove');
    if (!button) return;
    const rows = $('plan-lines').tBodies[0].rows;
    button.closest('tr').remove();
    if (!rows.length) addPlanLine();
    $('plan-add').focus();
  }

  function codesToPlan() {
    $('plan-lines').tBodies[0].replaceChildren();
    for (const result of state.results) {
      if (!result.body) continue;
      const entry = result.body.prices.find((p) => p.payable && p.schedule !== 'anesthesia');
      if (!entry) continue;
      addPlanLine({ code: result.code, schedule: entry.schedule, modifiers: (entry.answer.modifiers || []).join(' ') });
    }
    if (!$('plan-lines').tBodies[0].rows.length) addPlanLine();
    $('plan-heading').scrollIntoView();
    $('plan-price').focus();
  }

  function planBody() {
    const params = placeParams();
    const body = { setting: $('setting').value, lines: [] };
    for (const name of ['zip', 'locality', 'date']) if (params.get(name)) body[name] = params.get(name);
    for (const row of $('plan-lines').tBodies[0].rows) {
      const code = row.querySelector('[name=code]').value.trim().toUpperCase();
      if (!code) continue;
      const modifiers = row.querySelector('[name=modifiers]').value.toUpperCase().split(/[\s,]+/).filter(Boolean);
      const units = Number(row.querySelector('[name=units]').value || '1');
      const schedule = row.querySelector('[name=schedule]').value;
      body.lines.push({ code, schedule, modifiers, units });
    }
    return body;
  }

  async function pricePlan(event) {
    if (event) event.preventDefault();
    $('plan-error').replaceChildren();
    if (!$('where').value.trim()) {
      $('plan-error').replaceChildren(el('p', { text: 'Enter a ZIP or locality above first.' }));
      return $('where').focus();
    }
    const body = planBody();
    if (!body.lines.length) {
      $('plan-error').replaceChildren(el('p', { text: 'Enter at least one code in the plan.' }));
      return;
    }
    $('plan-status').textContent = `Pricing a plan of ${body.lines.length} lines…`;
    try {
      const priced = await api('/plans/price', {
        method: 'POST', body: JSON.stringify(body), headers: { 'Content-Type': 'application/json' },
      });
      $('plan-result').replaceChildren(...planResult(priced, body));
      $('plan-status').textContent = `The plan is priced: allowed ${money(priced.totals.allowed)}.`;
    } catch (failure) {
      $('plan-status').textContent = '';
      if (needsKey(failure)) return askForKey(failure.message, () => pricePlan());
      $('plan-error').replaceChildren(el('p', {}, el('strong', { text: 'Cannot price the plan: ' }),
        failure.message + (failure.field ? ` (${failure.field})` : '')));
    }
  }

  function planResult(priced, asked) {
    const rows = priced.lines.map((line, index) => el('tr', {},
      el('th', { scope: 'row', text: String(index + 1) }),
      el('td', { text: `${line.code} ${(line.modifiers || []).join(' ')}`.trim() }),
      el('td', { text: SCHEDULE_NAMES[line.schedule] || line.schedule }),
      el('td', { className: 'num', text: money(line.fee_schedule_amount) || '—' }),
      el('td', { className: 'num plan-allowed', text: money(line.allowed) || '—' }),
      el('td', {}, noteList([
        ...(line.adjustments || []).map((a) => a.explanation),
        ...(line.notes || []),
      ]))));
    const c = priced.cost_sharing || {};
    const totals = el('dl', { className: 'totals' },
      ...definition('Allowed, the whole plan', money(priced.totals.allowed)),
      ...definition('Part B deductible', money(c.deductible)),
      ...definition('Coinsurance', money(c.coinsurance)),
      ...definition('The beneficiary pays', money(c.beneficiary)),
      ...definition('Medicare pays', money(c.program_paid)));
    const place = priced.geography ? `${priced.geography.carrier_locality} ${priced.geography.locality_name}` : '';
    return [
      el('div', { className: 'scroll', role: 'region', 'aria-label': 'The priced plan', tabindex: '0' },
        el('table', { id: 'plan-table' },
          el('caption', { text: `The plan at ${place || 'the place asked'}, ${asked.lines.length} lines (${priced.release.id})` }),
          el('thead', {}, el('tr', {}, ...['Line', 'Code', 'Schedule', 'Fee schedule amount', 'Allowed', 'How'].map((h) => el('th', { scope: 'col', text: h })))),
          el('tbody', {}, ...rows))),
      totals,
      noteList(priced.notes || []),
    ];
  }

  // -- start -------------------------------------------------------------------------------

  function fromLink() {
    const params = new URLSearchParams(window.location.search);
    if (params.get('codes')) $('codes').value = params.get('codes').split(/[\s,]+/).join('\n');
    if (params.get('where')) $('where').value = params.get('where');
    if (params.get('date')) $('date').value = params.get('date');
    if (params.get('setting')) $('setting').value = params.get('setting');
    return Boolean(params.get('codes') && params.get('where'));
  }

  function start() {
    state.key = sessionStorage.getItem(KEY);
    $('ask').addEventListener('submit', run);
    $('key-form').addEventListener('submit', useKey);
    $('key-forget').addEventListener('click', forgetKey);
    $('csv').addEventListener('click', downloadCsv);
    $('to-plan').addEventListener('click', codesToPlan);
    $('plan-form').addEventListener('submit', pricePlan);
    $('plan-add').addEventListener('click', () => addPlanLine().querySelector('input').focus());
    $('plan-lines').addEventListener('click', removePlanLine);
    $('results-table').addEventListener('click', (event) => {
      const button = event.target.closest('button[data-code]');
      if (button) showDetail(button.dataset.code, true);
    });
    addPlanLine();
    if (document.body.dataset.keys === 'required' && !state.key) {
      askForKey('This service needs an API key for every request. Enter yours to continue.', null);
    }
    if (fromLink()) run();
    document.body.classList.add('ready');
  }

  start();
}());
