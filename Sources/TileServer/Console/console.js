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
    showWho();
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
      listItem(list, t('panel.resource', {
        type: t('resource.' + r.type) === 'resource.' + r.type ? r.type : t('resource.' + r.type),
        name: r.name || '',
        distance: number(r.distance_m),
        bearing: number(r.bearing_deg),
      }));
    }
    if (nearest.resources.length === 0) listItem(list, t('panel.none'));
    drawNearest(point, nearest.resources);

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
    document.getElementById('panel').dataset.gridCode = grid ? grid.code : '';
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

  const map = new maplibregl.Map({ container: 'map', style: '/style.json', hash: true });
  map.addControl(new maplibregl.NavigationControl());
  map.addControl(new maplibregl.ScaleControl({ unit: 'metric' }));
  map.on('click', (e) => showSituation(e.lngLat));
  // For scripts and tests: the map, the language and the strings in use.
  window.geogrid = { map: map, get lang() { return state.lang; }, t: t, showSituation: showSituation };

  document.getElementById('signin').addEventListener('submit', async (e) => {
    e.preventDefault();
    const field = document.getElementById('token');
    try {
      await signIn(field.value.trim());
      field.value = '';
      showError('');
      showWho();
      if (state.lastPoint) await showSituation(state.lastPoint);
    } catch (error) {
      showError(t('signin.failed', { detail: error.message }));
    }
  });
  document.getElementById('signout').addEventListener('click', signOut);
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
  })();
})();
