// The admin's Practice view: the practice's time zone (PUT /v1/practice/policy, the
// server checks the IANA name) and its locations (GET/POST /v1/locations, PATCH
// /v1/locations/{id}): name, address, rooms added, retired and brought back. A retired
// room keeps its past appointments and takes no new ones.
import { errorText } from './api.js';
import { $, el } from './dom.js';

// Every line of a textarea that holds something, trimmed.
const lines = (text) => text.split('\n').map((l) => l.trim()).filter(Boolean);

export function createPracticeView({ api, onZone, onLocations, onSessionEnded }) {
  let locations = [];

  function report(e, message = '') {
    if (e && onSessionEnded(e)) return;
    $('practice-error').textContent = errorText(e);
    $('practice-status').textContent = e ? '' : message;
  }

  // One change to a location; the list is drawn again from the answer.
  async function change(location, body, message, focusId) {
    try {
      const res = await api.call('PATCH', `/v1/locations/${encodeURIComponent(location.id)}`, { body });
      locations = locations.map((l) => (l.id === location.id ? res.location : l));
      draw();
      report(null, message);
      onLocations();
      $(focusId)?.focus();
    } catch (e) {
      report(e);
    }
  }

  // Rooms with a button each: `verb` names it, `done` says what it did.
  function roomList(l, rooms, verb, done, toBody) {
    return el('ul', { className: 'rooms' }, rooms.map((room) => el('li', {}, room, ' ',
      el('button', { type: 'button', onclick: () => change(l, toBody(room), `${done} ${room} at ${l.name}.`,
                                                           `loc-${l.id}-heading`) },
        `${verb} ${room}`))));
  }

  function locationForm(l) {
    const id = (part) => `loc-${l.id}-${part}`;
    const save = (e) => {
      e.preventDefault();
      const body = {};
      const name = $(id('name')).value.trim();
      const address = $(id('address')).value.trim();
      if (name !== l.name) body.name = name;
      if (address !== l.address) body.address = address;
      if (Object.keys(body).length === 0) { report(null, `Nothing to change at ${l.name}.`); return; }
      change(l, body, `Saved ${name || l.name}.`, id('heading'));
    };
    const addRoom = () => {
      const room = $(id('new-room')).value.trim();
      if (!room) { report({ field: 'add_rooms', message: 'add_rooms: give the new room a name' }); return; }
      change(l, { add_rooms: [room] }, `Added ${room} at ${l.name}.`, id('new-room'));
    };
    const retired = l.retired_rooms || [];
    return el('section', { className: 'location', 'aria-labelledby': id('heading') },
      el('h4', { id: id('heading'), tabindex: '-1' }, l.name),
      el('form', { className: 'form', onsubmit: save },
        el('label', { for: id('name') }, 'Name'), el('input', { id: id('name'), value: l.name, required: true }),
        el('label', { for: id('address') }, 'Address'),
        el('textarea', { id: id('address'), rows: '2' }, l.address),
        el('button', { type: 'submit' }, `Save ${l.name}`)),
      el('p', {}, (l.rooms || []).length ? 'Rooms in use:' : 'No rooms in use.'),
      roomList(l, l.rooms || [], 'Retire', 'Retired', (room) => ({ retire_rooms: [room] })),
      retired.length ? el('p', {}, 'Retired rooms:') : null,
      roomList(l, retired, 'Bring back', 'Brought back', (room) => ({ add_rooms: [room] })),
      el('div', { className: 'toolbar' },
        el('label', { for: id('new-room') }, 'New room'), el('input', { id: id('new-room'),
          onkeydown: (e) => { if (e.key === 'Enter') { e.preventDefault(); addRoom(); } } }),
        el('button', { type: 'button', onclick: addRoom }, `Add room to ${l.name}`)));
  }

  function draw() {
    $('locations').replaceChildren(...(locations.length ? locations.map(locationForm)
      : [el('p', {}, 'No locations yet: every appointment is by video until one is added.')]));
  }

  async function addLocation(e) {
    e.preventDefault();
    const body = { name: $('new-location-name').value.trim(), address: $('new-location-address').value.trim(),
                   rooms: lines($('new-location-rooms').value) };
    try {
      const res = await api.post('/v1/locations', body);
      locations.push(res.location);
      draw();
      $('location-add').reset();
      report(null, `Added ${res.location.name}.`);
      onLocations();
      $(`loc-${res.location.id}-heading`).focus();
    } catch (err) {
      report(err);
    }
  }

  async function setZone(e) {
    e.preventDefault();
    const zone = $('practice-zone').value.trim();
    try {
      const res = await api.call('PUT', '/v1/practice/policy', { body: { time_zone: zone } });
      const now = res.practice?.time_zone || '';
      report(null, now ? `The practice's time zone is ${now}.` : 'The practice has no time zone of its own now.');
      onZone(now);
    } catch (err) {
      report(err);
    }
  }

  $('zone-form').addEventListener('submit', setZone);
  $('location-add').addEventListener('submit', addLocation);

  return {
    async open() {
      try {
        const [me, listed] = await Promise.all([api.get('/v1/me'), api.get('/v1/locations')]);
        $('practice-zone').value = me.practice?.time_zone || '';
        if (!$('zone-names').children.length && Intl.supportedValuesOf) {
          $('zone-names').replaceChildren(...Intl.supportedValuesOf('timeZone').map((z) => el('option', { value: z })));
        }
        locations = listed.locations || [];
        draw();
        report(null, '');
      } catch (e) {
        report(e);
      }
    },
  };
}
