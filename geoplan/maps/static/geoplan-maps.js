/*
 * geoplan maps: draws points, shapes and team-day routes from the JSON data blocks that
 * geoplan.maps writes into the page, and shows a route only while both its team and its day
 * are ticked in the layer control. Every text in the data was HTML-escaped by geoplan.
 */
(function () {
  "use strict";
  var gp = (window.geoplan = window.geoplan || {});
  gp.layers = {};
  gp.ready = false;

  // Markers without an icon of their own (the measuring tool's) must not fetch Leaflet's
  // default marker image: the page has no files beside it.
  if (window.L) {
    L.Marker.prototype.options.icon = L.divIcon({ className: "gp-plain-icon", iconSize: [10, 10] });
  }

  function read(id) {
    return JSON.parse(document.getElementById(id).textContent);
  }

  function makeIcon(style, label) {
    var w = style.size[0];
    var h = style.size[1];
    return L.divIcon({
      className: "gp-icon " + style.className,
      html: label ? style.html.replace("{label}", label) : style.html,
      iconSize: [w, h],
      iconAnchor: [w / 2, h / 2],
      popupAnchor: [0, -h / 2],
    });
  }

  // p = [lat, lon, style key, popup HTML, title (plain text), label HTML]
  function markers(points, styles) {
    var shared = {};
    return points.map(function (p) {
      var icon;
      if (p[5]) {
        icon = makeIcon(styles[p[2]], p[5]);
      } else {
        icon = shared[p[2]] || (shared[p[2]] = makeIcon(styles[p[2]], ""));
      }
      var marker = L.marker([p[0], p[1]], {
        icon: icon,
        title: p[4] || "",
        keyboard: false,
        riseOnHover: true,
        zIndexOffset: styles[p[2]].z || 0,
      });
      if (p[3]) marker.bindPopup(p[3], { maxWidth: 360 });
      return marker;
    });
  }

  function addAll(target, layers) {
    if (typeof target.addLayers === "function") {
      target.addLayers(layers);
    } else {
      layers.forEach(function (layer) {
        target.addLayer(layer);
      });
    }
  }

  gp.addPoints = function (target, id) {
    var data = read(id);
    var made = markers(data.points, data.styles);
    addAll(target, made);
    gp.layers[data.name] = { kind: "points", count: made.length, layer: target };
  };

  gp.addShapes = function (target, id) {
    var data = read(id);
    var shapes = L.geoJSON(data.geojson, {
      style: function (feature) {
        return feature.properties.style;
      },
      onEachFeature: function (feature, layer) {
        var props = feature.properties;
        if (props.popup) layer.bindPopup(props.popup, { maxWidth: 360 });
        if (props.tooltip) layer.bindTooltip(props.tooltip, { sticky: true });
      },
    });
    target.addLayer(shapes);
    gp.layers[data.name] = {
      kind: "shapes",
      count: data.geojson.features.length,
      layer: target,
    };
  };

  gp.addPlan = function (map, id, teamGroups, dayGroups) {
    var data = read(id);
    var shown = L.layerGroup().addTo(map);
    var items = data.routes.map(function (route) {
      var line = L.polyline(route.coords, {
        color: route.colour,
        weight: 4,
        opacity: 0.85,
        className: "gp-route",
      });
      if (route.popup) line.bindPopup(route.popup, { maxWidth: 360 });
      var parts = [line].concat(markers(route.stops, data.styles));
      return { team: route.team, day: route.day, layer: L.layerGroup(parts) };
    });
    function sync() {
      items.forEach(function (item) {
        var on = map.hasLayer(teamGroups[item.team]) && map.hasLayer(dayGroups[item.day]);
        if (on && !shown.hasLayer(item.layer)) shown.addLayer(item.layer);
        if (!on && shown.hasLayer(item.layer)) shown.removeLayer(item.layer);
      });
    }
    map.on("overlayadd overlayremove", sync);
    sync();
    gp.layers[data.name] = { kind: "routes", count: items.length, layer: shown };
  };

  // Room for the title block, the legend and the layer control, so that no data starts
  // hidden under them (at most a third of the map each way).
  function padding(map) {
    var size = map.getSize();
    function width(selector) {
      var el = document.querySelector(selector);
      return el ? el.offsetWidth : 0;
    }
    var title = document.querySelector(".gp-title");
    var top = title ? title.offsetTop + title.offsetHeight : 0;
    return {
      paddingTopLeft: [Math.min(width(".gp-legend") + 30, size.x / 3), Math.min(top + 20, size.y / 3)],
      paddingBottomRight: [Math.min(width(".leaflet-control-layers") + 30, size.x / 3), 40],
    };
  }

  gp.finish = function (map, bounds) {
    function fit() {
      if (bounds) map.fitBounds(bounds, padding(map));
    }
    fit();
    window.addEventListener("beforeprint", function () {
      map.invalidateSize(false);
      fit();
    });
    window.addEventListener("afterprint", function () {
      map.invalidateSize(false);
    });
    gp.ready = true;
  };
})();
