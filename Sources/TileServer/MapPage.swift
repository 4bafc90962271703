import Foundation
import Hummingbird

/// `GET /map`: the dispatcher's demo page. MapLibre GL JS draws /style.json; a click asks /locate, /nearest and
/// /around and shows the grid, its worker and community, the nearest resources and the surroundings. The open
/// cases are drawn coloured by their light and listed beside the map, both kept up to date from /events. MapLibre's
/// files come from `assets` (scripts/fetch-maplibre.sh puts them in var/maplibre), served at /map/…: no CDN.
struct MapPage {
    let assets: String

    func add(to router: Router<BasicRequestContext>) {
        router.get("map") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-cache"],
                body: .init(byteBuffer: ByteBuffer(string: Self.html)))
        }
        for (name, type) in [("maplibre-gl.js", "text/javascript; charset=utf-8"), ("maplibre-gl.css", "text/css; charset=utf-8")] {
            router.get("map/\(name)") { _, _ in
                let path = (assets as NSString).appendingPathComponent(name)
                guard let data = FileManager.default.contents(atPath: path) else {
                    throw Problem(.notFound, "\(path) is missing: run scripts/setup.sh (it fetches MapLibre GL JS from PyPI)")
                }
                return Response(status: .ok, headers: [.contentType: type, .cacheControl: "public, max-age=86400"],
                    body: .init(byteBuffer: ByteBuffer(bytes: data)))
            }
        }
    }

    static let html = """
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>GeoGrid — dispatch map</title>
        <link rel="stylesheet" href="/map/maplibre-gl.css">
        <script src="/map/maplibre-gl.js"></script>
        <style>
          html, body { margin: 0; height: 100%; font: 14px/1.4 system-ui, sans-serif; }
          #map { position: absolute; inset: 0 360px 0 0; }
          #panel { position: absolute; top: 0; right: 0; bottom: 0; width: 360px; overflow-y: auto; box-sizing: border-box;
                   padding: 12px 14px; background: #fff; border-left: 1px solid #ccc; }
          h1 { font-size: 17px; margin: 0 0 6px; } h2 { font-size: 14px; margin: 14px 0 4px; }
          table { border-collapse: collapse; width: 100%; } td { padding: 2px 4px; border-bottom: 1px solid #eee; vertical-align: top; }
          .muted { color: #777; } .warn { color: #b2182b; font-weight: 600; }
          .dot { display: inline-block; width: 10px; height: 10px; border-radius: 5px; margin-right: 4px; }
          #cases tr { cursor: pointer; } #cases tr.fresh { background: #fff3c4; }
        </style>
        </head>
        <body>
        <div id="map"></div>
        <div id="panel">
          <h1>GeoGrid dispatch map</h1>
          <p class="muted">Click the map: the owning grid and its worker, the nearest resources and what stands within 150 m.</p>
          <div id="answer"></div>
          <h2>Open cases <span id="case-count" class="muted"></span></h2>
          <p class="muted" id="case-summary"></p>
          <table id="cases"></table>
        </div>
        <script>
        const esc = s => String(s ?? '').replace(/[&<>"]/g, c => ({'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;'}[c]));
        const map = new maplibregl.Map({ container: 'map', style: '/style.json', hash: true });
        map.addControl(new maplibregl.NavigationControl());
        map.addControl(new maplibregl.ScaleControl({ unit: 'metric' }));
        map.on('load', () => {
          map.addSource('around', { type: 'geojson', data: { type: 'FeatureCollection', features: [] } });
          map.addLayer({ id: 'around-fill', type: 'fill', source: 'around', filter: ['==', ['get', 'layer'], 'buildings'],
                         paint: { 'fill-color': '#fd8d3c', 'fill-opacity': 0.5 } });
          map.addLayer({ id: 'around-roads', type: 'line', source: 'around', filter: ['==', ['get', 'layer'], 'roads'],
                         paint: { 'line-color': '#e6550d', 'line-width': 3 } });
          map.addLayer({ id: 'around-resources', type: 'circle', source: 'around', filter: ['==', ['get', 'layer'], 'resources'],
                         paint: { 'circle-radius': 8, 'circle-color': 'rgba(0,0,0,0)', 'circle-stroke-color': '#000', 'circle-stroke-width': 2 } });
        });
        // Open cases: loaded once, then kept in step with /events (created, transitioned, light_changed, reassigned).
        const lights = { green: '#1a9641', yellow: '#f0b400', red: '#d7191c' };
        const order = { red: 0, yellow: 1, green: 2 };
        const cases = new Map();
        const fresh = new Set();
        let pending = [], loaded = false;
        function drawCases() {
          map.getSource('cases')?.setData({ type: 'FeatureCollection', features: [...cases.values()] });
          const list = [...cases.values()].sort((a, b) => (order[a.properties.light] ?? 3) - (order[b.properties.light] ?? 3) || b.id - a.id);
          const counts = { red: 0, yellow: 0, green: 0 };
          for (const f of list) counts[f.properties.light] = (counts[f.properties.light] ?? 0) + 1;
          document.getElementById('case-count').textContent = `(${list.length})`;
          document.getElementById('case-summary').innerHTML = Object.entries(counts).map(([l, n]) => `<span class="dot" style="background:${lights[l]}"></span>${n} ${l}`).join(' &nbsp; ');
          document.getElementById('cases').innerHTML = list.slice(0, 60).map(f => {
            const p = f.properties;
            return `<tr data-id="${f.id}" class="${fresh.has(f.id) ? 'fresh' : ''}"><td><span class="dot" style="background:${lights[p.light] ?? '#969696'}"></span>${esc(p.case_number)}</td>
                    <td>${esc(p.subcategory ?? p.category)}</td><td>${esc(p.stage)}</td><td class="muted">${esc(p.department)}</td></tr>`;
          }).join('');
        }
        function apply(event) {
          const i = event.incident;
          if (!i.light) { cases.delete(i.id); return; }  // closed: off the list
          const f = cases.get(i.id) ?? { type: 'Feature', id: i.id, properties: {} };
          f.geometry = { type: 'Point', coordinates: [i.lon, i.lat] };
          Object.assign(f.properties, i);
          cases.set(i.id, f);
          fresh.add(i.id);
          setTimeout(() => { fresh.delete(i.id); drawCases(); }, 4000);
        }
        const events = new EventSource('/events');
        for (const kind of ['created', 'transitioned', 'light_changed', 'reassigned'])
          events.addEventListener(kind, e => {
            const d = JSON.parse(e.data);
            if (loaded) { apply(d); drawCases(); } else pending.push(d);
          });
        map.on('load', async () => {
          map.addSource('cases', { type: 'geojson', data: { type: 'FeatureCollection', features: [] } });
          map.addLayer({ id: 'cases', type: 'circle', source: 'cases', paint: {
            'circle-color': ['match', ['get', 'light'], 'green', lights.green, 'yellow', lights.yellow, 'red', lights.red, '#969696'],
            'circle-radius': ['match', ['get', 'priority'], 'urgent', 9, 6], 'circle-stroke-color': '#222', 'circle-stroke-width': 1.2 } });
          if (map.getLayer('incidents')) map.setLayoutProperty('incidents', 'visibility', 'none');  // the live layer stands for it
          const open = await fetch('/incidents?open=true&limit=5000').then(r => r.json());
          for (const f of open.features) cases.set(f.id, f);
          loaded = true;
          for (const d of pending) apply(d);
          pending = [];
          drawCases();
        });
        document.getElementById('cases').addEventListener('click', e => {
          const f = cases.get(Number(e.target.closest('tr')?.dataset.id));
          if (f) map.flyTo({ center: f.geometry.coordinates, zoom: 17 });
        });
        map.on('mousemove', 'grids-fill', e => { map.getCanvas().title = e.features[0]?.properties.code ?? ''; });
        let marker;
        map.on('click', async e => {
          const { lng, lat } = e.lngLat;
          marker?.remove();
          marker = new maplibregl.Marker({ color: '#b2182b' }).setLngLat([lng, lat]).addTo(map);
          const q = `lon=${lng.toFixed(7)}&lat=${lat.toFixed(7)}`;
          const [where, near, around] = await Promise.all([
            fetch(`/locate?${q}`).then(r => r.json()),
            fetch(`/nearest?${q}&k=5`).then(r => r.json()),
            fetch(`/around?${q}&radius=150`).then(r => r.json())]);
          map.getSource('around')?.setData(around);
          const g = where.grid, s = around.summary;
          let html = `<h2>Location</h2><p>${lat.toFixed(6)}, ${lng.toFixed(6)}</p>`;
          if (g) {
            html += `<table><tr><td>Grid</td><td><b>${esc(g.code)}</b> ${esc(g.name)}</td></tr>
                     <tr><td>Worker</td><td>${esc(g.worker_name)} ${esc(g.worker_phone)}</td></tr>
                     <tr><td>Households</td><td>${esc(g.households)} (population ${esc(g.population)})</td></tr>`;
          } else {
            html += `<p class="warn">${({community_fallback: 'In no grid: the community answers (属地兜底)', street_fallback: 'In no grid or community: the street answers', district_fallback: 'Only in a district: the district answers'})[where.owner] || 'Outside every area'}</p><table>`;
          }
          for (const level of ['community', 'street', 'district'])
            if (where[level]) html += `<tr><td>${level}</td><td>${esc(where[level].name)} <span class="muted">${esc(where[level].code)}</span></td></tr>`;
          html += `</table><h2>Nearest resources</h2><table>`;
          for (const r of near.resources)
            html += `<tr><td>${esc(r.type)}</td><td>${esc(r.name ?? '')} <span class="muted">${esc(r.status)}</span></td><td>${r.distance_m.toFixed(0)} m ${r.bearing_deg.toFixed(0)}°</td></tr>`;
          html += `</table><h2>Within 150 m</h2><table>
                   <tr><td>Buildings</td><td>${s.buildings.count} (households ${s.buildings.households}, population ${s.buildings.population}, up to ${s.buildings.max_floors ?? '?'} floors)</td></tr>
                   <tr><td>Resources</td><td>${Object.entries(s.resources).map(([t, n]) => `${esc(t)} ${n}`).join(', ') || 'none'}</td></tr>
                   <tr><td>Roads</td><td>${[...new Set(s.roads.map(r => r.name).filter(Boolean))].map(esc).join(', ') || 'none'}</td></tr></table>`;
          document.getElementById('answer').innerHTML = html;
        });
        </script>
        </body>
        </html>
        """
}
