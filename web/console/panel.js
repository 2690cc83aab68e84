// The side panel: a new booking, or one appointment with its changes (reschedule by
// picking an open slot, cancel with a reason, no-show). Every control is a native,
// labelled form control, so the whole flow works from the keyboard.
import { errorText, idempotencyKey } from './api.js';
import { $, addDays, el, formatDay, formatTime, instant, isoDate, parseDate, statusLabel, wall } from './dom.js';

function say(text, isError = false) {
  const status = $('panel-status');
  status.textContent = text;
  status.className = isError ? 'error' : '';
}

function failure(e) { say(errorText(e), true); }

// Where focus goes back to when the panel closes: the appointment it shows (its
// button in the grid, however often live updates redrew it), else New booking.
let returnTo = '';

function openPanel(title, appointmentId, ...content) {
  returnTo = appointmentId;
  $('panel-title').textContent = title;
  $('panel-body').replaceChildren(...content);
  say('');
  $('panel').hidden = false;
  $('panel-title').focus();
}

export function closePanel({ restoreFocus = false } = {}) {
  $('panel').hidden = true;
  $('panel-body').replaceChildren();
  if (!restoreFocus) return;
  const button = returnTo && document.querySelector(`#grid [data-appointment-id="${CSS.escape(returnTo)}"]`);
  (button || $('new-booking')).focus();
}

// A radio group of choices: [{value, label}]. The checked value is read by name.
function choiceGroup(legend, name, choices) {
  return el('fieldset', {}, el('legend', {}, legend),
    el('div', { className: 'choices' }, choices.map((c, i) => {
      const id = `${name}-${i}`;
      return el('span', {}, el('input', { type: 'radio', name, id, value: c.value }), el('label', { for: id }, c.label));
    })));
}

function checked(form, name) { return form.querySelector(`input[name="${name}"]:checked`)?.value || ''; }

// Date + "Find open slots" + the slots found, as a radio group named "slot".
function slotPicker(api, prefix, date, query) {
  const dateInput = el('input', { id: `${prefix}-date`, type: 'date', value: isoDate(date), required: true });
  const slots = el('div', { id: `${prefix}-slots` });
  const find = async () => {
    const q = query();
    if (!q) return;
    const from = parseDate(dateInput.value);
    const to = addDays(from, 1);
    try {
      const res = await api.get(`/v1/therapists/${encodeURIComponent(q.therapist_id)}/slots`,
                                { type_id: q.type_id, from: instant(from).toISOString(), to: instant(to).toISOString() });
      const open = (res.slots || []).filter((s) => new Date(s.start_time) > new Date());
      slots.replaceChildren(open.length === 0 ? el('p', {}, `No open slots on ${formatDay(from)}.`)
        : choiceGroup(`Open slots on ${formatDay(from)}`, 'slot',
                      open.map((s) => ({ value: s.start_time, label: formatTime(wall(s.start_time)) }))));
      say(`${open.length} open slot${open.length === 1 ? '' : 's'}`);
    } catch (e) { failure(e); }
  };
  return {
    nodes: [el('label', { for: `${prefix}-date` }, 'Day'), dateInput,
            el('button', { type: 'button', id: `${prefix}-find`, onclick: find }, 'Find open slots'), slots],
    find,
  };
}

function select(id, label, options, value) {
  return [el('label', { for: id }, label),
          el('select', { id, required: true },
             options.map((o) => el('option', { value: o.value, selected: o.value === value }, o.label)))];
}

// Where the booking happens: the type's way unless changed, and for in person a
// location (the type's default first) and one of its rooms in use.
function placeFields(directory, form) {
  const modality = el('select', { id: 'book-modality' },
    [['', 'As the type says'], ['in_person', 'In person'], ['telehealth', 'Video']]
      .map(([value, label]) => el('option', { value }, label)));
  const location = el('select', { id: 'book-location' });
  const room = el('select', { id: 'book-room' });
  const type = () => directory.types.find((t) => t.id === form.querySelector('#book-type')?.value);
  const inPerson = () => (modality.value || type()?.modality) === 'in_person';
  const fillRooms = () => {
    const chosen = directory.locations.find((l) => l.id === location.value);
    room.replaceChildren(el('option', { value: '' }, 'No particular room'),
                         ...(chosen?.rooms || []).map((r) => el('option', { value: r }, r)));
  };
  const refresh = () => {
    const fallback = type()?.default_location_id || '';
    location.replaceChildren(el('option', { value: '' }, 'No location'),
      ...directory.locations.map((l) => el('option', { value: l.id, selected: l.id === fallback }, l.name)));
    location.disabled = room.disabled = !inPerson();
    fillRooms();
  };
  modality.addEventListener('change', refresh);
  location.addEventListener('change', fillRooms);
  form.addEventListener('change', (e) => { if (e.target.id === 'book-type') refresh(); });
  return {
    nodes: [el('label', { for: 'book-modality' }, 'How'), modality,
            el('label', { for: 'book-location' }, 'Location'), location,
            el('label', { for: 'book-room' }, 'Room'), room],
    refresh,
    // The booking's fields; the type's defaults are left for the server to apply.
    body: () => {
      const out = {};
      if (modality.value) out.modality = modality.value;
      if (inPerson() && location.value) out.location_id = location.value;
      if (inPerson() && room.value) out.room = room.value;
      return out;
    },
  };
}

// "Harbour House, Room 2", "Video", or '' when the appointment says nothing of where.
export function placeOf(a) {
  if (a.modality === 'telehealth') return 'Video';
  return [a.location_name, a.room].filter(Boolean).join(', ');
}

export function openBooking({ api, directory, date, onDone }) {
  const search = el('input', { id: 'book-client-search', type: 'search', autocomplete: 'off',
                               'aria-describedby': 'book-client-hint' });
  const results = el('div', { id: 'book-client-results' });
  let latest = 0;  // answers can arrive out of order while typing: show the last query's
  const runSearch = async () => {
    const mine = ++latest;
    let found;
    try { found = await directory.searchClients(search.value); } catch (e) { return failure(e); }
    if (mine !== latest) return;
    results.replaceChildren(found.length === 0 ? el('p', {}, search.value.trim() ? 'No client matches.' : '')
      : choiceGroup('Matching clients', 'client',
                    found.map((c) => ({ value: c.id, label: `${c.display_name} (${c.email})` }))));
  };
  let typing = 0;  // one search per pause in typing, not per key
  search.addEventListener('input', () => { clearTimeout(typing); typing = setTimeout(runSearch, 150); });
  search.addEventListener('keydown', (e) => { if (e.key === 'Enter') { e.preventDefault(); clearTimeout(typing); runSearch(); } });
  const therapists = directory.therapists.map((t) => ({ value: t.id, label: t.display_name }));
  const types = directory.types.map((t) => ({ value: t.id, label: `${t.name} (${t.duration_minutes} min)` }));
  const form = el('form', { className: 'form', id: 'book-form', novalidate: true });
  const place = placeFields(directory, form);
  const picker = slotPicker(api, 'book', date, () => {
    const q = { therapist_id: form.querySelector('#book-therapist').value, type_id: form.querySelector('#book-type').value };
    if (!q.therapist_id || !q.type_id) { say('Choose a therapist and an appointment type first.', true); return null; }
    return q;
  });
  form.append(el('label', { for: 'book-client-search' }, 'Client'), search,
              el('small', { id: 'book-client-hint' }, 'Type a name or the start of an email.'), results,
              ...select('book-therapist', 'Therapist', therapists, therapists[0]?.value),
              ...select('book-type', 'Appointment type', types, types[0]?.value),
              ...place.nodes, ...picker.nodes, el('button', { type: 'submit', id: 'book-submit' }, 'Book'));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const client_id = checked(form, 'client');
    const start_time = checked(form, 'slot');
    if (!client_id) return say('Choose a client.', true);
    if (!start_time) return say('Choose an open slot.', true);
    try {
      const res = await api.post('/v1/appointments', {
        idempotency_key: idempotencyKey('book'), client_id, start_time,
        therapist_id: form.querySelector('#book-therapist').value, type_id: form.querySelector('#book-type').value,
        ...place.body(),
      });
      const a = res.appointment;
      const where = placeOf(a) ? ` (${placeOf(a)})` : '';
      say(`Booked ${directory.client(a.client_id)} at ${formatTime(wall(a.start_time))} on ${formatDay(wall(a.start_time))}${where}.`);
      form.querySelectorAll('input[name="slot"]').forEach((i) => { i.disabled = true; });
      onDone(a);
    } catch (err) { failure(err); }
  });
  place.refresh();
  openPanel('New booking', '', form);
}

export function openAppointment({ api, directory, appointment: a, onDone }) {
  const start = wall(a.start_time);
  const live = a.status === 'booked' || a.status === 'confirmed';
  const details = el('dl', { className: 'details' },
    el('dt', {}, 'When'), el('dd', {}, `${formatDay(start)}, ${formatTime(start)}–${formatTime(wall(a.end_time))}`),
    el('dt', {}, 'Client'), el('dd', {}, directory.client(a.client_id)),
    el('dt', {}, 'Therapist'), el('dd', {}, directory.therapist(a.therapist_id)),
    el('dt', {}, 'Type'), el('dd', {}, a.type_name),
    placeOf(a) ? [el('dt', {}, 'Where'), el('dd', { id: 'appointment-where' }, placeOf(a))] : [],
    el('dt', {}, 'Status'), el('dd', { id: 'appointment-status' }, statusLabel(a.status)),
    a.cancel_reason ? [el('dt', {}, 'Reason'), el('dd', {}, a.cancel_reason)] : [],
    a.staff_note ? [el('dt', {}, 'Staff note'), el('dd', { className: 'note' }, a.staff_note)] : []);
  const change = async (path, body, done) => {
    try {
      const res = await api.post(`/v1/appointments/${encodeURIComponent(a.id)}/${path}`,
                                 { expected_version: a.version, idempotency_key: idempotencyKey(path), ...body });
      onDone(res.appointment);
      openAppointment({ api, directory, appointment: res.appointment, onDone });
      say(done);
    } catch (e) { failure(e); }
  };
  const actions = [];
  if (live) {
    const picker = slotPicker(api, 'move', start, () => ({ therapist_id: a.therapist_id, type_id: a.type_id }));
    const move = el('form', { className: 'form', id: 'reschedule-form', novalidate: true },
      el('h3', {}, 'Reschedule'), ...picker.nodes, el('button', { type: 'submit', id: 'reschedule-submit' }, 'Move here'));
    move.addEventListener('submit', (e) => {
      e.preventDefault();
      const new_start_time = checked(move, 'slot');
      if (!new_start_time) return say('Choose an open slot.', true);
      change('reschedule', { new_start_time }, `Moved to ${formatTime(wall(new_start_time))} on ${formatDay(wall(new_start_time))}.`);
    });
    const reason = el('textarea', { id: 'cancel-reason', rows: 2, maxlength: 500, required: true });
    const cancel = el('form', { className: 'form', id: 'cancel-form', novalidate: true },
      el('h3', {}, 'Cancel'), el('label', { for: 'cancel-reason' }, 'Reason for cancelling'), reason,
      el('button', { type: 'submit', id: 'cancel-submit' }, 'Cancel appointment'));
    cancel.addEventListener('submit', (e) => {
      e.preventDefault();
      if (!reason.value.trim()) return say('reason: say why the appointment is cancelled.', true);
      change('cancel', { reason: reason.value.trim() }, 'Cancelled.');
    });
    actions.push(move, cancel);
    // Only once it has started, as scheduling allows.
    if (new Date(a.start_time) <= new Date())
      actions.push(el('button', { type: 'button', id: 'no-show', onclick: () => change('no-show', {}, 'Marked as a no-show.') },
                      'Mark no-show'));
  }
  openPanel(`${directory.client(a.client_id)}, ${formatTime(start)}`, a.id, details, ...actions);
}
