// GeoGrid console: moving a grid's vertices on the map, for a planner.
//
// The grid in hand and the grids around it are loaded at full precision (OGC API items, not tiles). A vertex
// that several grids share is one handle: dragging it moves it in every grid that has it, so the shared edges
// stay shared and the mosaic keeps no gap and no overlap. Dropped within a few pixels of another grid's vertex,
// a vertex snaps onto it and is shared from then on. Dragging the midpoint of an edge adds a vertex there, in
// every grid that has that edge. Each step can be undone. The changed grids become a proposal
// (POST /plans, as an uploaded file would), so the server's checks, impact and apply follow as for any plan.
// By keyboard: a grid by its code, a vertex from the list, moved by a step in metres with the four buttons.
'use strict';

window.GeoGridEditor = function (ctx) {
  const { map, t, number, getJSON, today } = ctx;
  const snapPixels = 10;
  const same = 1e-9; // degrees: the same vertex (0.1 mm)
  const grids = new Map(); // code -> { polys: [[[ [lon, lat], … ]]] (rings without the closing point), multi, original }
  const undo = [];
  let selected = null;
  let chosen = 0;
  let drag = null;
  let picking = false;
  let day = null;
  const el = (id) => document.getElementById(id);

  function ringsOf(geometry) {
    const polys = geometry.type === 'Polygon' ? [geometry.coordinates] : geometry.coordinates;
    return polys.map((rings) => rings.map((ring) => ring.slice(0, ring.length - 1).map((p) => [p[0], p[1]])));
  }

  function geometryOf(g) {
    const polys = g.polys.map((rings) => rings.map((ring) => ring.concat([ring[0]]).map((p) => [p[0], p[1]])));
    return g.multi || polys.length > 1 ? { type: 'MultiPolygon', coordinates: polys } : { type: 'Polygon', coordinates: polys[0] };
  }

  function text(g) {
    return JSON.stringify(g.polys);
  }

  function changed() {
    return [...grids.entries()].filter(([, g]) => text(g) !== g.original).map(([code]) => code).sort();
  }

  function equal(a, b) {
    return Math.abs(a[0] - b[0]) < same && Math.abs(a[1] - b[1]) < same;
  }

  // Every place (grid, polygon, ring, index) where a vertex at this position is.
  function group(at) {
    const out = [];
    for (const [code, g] of grids) {
      g.polys.forEach((rings, p) => rings.forEach((ring, r) => ring.forEach((v, i) => {
        if (equal(v, at)) out.push({ code, p, r, i });
      })));
    }
    return out;
  }

  // The selected grid's vertices, in order: the list the keyboard picks from and the handles' numbers.
  function vertices() {
    const out = [];
    const g = grids.get(selected);
    if (!g) return out;
    g.polys.forEach((rings, p) => rings.forEach((ring, r) => ring.forEach((v, i) => out.push({ p, r, i, at: v }))));
    return out;
  }

  function snapshot() {
    undo.push(new Map([...grids].map(([code, g]) => [code, JSON.stringify(g.polys)])));
    if (undo.length > 100) undo.shift();
  }

  function restore() {
    const last = undo.pop();
    if (!last) return;
    for (const [code, polys] of last) if (grids.has(code)) grids.get(code).polys = JSON.parse(polys);
    const count = vertices().length;
    if (chosen >= count) chosen = Math.max(0, count - 1);
    render();
  }

  // Positions are kept to 7 decimals, the store's GeoJSON precision (about a centimetre): what is sent is
  // what comes back.
  function round(x) {
    return Math.round(x * 1e7) / 1e7;
  }

  function moveGroup(members, to) {
    for (const m of members) {
      const v = grids.get(m.code).polys[m.p][m.r][m.i];
      v[0] = round(to[0]);
      v[1] = round(to[1]);
    }
  }

  // The nearest vertex of another ring within snapPixels of a screen point, or null. Rings that hold a vertex
  // being dragged are left out: snapping onto one's own neighbour would fold the edge between them.
  function snapTarget(point, members) {
    const rings = new Set(members.map((m) => m.code + '/' + m.p + '/' + m.r));
    let best = null, bestDistance = snapPixels;
    for (const [code, g] of grids) {
      g.polys.forEach((polyRings, p) => polyRings.forEach((ring, r) => {
        if (rings.has(code + '/' + p + '/' + r)) return;
        for (const v of ring) {
          const q = map.project(v);
          const d = Math.hypot(q.x - point.x, q.y - point.y);
          if (d < bestDistance) { bestDistance = d; best = v; }
        }
      }));
    }
    return best ? [best[0], best[1]] : null;
  }

  // A vertex in the middle of edge n of the selected grid, added to every ring that has that edge.
  function insertMid(n) {
    const list = vertices();
    const a = list[n], g = grids.get(selected);
    const ring = g.polys[a.p][a.r];
    const b = ring[(a.i + 1) % ring.length];
    const mid = [round((a.at[0] + b[0]) / 2), round((a.at[1] + b[1]) / 2)];
    const start = [a.at[0], a.at[1]], end = [b[0], b[1]];
    for (const other of grids.values()) {
      for (const rings of other.polys) {
        for (const r of rings) {
          for (let i = 0; i < r.length; i++) {
            const next = (i + 1) % r.length;
            if ((equal(r[i], start) && equal(r[next], end)) || (equal(r[i], end) && equal(r[next], start))) {
              r.splice(i + 1, 0, [mid[0], mid[1]]);
              break;
            }
          }
        }
      }
    }
    chosen = n + 1;
    return mid;
  }

  function handles(index) {
    const features = [];
    const list = vertices();
    list.forEach((v, n) => {
      features.push({ type: 'Feature', properties: { kind: 'vertex', n: n, shared: sharers(v.at, index).length, chosen: n === chosen },
        geometry: { type: 'Point', coordinates: v.at } });
    });
    list.forEach((v, n) => {
      const ring = grids.get(selected).polys[v.p][v.r];
      const b = ring[(v.i + 1) % ring.length];
      features.push({ type: 'Feature', properties: { kind: 'mid', n: n },
        geometry: { type: 'Point', coordinates: [(v.at[0] + b[0]) / 2, (v.at[1] + b[1]) / 2] } });
    });
    return { type: 'FeatureCollection', features: features };
  }

  // For each position (to 1e-9°), the grids with a vertex there: made once a drawing, not once a vertex.
  function owners() {
    const out = new Map();
    for (const [code, g] of grids) {
      for (const rings of g.polys) for (const ring of rings) for (const v of ring) {
        const key = v[0].toFixed(9) + ',' + v[1].toFixed(9);
        if (!out.has(key)) out.set(key, new Set());
        out.get(key).add(code);
      }
    }
    return out;
  }

  // The other grids that have a vertex at this position.
  function sharers(at, index) {
    return [...(index.get(at[0].toFixed(9) + ',' + at[1].toFixed(9)) || [])].filter((code) => code !== selected).sort();
  }

  function setSource(id, data) {
    const source = map.getSource(id);
    if (source) source.setData(data);
    else map.addSource(id, { type: 'geojson', data: data });
  }

  // The map's sources and, unless a drag is under way, the controls.
  function render() {
    const moved = new Set(changed());
    const index = owners();
    setSource('geogrid-edit', { type: 'FeatureCollection', features: [...grids].map(([code, g]) => ({ type: 'Feature',
      properties: { code: code, selected: code === selected, changed: moved.has(code) }, geometry: geometryOf(g) })) });
    setSource('geogrid-edit-handles', handles(index));
    if (!map.getLayer('geogrid-edit-fill')) {
      map.addLayer({ id: 'geogrid-edit-fill', type: 'fill', source: 'geogrid-edit',
        paint: { 'fill-color': ['case', ['get', 'selected'], '#2b6cb0', '#9aa9b8'], 'fill-opacity': ['case', ['get', 'selected'], 0.18, 0.06] } });
      map.addLayer({ id: 'geogrid-edit-line', type: 'line', source: 'geogrid-edit',
        paint: { 'line-color': ['case', ['get', 'changed'], '#d95f02', '#1d3b5a'], 'line-width': ['case', ['get', 'selected'], 3, 1.5] } });
      map.addLayer({ id: 'geogrid-edit-mids', type: 'circle', source: 'geogrid-edit-handles', filter: ['==', ['get', 'kind'], 'mid'],
        paint: { 'circle-radius': 4, 'circle-color': '#ffffff', 'circle-opacity': 0.8, 'circle-stroke-color': '#2b6cb0', 'circle-stroke-width': 1 } });
      map.addLayer({ id: 'geogrid-edit-vertices', type: 'circle', source: 'geogrid-edit-handles', filter: ['==', ['get', 'kind'], 'vertex'],
        paint: { 'circle-radius': ['case', ['get', 'chosen'], 8, 6], 'circle-color': ['case', ['>', ['get', 'shared'], 0], '#d95f02', '#ffffff'],
          'circle-stroke-color': ['case', ['get', 'chosen'], '#f5b700', '#1d3b5a'], 'circle-stroke-width': ['case', ['get', 'chosen'], 3, 1.5] } });
    }
    if (!drag) showControls(index);
  }

  function showControls(index) {
    el('edit').hidden = !selected;
    if (!selected) return;
    el('edit').dataset.grid = selected;
    const moved = changed();
    el('edit-status').textContent = t('edit.status', { code: selected, changed: number(moved.length) });
    const select = el('edit-vertex');
    const list = vertices();
    index = index || owners();
    select.replaceChildren();
    list.forEach((v, n) => {
      const option = document.createElement('option');
      option.value = String(n);
      const others = sharers(v.at, index);
      option.textContent = others.length ? t('edit.vertex.shared', { n: number(n + 1), grids: others.join(', ') }) : t('edit.vertex.alone', { n: number(n + 1) });
      select.appendChild(option);
    });
    select.value = String(chosen);
    el('edit-undo').disabled = undo.length === 0;
    el('edit-propose').disabled = moved.length === 0;
  }

  function bboxOf(geometry) {
    let w = Infinity, s = Infinity, e = -Infinity, n = -Infinity;
    for (const rings of ringsOf(geometry)) for (const ring of rings) for (const [x, y] of ring) {
      w = Math.min(w, x); e = Math.max(e, x); s = Math.min(s, y); n = Math.max(n, y);
    }
    return [w, s, e, n];
  }

  // A grid in force today by its code, and every grid in force whose box meets its box (widened a little);
  // grids already loaded keep their edits.
  async function load(code) {
    day = day || today();
    const one = await getJSON('/collections/grids/items?datetime=' + day + '&limit=1&filter=' + encodeURIComponent("code = '" + code.replace(/'/g, "''") + "'"));
    const feature = one.features[0];
    if (!feature) throw new Error(t('edit.notfound', { code: code }));
    const [w, s, e, n] = bboxOf(feature.geometry);
    const pad = Math.max(e - w, n - s) * 0.1 + 1e-4;
    const around = await getJSON('/collections/grids/items?datetime=' + day + '&limit=1000&bbox=' + [w - pad, s - pad, e + pad, n + pad].map((x) => x.toFixed(7)).join(','));
    for (const f of around.features.concat([feature])) {
      const c = f.properties.code;
      if (grids.has(c) || !f.geometry) continue;
      const polys = ringsOf(f.geometry);
      grids.set(c, { polys: polys, multi: f.geometry.type === 'MultiPolygon', original: JSON.stringify(polys) });
    }
    if (selected !== code) { selected = code; chosen = 0; }
    render();
    return [w, s, e, n];
  }

  function inside(point, ring) {
    let hit = false;
    for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
      const [xi, yi] = ring[i], [xj, yj] = ring[j];
      if ((yi > point[1]) !== (yj > point[1]) && point[0] < (xj - xi) * (point[1] - yi) / (yj - yi) + xi) hit = !hit;
    }
    return hit;
  }

  function loadedAt(point) {
    for (const [code, g] of grids) {
      for (const rings of g.polys) {
        if (inside(point, rings[0]) && !rings.slice(1).some((hole) => inside(point, hole))) return code;
      }
    }
    return null;
  }

  // A click: on a handle it is a drag that did not move; elsewhere it picks the grid there (loading it and its
  // neighbours if it is not loaded yet).
  async function click(e) {
    if (handleAt(e.point)) return;
    const point = [e.lngLat.lng, e.lngLat.lat];
    const known = loadedAt(point);
    if (known) {
      if (known !== selected) { selected = known; chosen = 0; render(); }
      return;
    }
    const where = await getJSON('/locate?lon=' + point[0].toFixed(7) + '&lat=' + point[1].toFixed(7));
    if (!where.grid) throw new Error(t('edit.nogrid'));
    await load(where.grid.code);
  }

  function start(code) {
    picking = !code;
    el('edit-pick').hidden = !picking;
    if (code) return load(code).then((box) => map.fitBounds([[box[0], box[1]], [box[2], box[3]]], { padding: 40, animate: false }));
    return Promise.resolve();
  }

  function stop() {
    grids.clear();
    undo.length = 0;
    selected = null;
    picking = false;
    el('edit-pick').hidden = true;
    for (const id of ['geogrid-edit-vertices', 'geogrid-edit-mids', 'geogrid-edit-line', 'geogrid-edit-fill']) if (map.getLayer(id)) map.removeLayer(id);
    for (const id of ['geogrid-edit-handles', 'geogrid-edit']) if (map.getSource(id)) map.removeSource(id);
    showControls();
  }

  // Metres east and north at the chosen vertex, in degrees there.
  function nudge(east, north) {
    const list = vertices();
    const v = list[chosen];
    if (!v) return;
    const step = Math.max(0.01, Number(el('edit-step').value) || 1);
    const metresPerDegree = 111320;
    const to = [v.at[0] + east * step / (metresPerDegree * Math.cos(v.at[1] * Math.PI / 180)), v.at[1] + north * step / metresPerDegree];
    snapshot();
    moveGroup(group(v.at), to);
    render();
  }

  function remove() {
    const v = vertices()[chosen];
    if (!v) return;
    const members = group(v.at);
    if (members.some((m) => grids.get(m.code).polys[m.p][m.r].length <= 3)) {
      ctx.showError(t('edit.toofew'));
      return;
    }
    snapshot();
    // From the highest index down, so that the places of the others in one ring stay right.
    members.sort((a, b) => b.i - a.i);
    for (const m of members) grids.get(m.code).polys[m.p][m.r].splice(m.i, 1);
    chosen = Math.min(chosen, vertices().length - 1);
    render();
  }

  function proposal() {
    return { type: 'FeatureCollection', features: changed().map((code) => ({ type: 'Feature', properties: { code: code }, geometry: geometryOf(grids.get(code)) })) };
  }

  // Dragging: a vertex handle (or a midpoint, which adds a vertex first) under the pointer.
  function handleAt(point) {
    if (!selected || !map.getLayer('geogrid-edit-vertices')) return null;
    const box = [[point.x - 6, point.y - 6], [point.x + 6, point.y + 6]];
    const hits = map.queryRenderedFeatures(box, { layers: ['geogrid-edit-vertices', 'geogrid-edit-mids'] });
    if (hits.length === 0) return null;
    const nearest = (list) => list.sort((a, b) => {
      const pa = map.project(a.geometry.coordinates), pb = map.project(b.geometry.coordinates);
      return Math.hypot(pa.x - point.x, pa.y - point.y) - Math.hypot(pb.x - point.x, pb.y - point.y);
    })[0];
    const vertex = hits.filter((f) => f.properties.kind === 'vertex');
    return nearest(vertex.length ? vertex : hits).properties;
  }

  function down(e) {
    const handle = handleAt(e.point);
    if (!handle) return;
    e.preventDefault();
    snapshot();
    const n = Number(handle.n);
    const at = handle.kind === 'mid' ? insertMid(n) : vertices()[n].at.slice();
    if (handle.kind === 'vertex') chosen = n;
    drag = { members: group(at), moved: handle.kind === 'mid' };
    map.dragPan.disable();
    map.getCanvas().style.cursor = 'grabbing';
    render();
  }

  function moveTo(e) {
    if (!drag) {
      if (selected) map.getCanvas().style.cursor = handleAt(e.point) ? 'grab' : '';
      return;
    }
    const to = snapTarget(e.point, drag.members) || [e.lngLat.lng, e.lngLat.lat];
    moveGroup(drag.members, to);
    drag.moved = true;
    render();
  }

  function up() {
    if (!drag) return;
    if (!drag.moved) undo.pop();
    drag = null;
    map.dragPan.enable();
    map.getCanvas().style.cursor = '';
    render();
  }

  map.on('mousedown', down);
  map.on('touchstart', (e) => { if (e.points && e.points.length === 1) down(e); });
  map.on('mousemove', moveTo);
  map.on('touchmove', (e) => { if (drag) moveTo(e); });
  map.on('mouseup', up);
  map.on('touchend', up);

  el('edit-vertex').addEventListener('change', () => {
    chosen = Number(el('edit-vertex').value);
    render();
    const v = vertices()[chosen];
    if (v && !map.getBounds().contains(v.at)) map.panTo(v.at);
  });
  for (const button of document.querySelectorAll('#edit-nudge button')) {
    const [east, north] = { n: [0, 1], s: [0, -1], e: [1, 0], w: [-1, 0] }[button.dataset.dir];
    button.addEventListener('click', () => nudge(east, north));
  }
  el('edit-remove').addEventListener('click', remove);
  el('edit-undo').addEventListener('click', restore);

  return {
    start, stop, click, proposal, changed,
    render: () => { if (selected) showControls(); },
    get picking() { return picking; },
    set picking(value) { picking = value; el('edit-pick').hidden = !value; },
    get active() { return Boolean(selected); },
    get selected() { return selected; },
    // For tests: a loaded grid's geometry as the editor holds it.
    geometry: (code) => (grids.has(code) ? geometryOf(grids.get(code)) : null),
    get chosen() { return chosen; },
  };
};
