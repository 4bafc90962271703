import Foundation
import Hummingbird

/// `GET /map`: the dispatcher's demo page. MapLibre GL JS draws /style.json; a click asks /locate, /nearest and
/// /around and shows the grid, its worker and community, the nearest resources and the surroundings. MapLibre's
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
        </style>
        </head>
        <body>
        <div id="map"></div>
        <div id="panel">
          <h1>GeoGrid dispatch map</h1>
          <p class="muted">Click the map: the owning grid and its worker, the nearest resources and what stands within 150 m.</p>
          <div id="answer"></div>
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
