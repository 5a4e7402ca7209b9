// The public grid board: a small map of the grid; a tap on it sets the report's location (WGS84,
// the frame the grid is drawn in). Text goes into the page only as text nodes.
(function () {
  "use strict";
  const { byId: $, readJSON, fmt, hex, contains } = Wangge;
  const config = readJSON("board-config");
  const t = readJSON("board-i18n");

  // ------------------------------------------------------------ map
  const touch = L.Browser.mobile || L.Browser.touch;
  const map = L.map("board-map", {
    zoomSnap: 0.25,
    scrollWheelZoom: false,
    dragging: !L.Browser.mobile, // one finger scrolls the page on phones; taps still pick a point
  });
  map.attributionControl.setPrefix(false);
  L.control.scale({ imperial: false }).addTo(map);
  Wangge.baseLayer(map, config);

  if (config.village) {
    L.geoJSON(config.village, {
      style: { color: "#1f4e79", weight: 2, dashArray: "6 4", fill: false },
      interactive: false,
    }).addTo(map);
  }
  const gridLayer = L.geoJSON(config.grid, {
    style: { color: "#c0392b", weight: 3, fillColor: "#e8f1fa", fillOpacity: 0.6 },
    interactive: false,
  }).addTo(map);
  const bounds = gridLayer.getBounds();
  if (bounds.isValid()) map.fitBounds(bounds, { padding: [16, 16] });
  else map.setView([config.point.lat, config.point.lng], 14);

  // printing changes the map's size: redraw it for the paper, and back
  const refit = () => {
    map.invalidateSize({ animate: false });
    if (bounds.isValid()) map.fitBounds(bounds, { padding: [16, 16], animate: false });
  };
  window.addEventListener("beforeprint", refit);
  window.addEventListener("afterprint", refit);
  if (window.matchMedia) window.matchMedia("print").addEventListener("change", refit);

  // ------------------------------------------------------------ picking the report's location
  const form = $("report-form");
  const where = $("where");
  const lngInput = $("lng");
  const latInput = $("lat");
  const clear = $("clear-point");
  let marker = null;
  const submit = $("submit-report");
  const submitLabel = submit ? submit.textContent : "";

  function show(lng, lat) {
    if (marker) marker.setLatLng([lat, lng]);
    else {
      marker = L.circleMarker([lat, lng], {
        radius: 8, weight: 3, color: "#fff", fillColor: "#d35400", fillOpacity: 1, className: "picked",
      }).addTo(map);
    }
    let text = fmt(t.picked, { lat: lat.toFixed(6), lng: lng.toFixed(6) });
    if (!contains(config.grid, lng, lat)) text += " · " + t.outside; // even-odd rule
    where.textContent = text;
    clear.hidden = false;
  }

  function pick(latlng) {
    const lng = latlng.lng;
    const lat = latlng.lat;
    lngInput.value = lng.toFixed(7);
    latInput.value = lat.toFixed(7);
    show(lng, lat);
  }

  if (form) {
    map.on("click", (e) => pick(e.latlng));
    if (config.picked) show(config.picked.lng, config.picked.lat);
    clear.addEventListener("click", () => {
      lngInput.value = "";
      latInput.value = "";
      if (marker) {
        map.removeLayer(marker);
        marker = null;
      }
      where.textContent = t.none;
      clear.hidden = true;
    });
    // up to 3 photos: said as they are chosen, and a form with more is not sent (the server refuses it too)
    const photos = $("photos");
    const tooMany = () => photos && photos.files.length > 3;
    if (photos) {
      photos.addEventListener("change", () => {
        const note = $("photos-chosen");
        note.textContent = tooMany() ? t.tooMany : photos.files.length ? fmt(t.photos, { n: photos.files.length }) : "";
        note.classList.toggle("field-error", tooMany());
      });
    }
    form.addEventListener("submit", (ev) => {
      if (tooMany()) {
        ev.preventDefault();
        $("photos-chosen").textContent = t.tooMany;
        photos.focus();
        return;
      }
      // the server also refuses a second incident from the same form; this only spares a second trip
      submit.disabled = true;
      submit.textContent = t.sending;
    });
  }

  // Back to this page from the receipt (bfcache): a new form, so a second report is not taken
  // for a repeat of the first.
  window.addEventListener("pageshow", (e) => {
    if (!e.persisted || !form) return;
    $("form_key").value = hex(crypto.getRandomValues(new Uint8Array(18)));
    submit.disabled = false;
    submit.textContent = submitLabel;
  });

  const printButton = $("print-page");
  if (printButton) printButton.addEventListener("click", () => window.print());
  if (touch) document.body.classList.add("touch");
  document.body.dataset.boardReady = "1";
})();
