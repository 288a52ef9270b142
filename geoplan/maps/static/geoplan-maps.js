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

  // The offline base map: land, water, roads by class and boundaries on one canvas under
  // every layer; place names (bigger places first, smaller ones as you zoom in) above them.
  gp.addBasemap = function (map, id) {
    var data = read(id);
    var look = data.look;
    map.getContainer().style.background = look.background;
    if (!data.features.length && !data.labels.length) return;
    map.createPane("gpBase").style.zIndex = 150;
    map.createPane("gpNames").style.zIndex = 450;
    map.getPane("gpBase").style.pointerEvents = "none";
    map.getPane("gpNames").style.pointerEvents = "none";
    var renderer = L.canvas({ pane: "gpBase", padding: 0.3 });
    var order = { land: 0, water: 1, coast: 2, boundary: 3, road: 4, place: 5 };
    var shapes = data.features.filter(function (f) {
      return f.properties.kind !== "place";
    });
    shapes.sort(function (a, b) {
      var ka = order[a.properties.kind], kb = order[b.properties.kind];
      return ka !== kb ? ka - kb : b.properties.rank - a.properties.rank;
    });
    L.geoJSON(shapes, {
      renderer: renderer,
      interactive: false,
      style: function (f) {
        var p = f.properties;
        var style = p.kind === "road" ? look.roads[Math.min(p.rank, look.roads.length - 1)] : look[p.kind];
        return L.extend({ renderer: renderer, interactive: false, lineCap: "round" }, style);
      },
    }).addTo(map);
    var labels = data.features
      .filter(function (f) {
        return f.properties.kind === "place";
      })
      .map(function (f) {
        var c = f.geometry.coordinates;
        return [c[1], c[0], f.properties.name, f.properties.rank];
      })
      .concat(data.labels);
    var names = labels.map(function (l) {
      var span = document.createElement("span");
      span.textContent = l[2];
      return {
        rank: l[3],
        marker: L.marker([l[0], l[1]], {
          pane: "gpNames",
          interactive: false,
          keyboard: false,
          icon: L.divIcon({ className: "gp-place gp-place-" + l[3], html: span.outerHTML, iconSize: null }),
        }),
      };
    });
    var shown = L.layerGroup().addTo(map);
    function byZoom() {
      var z = map.getZoom();
      names.forEach(function (n) {
        var on = n.rank <= Math.max(0, z - 8);
        if (on && !shown.hasLayer(n.marker)) shown.addLayer(n.marker);
        if (!on && shown.hasLayer(n.marker)) shown.removeLayer(n.marker);
      });
    }
    map.on("zoomend", byZoom);
    map.whenReady(byZoom);
    if (data.attribution && map.attributionControl) map.attributionControl.addAttribution(data.attribution);
    gp.layers.basemap = { kind: "basemap", count: data.features.length, layer: shown };
  };

  // The plan: one day at a time (the buttons in the title block, or the whole week), each
  // team's routes while the team is ticked in the layer control; the panel marks the day.
  gp.addPlan = function (map, id, teamGroups) {
    var data = read(id);
    var shown = L.layerGroup().addTo(map);
    var day = data.firstDay;
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
        var on = map.hasLayer(teamGroups[item.team]) && (day === "week" || item.day === day);
        if (on && !shown.hasLayer(item.layer)) shown.addLayer(item.layer);
        if (!on && shown.hasLayer(item.layer)) shown.removeLayer(item.layer);
      });
      document.querySelectorAll(".gp-day").forEach(function (b) {
        b.classList.toggle("gp-on", b.getAttribute("data-day") === day);
        b.setAttribute("aria-pressed", b.getAttribute("data-day") === day ? "true" : "false");
      });
      document.querySelectorAll(".gp-panel .gp-grid").forEach(function (grid) {
        grid.classList.toggle("gp-one-day", day !== "week");
        grid.querySelectorAll("[data-day]").forEach(function (c) {
          c.classList.toggle("gp-on", c.getAttribute("data-day") === day);
        });
      });
    }
    gp.showDay = function (d) {
      day = d;
      sync();
    };
    document.querySelectorAll(".gp-day").forEach(function (b) {
      L.DomEvent.disableClickPropagation(b);
      b.addEventListener("click", function () {
        gp.showDay(b.getAttribute("data-day"));
      });
    });
    map.on("overlayadd overlayremove", sync);
    sync();
    gp.layers[data.name] = { kind: "routes", count: items.length, layer: shown };
  };

  // Room for the title block, the legend and the layer control, so that no data starts
  // hidden under them (at most a third of the map each way).
  function padding(map, inPrint) {
    var size = map.getSize();
    function width(selector) {
      var el = document.querySelector(selector);
      return el ? el.offsetWidth : 0;
    }
    var title = document.querySelector(".gp-title");
    var top = title ? title.offsetTop + title.offsetHeight : 0;
    var panel = document.querySelector(".gp-panel");
    var bottom = panel && !inPrint ? panel.offsetHeight + 40 : 40;
    return {
      paddingTopLeft: [Math.min(width(".gp-legend") + 30, size.x / 3), Math.min(top + 20, size.y / 3)],
      paddingBottomRight: [
        inPrint ? 20 : Math.min(width(".leaflet-control-layers") + 30, size.x / 3),
        Math.min(bottom, size.y / 3),
      ],
    };
  }

  // Below 700 px the legend, the panels and the layer control start folded into buttons.
  function small(map) {
    if (window.innerWidth >= 700) return;
    document.body.classList.add("gp-small");
    document.querySelectorAll(".gp-legend, .gp-panel").forEach(function (d) {
      d.open = false;
    });
    var layers = document.querySelector(".leaflet-control-layers");
    if (!layers) return;
    layers.classList.remove("leaflet-control-layers-expanded");
    var toggle = layers.querySelector(".leaflet-control-layers-toggle");
    if (toggle) {
      toggle.addEventListener("click", function (e) {
        e.preventDefault();
        layers.classList.add("leaflet-control-layers-expanded"); // a tap on the map folds it
      });
    }
    map.on("click", function () {
      layers.classList.remove("leaflet-control-layers-expanded");
    });
  }

  // A popup opens clear of the title block, the legend, the panels and the layer control.
  function clearOfControls(map) {
    map.on("popupopen", function (e) {
      var box = map.getContainer().getBoundingClientRect();
      var left = 10, top = 10, right = 10, bottom = 10;
      document.querySelectorAll(".gp-title, .gp-legend, .gp-panel, .leaflet-control-layers").forEach(function (el) {
        var r = el.getBoundingClientRect();
        if (!r.width) return;
        if (r.left - box.left < box.width / 3) left = Math.max(left, r.right - box.left + 10);
        else right = Math.max(right, box.right - r.left + 10);
        if (r.top - box.top < box.height / 3) top = Math.max(top, r.bottom - box.top + 10);
        else bottom = Math.max(bottom, box.bottom - r.top + 10);
      });
      left = Math.min(left, box.width / 3);
      right = Math.min(right, box.width / 3);
      top = Math.min(top, box.height / 2);
      bottom = Math.min(bottom, box.height / 3);
      e.popup.options.autoPanPaddingTopLeft = L.point(left, top);
      e.popup.options.autoPanPaddingBottomRight = L.point(right, bottom);
      if (typeof e.popup._adjustPan === "function") e.popup._adjustPan();
    });
  }

  gp.finish = function (map, bounds) {
    var printing = window.matchMedia ? window.matchMedia("print") : null;
    function fit() {
      if (!bounds) return;
      var inPrint = printing && printing.matches;
      var snap = map.options.zoomSnap;
      if (inPrint) map.options.zoomSnap = 0;
      map.fitBounds(bounds, L.extend(padding(map, inPrint), { animate: false }));
      map.options.zoomSnap = snap;
    }
    function refit() {
      map.invalidateSize(false);
      fit();
    }
    small(map);
    clearOfControls(map);
    fit();
    window.addEventListener("beforeprint", refit);
    window.addEventListener("afterprint", refit);
    if (printing && printing.addEventListener) printing.addEventListener("change", refit);
    gp.ready = true;
  };
})();
