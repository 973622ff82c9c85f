// map.js: draws the geofence and check-in point of each figure.geomap
// over the operator's tile server with Leaflet (vendored from npm; loaded
// only when KANGFU_MAP_TILES is set — without it the server's SVG drawing
// stands alone and nothing is fetched from outside). The SVG stays in the
// page and is shown again if Leaflet cannot start.
(function () {
  'use strict';
  function draw(fig) {
    if (!window.L || fig.dataset.drawn) return;
    fig.dataset.drawn = '1';
    var box = document.createElement('div');
    box.className = 'leaflet-box';
    box.setAttribute('data-testid', 'geomap-leaflet');
    fig.insertBefore(box, fig.firstChild);
    try {
      var map = L.map(box, { scrollWheelZoom: false });
      map.attributionControl.setPrefix('Leaflet');
      L.tileLayer(fig.dataset.tiles, { attribution: fig.dataset.attribution || '', maxZoom: 19 }).addTo(map);
      var layers = [];
      var style = { color: '#0f766e', weight: 2, fillOpacity: 0.16 };
      if (fig.dataset.fence) {
        var f = JSON.parse(fig.dataset.fence);
        if (f.type === 'circle') layers.push(L.circle([f.lat, f.lng], Object.assign({ radius: f.radius_m }, style)));
        else layers.push(L.geoJSON(f, { style: style }));
      }
      if (fig.dataset.lat) {
        var p = [Number(fig.dataset.lat), Number(fig.dataset.lng)];
        if (Number(fig.dataset.acc) > 0) {
          layers.push(L.circle(p, { radius: Number(fig.dataset.acc), color: '#2563eb', weight: 1, dashArray: '4 3', fillOpacity: 0.12 }));
        }
        layers.push(L.circleMarker(p, { radius: 5, color: '#fff', weight: 1.5, fillColor: '#c0392b', fillOpacity: 1 }));
      }
      var group = L.featureGroup(layers).addTo(map);
      map.fitBounds(group.getBounds(), { padding: [16, 16], maxZoom: 17 });
      L.control.scale({ imperial: false }).addTo(map);
      fig.classList.add('tiled');
    } catch (e) {
      box.remove();
    }
  }
  function all() { document.querySelectorAll('figure.geomap[data-tiles]').forEach(draw); }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', all); else all();
  // A map inside a closed <details> has no size until it opens.
  document.addEventListener('toggle', function (e) {
    if (e.target.open) e.target.querySelectorAll('figure.geomap[data-tiles]').forEach(draw);
  }, true);
})();
