// GeoGrid console: sign-in, language, the map and the situation at a clicked point.
// Plain JavaScript, no build step; every string the interface shows comes from /console/i18n/<lang>.json.
'use strict';

(function () {
  const languages = ['en', 'zh-CN'];
  const params = new URLSearchParams(location.search);
  const state = { lang: pickLanguage(), strings: {}, token: sessionStorage.getItem('geogrid.token'), who: null };
  const radius = 200;

  function pickLanguage() {
    const asked = params.get('lang');
    if (languages.includes(asked)) return asked;
    const browser = (navigator.languages || [navigator.language || 'en']).map(String);
    return browser.some((l) => l.toLowerCase().startsWith('zh')) ? 'zh-CN' : 'en';
  }

  // "{name} ({role})" with the values given; a missing key shows itself, so a gap in a file is visible.
  function t(key, values) {
    const text = state.strings[key];
    if (text === undefined) return key;
    return text.replace(/\{(\w+)\}/g, (_, name) => (values && values[name] !== undefined ? String(values[name]) : ''));
  }

  function number(x, digits) {
    return new Intl.NumberFormat(state.lang, { maximumFractionDigits: digits === undefined ? 0 : digits }).format(x);
  }

  async function loadLanguage(lang) {
    const response = await fetch('/console/i18n/' + lang + '.json');
    state.strings = await response.json();
    state.lang = lang;
    document.documentElement.lang = lang;
    document.title = t('app.title');
    for (const el of document.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
    for (const el of document.querySelectorAll('[data-i18n-label]')) el.setAttribute('aria-label', t(el.dataset.i18nLabel));
    for (const el of document.querySelectorAll('[data-i18n-placeholder]')) el.placeholder = t(el.dataset.i18nPlaceholder);
    if (state.lastSearch) showResults(state.lastSearch);
    if (state.openCase) showCase(state.openCase);
    showOverdue();
    showStats();
    showWho();
    if (catalogue) { fillCategories(); drawCases(); }
    if (state.who) showPlanner();
    if (state.findings) showFindings(state.findings);
    if (state.impact) showImpact(state.impact);
    editor.render();
    if (state.lastPoint) await showSituation(state.lastPoint);
  }

  function headers() {
    return state.token ? { Authorization: 'Bearer ' + state.token } : {};
  }

  async function getJSON(path) {
    const response = await fetch(path, { headers: headers() });
    const body = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(body.detail || body.title || String(response.status));
    return body;
  }

  // Sign-in: the token is checked by the server (GET /auth/token) and kept for this browser session only.
  async function signIn(token) {
    const response = await fetch('/auth/token', { headers: { Authorization: 'Bearer ' + token } });
    const body = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(body.detail || String(response.status));
    state.token = token;
    state.who = body;
    sessionStorage.setItem('geogrid.token', token);
  }

  function signOut() {
    state.token = null;
    state.who = null;
    sessionStorage.removeItem('geogrid.token');
    showWho();
  }

  function showWho() {
    const signedIn = Boolean(state.who);
    document.getElementById('signin').hidden = signedIn;
    document.getElementById('whoami').hidden = !signedIn;
    document.getElementById('who').textContent = signedIn
      ? t('signin.as', { name: state.who.label, role: t('role.' + state.who.role) })
      : '';
    document.getElementById('signin').title = signedIn ? '' : t('signin.anonymous');
  }

  function showError(message) {
    const el = document.getElementById('error');
    el.textContent = message;
    el.hidden = !message;
  }

  function listItem(parent, text) {
    const li = document.createElement('li');
    li.textContent = text;
    parent.appendChild(li);
  }

  // The situation at a point: who owns it (/locate, within /around's summary), the nearest resources with
  // distance and bearing (/nearest, drawn as lines), and the buildings, households, population and roads around.
  async function showSituation(point) {
    state.lastPoint = point;
    const q = 'lon=' + point.lng.toFixed(7) + '&lat=' + point.lat.toFixed(7);
    let around, nearest;
    try {
      [around, nearest] = await Promise.all([getJSON('/around?' + q + '&radius=' + radius), getJSON('/nearest?' + q + '&k=5')]);
    } catch (error) {
      showError(t('panel.failed', { detail: error.message }));
      return;
    }
    showError('');
    const summary = around.summary;
    const where = summary.location;
    document.getElementById('hint').hidden = true;
    document.getElementById('situation').hidden = false;
    const grid = where.grid;
    document.getElementById('grid-code').textContent = grid ? grid.code : t('panel.outside', { owner: t('owner.' + where.owner) });
    document.getElementById('grid-name').textContent = grid && grid.name ? grid.name : '';
    const worker = grid && grid.worker_name ? grid.worker_name + (grid.worker_phone ? ' · ' + grid.worker_phone : '') : '';
    document.getElementById('grid-worker').textContent = worker;
    document.getElementById('grid-chain').textContent = ['community', 'street', 'district']
      .map((level) => where[level] && (where[level].name || where[level].code))
      .filter(Boolean)
      .join(' · ');

    const list = document.getElementById('nearest');
    list.replaceChildren();
    for (const r of nearest.resources) {
      listItem(list, t(r.name ? 'panel.resource' : 'panel.resource.unnamed', {
        type: t('resource.' + r.type) === 'resource.' + r.type ? r.type : t('resource.' + r.type),
        name: r.name || '',
        distance: number(r.distance_m),
        bearing: number(r.bearing_deg),
      }) + (r.status && r.status !== 'in_service' ? ' · ' + t('resource.out') : ''));
      list.lastChild.dataset.status = r.status || '';
      list.lastChild.dataset.id = r.id;
    }
    if (nearest.resources.length === 0) listItem(list, t('panel.none'));
    drawNearest(point, nearest.resources);
    drawAccess(around.features.filter((f) => f.properties.layer === 'roads'));

    document.getElementById('around-buildings').textContent = number(summary.buildings.count);
    document.getElementById('around-households').textContent = number(summary.buildings.households);
    document.getElementById('around-population').textContent = number(summary.buildings.population);
    const roads = document.getElementById('roads');
    roads.replaceChildren();
    for (const road of summary.roads) {
      const cls = road.class ? t('road.class.' + road.class) : t('road.class.unknown');
      const values = { name: road.name || t('panel.unnamed'), class: cls.startsWith('road.class.') ? road.class : cls,
        distance: number(road.distance_m), width: road.width === null || road.width === undefined ? '' : number(road.width, 1) };
      listItem(roads, t(values.width ? 'panel.road.width' : 'panel.road', values));
    }
    if (summary.roads.length === 0) listItem(roads, t('panel.none'));
    const panel = document.getElementById('panel');
    panel.dataset.gridCode = grid ? grid.code : '';
    panel.dataset.at = q;
    document.getElementById('report').hidden = !mayReport();
  }

  // The roads within the radius (the access a fire engine has), highlighted beneath the cases.
  function drawAccess(roads) {
    const data = { type: 'FeatureCollection', features: roads };
    const source = map.getSource('geogrid-access');
    if (source) { source.setData(data); return; }
    map.addSource('geogrid-access', { type: 'geojson', data: data });
    map.addLayer({ id: 'geogrid-access', type: 'line', source: 'geogrid-access',
      paint: { 'line-color': '#f5b700', 'line-width': 6, 'line-opacity': 0.55 } }, map.getLayer('geogrid-cases') ? 'geogrid-cases' : undefined);
  }

  function drawNearest(point, resources) {
    const lines = resources.map((r) => ({
      type: 'Feature',
      properties: { id: r.id, type: r.type },
      geometry: { type: 'LineString', coordinates: [[point.lng, point.lat], [r.lon, r.lat]] },
    }));
    const data = { type: 'FeatureCollection', features: lines };
    const source = map.getSource('geogrid-nearest');
    if (source) {
      source.setData(data);
      return;
    }
    map.addSource('geogrid-nearest', { type: 'geojson', data: data });
    map.addLayer({ id: 'geogrid-nearest', type: 'line', source: 'geogrid-nearest',
      paint: { 'line-color': '#d7263d', 'line-width': 2, 'line-dasharray': [2, 1] } });
  }

  // Cases: the catalogue (categories, stages, workflow) named in the language in use; the open cases loaded
  // once and kept in step with /events; the board lists them red first, with the time left in their stage.
  const cases = new Map();
  const fresh = new Set();
  const lightOrder = { red: 0, yellow: 1, green: 2 };
  let catalogue = null;
  let loaded = false;
  const pending = [];

  function named(entry, code) {
    if (!entry) return code || '';
    return (state.lang === 'zh-CN' ? entry.zh : entry.en) || entry.en || entry.code;
  }

  function categories() {
    const out = [];
    for (const major of catalogue.categories.categories) {
      out.push(major);
      for (const minor of major.children || []) out.push(minor);
    }
    return out;
  }

  function stage(code) {
    return catalogue.workflow.stages.find((s) => s.code === code);
  }

  function mayReport() {
    return Boolean(state.who && catalogue && (state.who.role === 'admin' || catalogue.workflow.report_roles.includes(state.who.role)));
  }

  function fillCategories() {
    const select = document.getElementById('report-category');
    const chosen = select.value;
    select.replaceChildren();
    for (const major of catalogue.categories.categories) {
      const group = document.createElement('optgroup');
      group.label = named(major);
      for (const entry of [major].concat(major.children || [])) {
        const option = document.createElement('option');
        option.value = entry.code;
        option.textContent = named(entry);
        group.appendChild(option);
      }
      select.appendChild(group);
    }
    if (chosen) select.value = chosen;
  }

  function duration(ms) {
    const minutes = Math.max(0, Math.round(ms / 60000));
    const h = Math.floor(minutes / 60), m = minutes % 60;
    return h > 0 ? t('time.hm', { h: number(h), m: number(m) }) : t('time.m', { m: number(m) });
  }

  // Until the next light, or how long past red.
  function timeLeft(p, now) {
    if (p.light === 'green' && p.yellow_at) return t('board.left', { time: duration(Date.parse(p.yellow_at) - now) });
    if (p.light === 'yellow' && p.red_at) return t('board.left', { time: duration(Date.parse(p.red_at) - now) });
    if (p.light === 'red' && p.red_at) return t('board.late', { time: duration(now - Date.parse(p.red_at)) });
    return '';
  }

  function movesFor(p) {
    if (!state.who || !catalogue) return [];
    return catalogue.workflow.transitions.filter((m) => {
      const from = Array.isArray(m.from) ? m.from : [m.from];
      return from.includes(p.stage) && (state.who.role === 'admin' || (m.roles || []).includes(state.who.role));
    });
  }

  async function move(id, to, note) {
    const body = { to: to };
    if (note) body.note = note;
    const response = await fetch('/incidents/' + id + '/transitions', {
      method: 'POST', headers: Object.assign({ 'Content-Type': 'application/json' }, headers()), body: JSON.stringify(body),
    });
    const answer = await response.json().catch(() => ({}));
    if (!response.ok) {
      showError(t('transition.failed', { detail: answer.detail || response.status }));
      return;
    }
    showError('');
    apply({ incident: Object.assign({ id: answer.id, lon: answer.geometry.coordinates[0], lat: answer.geometry.coordinates[1] }, answer.properties) });
    drawCases();
  }

  // A grid worker's board holds the cases of the grids (or communities) its token covers; others see every case.
  function onBoard(f) {
    if (!state.who || state.who.role !== 'grid_worker' || state.who.scopes.length === 0) return true;
    const grid = f.properties.grid_code || '';
    return state.who.scopes.some((scope) => grid.startsWith(scope));
  }

  // A board control by what it does, not by the element: the case, and the stage it moves to (or its kind).
  function controlKey(e) {
    const li = e.closest('li[data-id]');
    return li ? li.dataset.id + '/' + (e.dataset.to || e.className || e.tagName) : null;
  }

  function drawCases() {
    document.getElementById('here').hidden = !mayReport();
    if (!catalogue) return;
    const source = map.getSource('geogrid-cases');
    if (source) source.setData({ type: 'FeatureCollection', features: [...cases.values()] });
    const now = Date.now();
    const list = [...cases.values()].filter(onBoard).sort((a, b) =>
      (lightOrder[a.properties.light] ?? 3) - (lightOrder[b.properties.light] ?? 3)
      || (Date.parse(a.properties.red_at || 0) || 0) - (Date.parse(b.properties.red_at || 0) || 0) || b.id - a.id);
    const counts = { red: 0, yellow: 0, green: 0 };
    for (const f of list) counts[f.properties.light] = (counts[f.properties.light] || 0) + 1;
    const mine = Boolean(state.who && state.who.role === 'grid_worker');
    document.querySelector('#board [data-i18n]').textContent = t(mine ? 'board.mine' : 'board.title');
    document.getElementById('board-count').textContent = '(' + number(list.length) + ')';
    document.getElementById('board-summary').textContent = t('board.summary', { red: number(counts.red), yellow: number(counts.yellow), green: number(counts.green) });
    const ol = document.getElementById('cases');
    // The board is drawn anew at each event: a keyboard user's place and a note being typed are kept.
    const notes = new Map([...ol.querySelectorAll('li[data-id]')].map((li) => [li.dataset.id, li.querySelector('.moves input')]).filter(([, input]) => input && input.value).map(([id, input]) => [id, input.value]));
    const focused = ol.contains(document.activeElement) ? controlKey(document.activeElement) : null;
    ol.replaceChildren();
    for (const f of list.slice(0, 100)) {
      const p = f.properties;
      const li = document.createElement('li');
      li.dataset.id = f.id;
      li.dataset.stage = p.stage;
      if (fresh.has(f.id)) li.className = 'fresh';
      const dot = document.createElement('span');
      dot.className = 'light ' + p.light;
      dot.title = t('light.' + p.light);
      li.appendChild(dot);
      const category = categories().find((c) => c.code === (p.subcategory || p.category));
      const text = document.createElement('span');
      text.className = 'case';
      text.textContent = [p.case_number, named(category, p.subcategory || p.category), named(stage(p.stage), p.stage), timeLeft(p, now)].filter(Boolean).join(' · ');
      li.appendChild(text);
      const moves = movesFor(p);
      if (moves.length) {
        const box = document.createElement('div');
        box.className = 'moves';
        const note = document.createElement('input');
        note.value = notes.get(String(f.id)) || '';
        note.placeholder = t('board.note');
        note.setAttribute('aria-label', t('board.note'));
        box.appendChild(note);
        for (const m of moves) {
          const button = document.createElement('button');
          button.type = 'button';
          button.dataset.to = m.to;
          button.textContent = named(stage(m.to), m.to);
          button.addEventListener('click', () => move(f.id, m.to, note.value.trim()));
          box.appendChild(button);
        }
        li.appendChild(box);
      }
      const history = document.createElement('button');
      history.type = 'button';
      history.className = 'history';
      history.textContent = t('case.open');
      history.addEventListener('click', () => showCase(f.id));
      li.appendChild(history);
      text.addEventListener('click', () => map.flyTo({ center: f.geometry.coordinates, zoom: 17 }));
      ol.appendChild(li);
    }
    if (focused) {
      const again = [...ol.querySelectorAll('button, input')].find((e) => controlKey(e) === focused);
      if (again) again.focus({ preventScroll: true });
    }
    document.getElementById('report').hidden = !(mayReport() && state.lastPoint);
  }

  // Overdue lists (GET /incidents/overdue) by department or grid, and a month's statistics (GET /incidents/stats)
  // as a table and a bar chart (received, and closed on time, per unit), with the CSV for the monthly bulletin.
  function unitName(g) {
    return (state.lang === 'zh-CN' ? g.zh : g.en) || g.en || g.key;
  }

  async function showOverdue() {
    const by = document.getElementById('overdue-by').value;
    let answer;
    try { answer = await getJSON('/incidents/overdue?by=' + by); } catch (error) { showError(t('panel.failed', { detail: error.message })); return; }
    const list = document.getElementById('overdue');
    list.replaceChildren();
    for (const g of answer.groups) {
      const li = document.createElement('li');
      li.dataset.key = g.key;
      li.dataset.count = g.count;
      const numbers = g.cases.slice(0, 5).map((c) => c.case_number).join(', ') + (g.cases.length > 5 ? ' …' : '');
      li.textContent = t('overdue.group', { unit: unitName(g), count: number(g.count), cases: numbers });
      list.appendChild(li);
    }
    if (answer.groups.length === 0) listItem(list, t('overdue.none'));
  }

  function thisMonth() {
    return today().slice(0, 7);
  }

  async function showStats() {
    const field = document.getElementById('stats-period');
    if (!field.value) field.value = thisMonth();
    const query = 'period=' + field.value + '&by=' + document.getElementById('stats-by').value;
    document.getElementById('stats-csv').href = '/incidents/stats?' + query + '&f=csv';
    let answer;
    try { answer = await getJSON('/incidents/stats?' + query); } catch (error) { showError(t('panel.failed', { detail: error.message })); return; }
    const rows = answer.rows.filter((r) => r.received || r.closed || r.overdue_now);
    const body = document.querySelector('#stats tbody');
    body.replaceChildren();
    const percent = new Intl.NumberFormat(state.lang, { style: 'percent', maximumFractionDigits: 0 });
    for (const r of rows) {
      const tr = document.createElement('tr');
      tr.dataset.key = r.key;
      for (const text of [unitName(r), number(r.received), number(r.closed), r.on_time_rate === null ? '–' : percent.format(r.on_time_rate), number(r.overdue_now)]) {
        const td = document.createElement('td');
        td.textContent = text;
        tr.appendChild(td);
      }
      body.appendChild(tr);
    }
    drawChart(rows);
  }

  // Two bars a unit: received (grey) and closed on time (green), scaled to the largest; drawn as SVG by hand.
  function drawChart(rows) {
    const svg = document.getElementById('stats-chart');
    const ns = 'http://www.w3.org/2000/svg';
    const width = 300, bar = 7, gap = 6, label = 110;
    svg.replaceChildren();
    svg.setAttribute('viewBox', '0 0 ' + width + ' ' + Math.max(1, rows.length * (2 * bar + gap)));
    svg.setAttribute('width', width);
    svg.setAttribute('height', Math.max(1, rows.length * (2 * bar + gap)));
    const top = Math.max(1, ...rows.map((r) => Math.max(r.received, r.closed_on_time)));
    rows.forEach((r, i) => {
      const y = i * (2 * bar + gap);
      const text = document.createElementNS(ns, 'text');
      text.setAttribute('x', 0);
      text.setAttribute('y', y + bar + 3);
      text.setAttribute('font-size', 9);
      text.textContent = unitName(r).slice(0, 22);
      svg.appendChild(text);
      [['received', r.received, '#8c96a0'], ['on-time', r.closed_on_time, '#1a9641']].forEach(([kind, value, colour], j) => {
        const rect = document.createElementNS(ns, 'rect');
        rect.setAttribute('class', kind);
        rect.dataset.key = r.key;
        rect.dataset.value = value;
        rect.setAttribute('x', label);
        rect.setAttribute('y', y + j * bar);
        rect.setAttribute('height', bar - 1);
        rect.setAttribute('width', (width - label) * value / top);
        rect.setAttribute('fill', colour);
        const title = document.createElementNS(ns, 'title');
        title.textContent = t(kind === 'received' ? 'stats.received' : 'stats.ontime') + ': ' + number(value);
        rect.appendChild(title);
        svg.appendChild(rect);
      });
    });
  }

  // Dates and times in the language in use, in the browser's time zone.
  function when(iso) {
    return new Intl.DateTimeFormat(state.lang, { dateStyle: 'medium', timeStyle: 'short' }).format(new Date(iso));
  }

  // One case's history (GET /incidents/{id}): every transition, who made it, when, and its note; never rewritten.
  async function showCase(id) {
    let f;
    try { f = await getJSON('/incidents/' + id); } catch (error) { showError(t('panel.failed', { detail: error.message })); return; }
    state.openCase = id;
    const section = document.getElementById('case');
    section.hidden = false;
    section.dataset.id = id;
    document.getElementById('case-number').textContent = f.properties.case_number;
    const list = document.getElementById('case-history');
    list.replaceChildren();
    for (const h of f.history || []) {
      const li = document.createElement('li');
      li.dataset.to = h.to || '';
      li.textContent = [when(h.time), named(stage(h.to), h.to), h.by, h.note, h.late ? t('case.late') : ''].filter(Boolean).join(' · ');
      list.appendChild(li);
    }
    section.scrollIntoView({ block: 'nearest' });
  }

  // An event's case (created, transitioned, light changed, re-assigned): a closed one leaves the board.
  function apply(event) {
    const i = event.incident;
    if (!i) return;
    if (!i.light || i.open === false) {
      cases.delete(i.id);
      return;
    }
    const f = cases.get(i.id) || { type: 'Feature', id: i.id, properties: {} };
    f.geometry = { type: 'Point', coordinates: [i.lon, i.lat] };
    Object.assign(f.properties, i);
    cases.set(i.id, f);
    fresh.add(i.id);
    setTimeout(() => { fresh.delete(i.id); drawCases(); }, 4000);
  }

  async function loadCases() {
    catalogue = await getJSON('/incidents/catalogue');
    fillCategories();
    const open = await getJSON('/incidents?open=true&limit=5000');
    for (const f of open.features) cases.set(f.id, f);
    loaded = true;
    for (const e of pending.splice(0)) apply(e);
    drawCases();
  }

  const events = new EventSource('/events');
  for (const kind of ['created', 'transitioned', 'light_changed', 'reassigned']) {
    events.addEventListener(kind, (e) => {
      const d = JSON.parse(e.data);
      if (!loaded) { pending.push(d); return; }
      apply(d);
      drawCases();
      if (d.incident && d.incident.id === state.openCase) showCase(state.openCase);
      // The overdue lists and the month's figures follow, once a burst of events has passed.
      clearTimeout(state.reportsTimer);
      state.reportsTimer = setTimeout(() => { showOverdue(); showStats(); }, 1000);
    });
  }

  async function report() {
    const point = state.lastPoint;
    const body = { lon: point.lng, lat: point.lat, category: document.getElementById('report-category').value,
      kind: document.getElementById('report-kind').value };
    const floor = document.getElementById('report-floor').value;
    if (floor !== '') body.floor = Number(floor);
    const description = document.getElementById('report-description').value.trim();
    if (description) body.description = description;
    if (body.kind === 'promised') body.promised_date = document.getElementById('report-promised').value;
    const response = await fetch('/incidents', {
      method: 'POST', headers: Object.assign({ 'Content-Type': 'application/json' }, headers()), body: JSON.stringify(body),
    });
    const answer = await response.json().catch(() => ({}));
    const done = document.getElementById('report-done');
    if (!response.ok) {
      done.textContent = t('report.failed', { detail: answer.detail || response.status });
      return;
    }
    done.textContent = t('report.done', { number: answer.properties.case_number, grid: answer.properties.grid_code || '' });
    done.dataset.caseId = answer.id;
  }

  // Plans: a planner uploads a proposal, sees its findings and impact on the map and in lists, applies it from a
  // date, and rolls back from the history.
  let plan = null;
  const palette = ['#1b9e77', '#d95f02', '#7570b3', '#e7298a', '#66a61e', '#e6ab02', '#a6761d', '#386cb0'];

  function mayPlan() {
    return Boolean(state.who && (state.who.role === 'planner' || state.who.role === 'admin'));
  }

  function today() {
    const d = new Date();
    return d.getFullYear() + '-' + String(d.getMonth() + 1).padStart(2, '0') + '-' + String(d.getDate()).padStart(2, '0');
  }

  async function send(method, path, body, type) {
    const response = await fetch(path, {
      method: method, headers: Object.assign({ 'Content-Type': type || 'application/json' }, headers()),
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    const answer = await response.json().catch(() => ({}));
    if (!response.ok) {
      const error = new Error(answer.detail || String(response.status));
      error.answer = answer;
      throw error;
    }
    return answer;
  }

  function setData(id, data, add) {
    const source = map.getSource(id);
    if (source) { source.setData(data); return; }
    map.addSource(id, { type: 'geojson', data: data });
    add();
  }

  // A finding's measures in the language in use; the server's English message where there are none (and as the
  // item's title).
  function findingDetail(f) {
    if (f.area_m2 !== undefined) return t('finding.detail.area', { area: number(f.area_m2, 1) });
    if (f.kind === 'cut_building') return t('finding.detail.cut', { id: f.building_id, to: f.goes_to || t('finding.nogrid') });
    if (f.kind === 'size') {
      const by = f.population !== undefined ? 'population' : 'households';
      const values = { value: number(f[by]), by: t('finding.by.' + by), min: number(f.min), max: number(f.max) };
      return t(f.min !== undefined ? 'finding.detail.below' : 'finding.detail.above', values);
    }
    if (f.kind === 'grid_count') return t('finding.detail.count', { count: number(f.count) });
    if (f.kind === 'street_bounded') {
      const share = new Intl.NumberFormat(state.lang, { style: 'percent', maximumFractionDigits: 0 }).format(f.share);
      return t('finding.detail.street', { share: share, off: number(f.off_road_m) });
    }
    return state.lang === 'en' ? f.message : '';
  }

  function showFindings(findings) {
    state.findings = findings;
    const list = document.getElementById('findings');
    list.replaceChildren();
    for (const f of findings) {
      const li = document.createElement('li');
      li.className = f.severity;
      li.dataset.kind = f.kind;
      const kind = t('finding.' + f.kind);
      const detail = findingDetail(f);
      li.textContent = t('severity.' + f.severity) + ' · ' + (kind.startsWith('finding.') ? f.kind : kind) + ' · ' + f.grids.join(', ') + (detail ? ': ' + detail : '');
      li.title = f.message;
      list.appendChild(li);
    }
    if (findings.length === 0) listItem(list, t('plan.none'));
    const features = findings.filter((f) => f.geometry).map((f) => ({ type: 'Feature', properties: { kind: f.kind, severity: f.severity }, geometry: f.geometry }));
    setData('geogrid-findings', { type: 'FeatureCollection', features: features }, () => {
      const colour = ['match', ['get', 'severity'], 'error', '#d7191c', '#f0b400'];
      map.addLayer({ id: 'geogrid-findings-fill', type: 'fill', source: 'geogrid-findings', filter: ['==', ['geometry-type'], 'Polygon'],
        paint: { 'fill-color': colour, 'fill-opacity': 0.45 } });
      map.addLayer({ id: 'geogrid-findings-line', type: 'line', source: 'geogrid-findings', paint: { 'line-color': colour, 'line-width': 3 } });
      map.addLayer({ id: 'geogrid-findings-point', type: 'circle', source: 'geogrid-findings', filter: ['==', ['geometry-type'], 'Point'],
        paint: { 'circle-color': colour, 'circle-radius': 7 } });
    });
  }

  async function loadImpact(id) {
    const [impact, moved] = await Promise.all([getJSON('/plans/' + id + '/impact'), getJSON('/plans/' + id + '/impact?f=geojson')]);
    showImpact({ impact: impact, moved: moved });
  }

  // The impact as lists in the language in use (drawn again when it changes) and the moved buildings on the map.
  function showImpact(shown) {
    state.impact = shown;
    const { impact, moved } = shown;
    document.getElementById('impact-summary').textContent = t('plan.moved', { buildings: number(impact.buildings_moved),
      households: number(impact.households_moved), population: number(impact.population_moved), cases: number(impact.cases.length) });
    const body = document.querySelector('#impact-grids tbody');
    body.replaceChildren();
    for (const g of impact.grids) {
      const tr = document.createElement('tr');
      tr.dataset.code = g.code;
      for (const text of [g.code, t('plan.totals', { households: number(g.before.households), cases: number(g.before.open_cases) }),
        t('plan.totals', { households: number(g.after.households), cases: number(g.after.open_cases) })]) {
        const td = document.createElement('td');
        td.textContent = text;
        tr.appendChild(td);
      }
      body.appendChild(tr);
    }
    const workers = document.getElementById('impact-workers');
    workers.replaceChildren();
    for (const w of impact.workers) {
      listItem(workers, t('plan.worker', { name: w.name, change: (w.households_change > 0 ? '+' : '') + number(w.households_change),
        cases: (w.open_cases_change > 0 ? '+' : '') + number(w.open_cases_change) }));
    }
    // Buildings coloured by the grid they go to.
    const codes = [...new Set(moved.features.map((f) => f.properties.to).filter(Boolean))];
    const colour = codes.length ? ['match', ['get', 'to']].concat(codes.flatMap((c, i) => [c, palette[i % palette.length]]), ['#555555']) : '#555555';
    setData('geogrid-impact', moved, () => {
      map.addLayer({ id: 'geogrid-impact', type: 'fill', source: 'geogrid-impact', paint: { 'fill-color': colour, 'fill-opacity': 0.8 } });
    });
    map.setPaintProperty('geogrid-impact', 'fill-color', colour);
  }

  async function openPlan(id) {
    // What was shown of another plan goes: its check, and its apply's outcome.
    const done = document.getElementById('plan-done');
    done.textContent = '';
    delete done.dataset.status;
    document.getElementById('plan').dataset.checked = 'false';
    plan = await getJSON('/plans/' + id);
    document.getElementById('plan').hidden = false;
    document.getElementById('plan').dataset.planId = id;
    document.getElementById('plan-apply').disabled = plan.status !== 'draft';
    const check = await getJSON('/plans/' + id + '/check');
    showFindings(check.findings);
    await loadImpact(id);
    document.getElementById('plan').dataset.checked = 'true';
  }

  async function uploadPlan() {
    const file = document.getElementById('plan-file').files[0];
    if (!file) return;
    await propose(await file.text(), document.getElementById('plan-name').value.trim());
  }

  // A proposal (an uploaded file's text, or the grids moved on the map) stored as a draft, then checked.
  async function propose(text, title) {
    try {
      const made = await send('POST', '/plans?assign_codes=true' + (title ? '&title=' + encodeURIComponent(title) : ''), text, 'application/geo+json');
      showError('');
      await openPlan(made.id);
      await listPlans();
      return true;
    } catch (error) {
      showError(t('plan.uploadfailed', { detail: error.message }));
      return false;
    }
  }

  // The vertices moved on the map become a proposal like an uploaded one.
  async function proposeEdit() {
    const moved = editor.changed();
    if (moved.length === 0) return;
    const title = document.getElementById('plan-name').value.trim() || t('edit.plantitle', { codes: moved.join(', ') });
    if (await propose(JSON.stringify(editor.proposal()), title)) editor.stop();
  }

  async function startEdit() {
    const code = document.getElementById('edit-code').value.trim();
    try {
      await editor.start(code);
      showError('');
    } catch (error) {
      showError(t('edit.failed', { detail: error.message }));
    }
  }

  // After a plan changes the grids, the tiles are asked for as of the day they take effect (a new address, so
  // no tile the browser cached before is shown).
  function refreshTiles(day) {
    const source = map.getSource('geogrid');
    const template = (source.tiles && source.tiles[0] || '').split('?')[0];
    if (template) source.setTiles([template + '?at=' + day]);
  }

  async function applyPlan() {
    const effective = document.getElementById('plan-effective').value || today();
    const done = document.getElementById('plan-done');
    delete done.dataset.status;
    try {
      const applied = await send('POST', '/plans/' + plan.id + '/apply', { effective: effective });
      done.textContent = t('plan.applied', { id: applied.id, effective: applied.effective });
      done.dataset.status = applied.status;
      document.getElementById('plan-apply').disabled = true;
      refreshTiles(effective);
      await listPlans();
    } catch (error) {
      done.textContent = t('plan.failed', { detail: error.message });
      done.dataset.status = 'refused';
      if (error.answer && error.answer.findings) showFindings(error.answer.findings);
    }
  }

  async function listPlans() {
    const ol = document.getElementById('plans');
    ol.replaceChildren();
    if (!mayPlan()) return;
    const answer = await getJSON('/plans');
    for (const p of answer.plans.slice(0, 20)) {
      const li = document.createElement('li');
      li.dataset.id = p.id;
      li.dataset.status = p.status;
      const text = document.createElement('span');
      text.textContent = p.rolled_back_by ? t('plan.rolledback', { id: p.id, by: p.rolled_back_by })
        : t('plan.entry', { id: p.id, status: t('status.' + p.status), effective: p.effective || '', title: p.title || '' });
      text.addEventListener('click', () => openPlan(p.id));
      li.appendChild(text);
      if (p.status === 'applied') {
        const button = document.createElement('button');
        button.type = 'button';
        button.className = 'rollback';
        button.textContent = t('plan.rollback');
        button.addEventListener('click', async () => {
          try {
            await send('POST', '/plans/' + p.id + '/rollback', {});
            refreshTiles(today());
            await listPlans();
          } catch (error) {
            showError(t('plan.failed', { detail: error.message }));
          }
        });
        li.appendChild(button);
      }
      ol.appendChild(li);
    }
  }

  function showPlanner() {
    document.getElementById('planner').hidden = !mayPlan();
    if (!mayPlan()) editor.stop();
    if (!document.getElementById('plan-effective').value) document.getElementById('plan-effective').value = today();
    if (mayPlan()) listPlans().catch((error) => showError(t('panel.failed', { detail: error.message })));
  }

  // Search: a case number, a grid's or area's code or name, an address, a road's name (GET /search). Each result
  // is a button: Enter or a click fits the map to it and shows the situation at a point on it.
  async function search(text) {
    if (!text) return;
    try {
      state.lastSearch = await getJSON('/search?limit=8&q=' + encodeURIComponent(text));
      showError('');
    } catch (error) {
      showError(t('search.failed', { detail: error.message }));
      return;
    }
    showResults(state.lastSearch);
    const first = document.querySelector('#search-results button');
    if (first) first.focus();
  }

  function showResults(answer) {
    const list = document.getElementById('search-results');
    list.replaceChildren();
    list.hidden = false;
    for (const r of answer.results) {
      const li = document.createElement('li');
      const button = document.createElement('button');
      button.type = 'button';
      button.dataset.kind = r.kind;
      button.dataset.id = r.id;
      button.textContent = t('search.kind.' + r.kind) + ' · ' + r.label + (r.detail ? ' · ' + r.detail : '');
      button.addEventListener('click', () => {
        const [w, s, e, n] = r.bbox;
        if (e - w < 1e-6 && n - s < 1e-6) map.jumpTo({ center: [r.lon, r.lat], zoom: 17 });
        else map.fitBounds([[w, s], [e, n]], { padding: 40, maxZoom: 17, animate: false });
        showSituation({ lng: r.lon, lat: r.lat });
      });
      li.appendChild(button);
      list.appendChild(li);
    }
    if (answer.results.length === 0) listItem(list, t('search.none', { text: answer.query }));
  }

  const map = new maplibregl.Map({ container: 'map', style: '/style.json', hash: true });
  map.on('load', () => {
    map.addSource('geogrid-cases', { type: 'geojson', data: { type: 'FeatureCollection', features: [...cases.values()] } });
    map.addLayer({ id: 'geogrid-cases', type: 'circle', source: 'geogrid-cases', paint: {
      'circle-color': ['match', ['get', 'light'], 'green', '#1a9641', 'yellow', '#f0b400', 'red', '#d7191c', '#969696'],
      'circle-radius': ['match', ['get', 'priority'], 'urgent', 9, 6], 'circle-stroke-color': '#222', 'circle-stroke-width': 1.2 } });
    // The live layer stands for the tiles' cases.
    if (map.getLayer('incidents')) map.setLayoutProperty('incidents', 'visibility', 'none');
  });
  map.addControl(new maplibregl.NavigationControl());
  map.addControl(new maplibregl.ScaleControl({ unit: 'metric' }));
  const editor = window.GeoGridEditor({ map: map, t: t, number: number, getJSON: getJSON, showError: showError, today: today });
  // A click picks the grid to edit while the planner edits vertices; otherwise it shows the situation there.
  map.on('click', (e) => {
    if (!editor.picking && !editor.active) { showSituation(e.lngLat); return; }
    editor.click(e).then(() => { editor.picking = false; showError(''); })
      .catch((error) => showError(t('edit.failed', { detail: error.message })));
  });
  // For scripts and tests: the map, the language and the strings in use.
  window.geogrid = { map: map, get lang() { return state.lang; }, t: t, showSituation: showSituation, cases: cases, editor: editor,
    get ready() { return loaded && map.loaded(); } };

  document.getElementById('signin').addEventListener('submit', async (e) => {
    e.preventDefault();
    const field = document.getElementById('token');
    try {
      await signIn(field.value.trim());
      field.value = '';
      showError('');
      showWho();
      drawCases();
      showPlanner();
      if (state.lastPoint) await showSituation(state.lastPoint);
    } catch (error) {
      showError(t('signin.failed', { detail: error.message }));
    }
  });
  document.getElementById('signout').addEventListener('click', () => { signOut(); drawCases(); showPlanner(); });
  // The phone's position (a grid worker on the street): the situation there, ready to report.
  document.getElementById('here').addEventListener('click', () => {
    navigator.geolocation.getCurrentPosition((p) => {
      const point = { lng: p.coords.longitude, lat: p.coords.latitude };
      map.flyTo({ center: [point.lng, point.lat], zoom: Math.max(map.getZoom(), 16) });
      showSituation(point);
    }, (error) => showError(t('panel.noposition', { detail: error.message })), { enableHighAccuracy: true, timeout: 10000 });
  });
  document.getElementById('search').addEventListener('submit', (e) => { e.preventDefault(); search(document.getElementById('search-text').value.trim()); });
  document.getElementById('overdue-by').addEventListener('change', showOverdue);
  document.getElementById('stats-by').addEventListener('change', showStats);
  document.getElementById('stats-period').addEventListener('change', showStats);
  document.getElementById('report').addEventListener('submit', (e) => { e.preventDefault(); report(); });
  document.getElementById('plan-upload').addEventListener('click', uploadPlan);
  document.getElementById('plan-apply').addEventListener('click', applyPlan);
  document.getElementById('edit-start').addEventListener('click', startEdit);
  document.getElementById('edit-code').addEventListener('keydown', (e) => { if (e.key === 'Enter') { e.preventDefault(); startEdit(); } });
  document.getElementById('edit-propose').addEventListener('click', proposeEdit);
  document.getElementById('edit-cancel').addEventListener('click', () => editor.stop());
  document.getElementById('lang').addEventListener('click', () => {
    const next = state.lang === 'en' ? 'zh-CN' : 'en';
    const url = new URL(location.href);
    url.searchParams.set('lang', next);
    history.replaceState(null, '', url);
    loadLanguage(next);
  });

  (async () => {
    if (state.token) {
      try { await signIn(state.token); } catch (error) { signOut(); }
    }
    await loadLanguage(state.lang);
    try { await loadCases(); } catch (error) { showError(t('panel.failed', { detail: error.message })); }
  })();
})();
