// The schedule: the appointments of a day (one column per therapist, one row per
// hour) or a week (one row per therapist, one column per day), in the browser's zone.
import { addDays, el, formatDay, formatShortDay, formatTime, isoDate, statusLabel, weekStart } from './dom.js';

// [from, to) of the range shown for `date` in `kind` ("day" | "week").
export function rangeOf(date, kind) {
  const from = kind === 'week' ? weekStart(date) : new Date(date.getFullYear(), date.getMonth(), date.getDate());
  return { from, to: addDays(from, kind === 'week' ? 7 : 1) };
}

export function rangeTitle(range, kind) {
  if (kind === 'day') return formatDay(range.from);
  return `Week of ${formatDay(range.from)}`;
}

// Drag and drop is a shortcut for Reschedule: an appointment that can still move is
// draggable onto another hour (day grid) or day (week grid) of its therapist; the
// new time keeps what the cell does not say (the minutes, or the time of day).
const movable = (a) => a.status === 'booked' || a.status === 'confirmed';

function dropCell(therapistId, day, hour, handlers) {
  const cell = el('td', { dataset: { therapist: therapistId, day: isoDate(day), ...(hour === undefined ? {} : { hour }) } });
  cell.addEventListener('dragover', (e) => {
    if (e.dataTransfer.types.includes(`therapist/${therapistId}`.toLowerCase())) e.preventDefault();  // types are lower-cased
  });
  cell.addEventListener('drop', (e) => {
    e.preventDefault();
    const a = handlers.byId.get(e.dataTransfer.getData('text/plain'));
    if (!a || a.therapist_id !== therapistId) return;
    const old = new Date(a.start_time);
    const start = new Date(day.getFullYear(), day.getMonth(), day.getDate(),
                           hour === undefined ? old.getHours() : hour, old.getMinutes());
    if (start.getTime() !== old.getTime()) handlers.onMove(a, start);
  });
  return cell;
}

function appointmentButton(a, names, onOpen, withTherapist) {
  const start = new Date(a.start_time);
  const end = new Date(a.end_time);
  const who = names.client(a.client_id);
  const label = [`${formatTime(start)}–${formatTime(end)}`, who, a.type_name,
                 withTherapist ? `with ${names.therapist(a.therapist_id)}` : '', statusLabel(a.status)]
    .filter(Boolean).join(' · ');
  const button = el('button', { type: 'button', className: `appt ${a.status}`, dataset: { appointmentId: a.id },
                                draggable: movable(a) ? 'true' : false, onclick: () => onOpen(a) }, label);
  button.addEventListener('dragstart', (e) => {
    e.dataTransfer.setData('text/plain', a.id);
    e.dataTransfer.setData(`therapist/${a.therapist_id}`.toLowerCase(), '');
    e.dataTransfer.effectAllowed = 'move';
  });
  return button;
}

function dayGrid(range, therapists, appointments, names, onOpen, handlers) {
  const hours = new Set();
  for (let h = 8; h < 18; ++h) hours.add(h);
  for (const a of appointments) hours.add(new Date(a.start_time).getHours());
  const table = el('table', { 'aria-label': 'Appointments by therapist and hour' },
    el('caption', {}, formatDay(range.from)),
    el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, 'Time'),
      therapists.map((t) => el('th', { scope: 'col' }, t.display_name)))));
  const body = el('tbody');
  for (const h of [...hours].sort((x, y) => x - y)) {
    const row = el('tr', {}, el('th', { scope: 'row' }, `${String(h).padStart(2, '0')}:00`));
    for (const t of therapists) {
      const here = appointments.filter((a) => a.therapist_id === t.id && new Date(a.start_time).getHours() === h);
      const cell = dropCell(t.id, range.from, h, handlers);
      cell.append(...here.map((a) => appointmentButton(a, names, onOpen, false)));
      row.append(cell);
    }
    body.append(row);
  }
  table.append(body);
  return table;
}

function weekGrid(range, therapists, appointments, names, onOpen, handlers) {
  const days = [...Array(7).keys()].map((i) => addDays(range.from, i));
  const table = el('table', { 'aria-label': 'Appointments by therapist and day' },
    el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, 'Therapist'),
      days.map((d) => el('th', { scope: 'col' }, formatShortDay(d))))));
  const body = el('tbody');
  for (const t of therapists) {
    const row = el('tr', {}, el('th', { scope: 'row' }, t.display_name));
    for (const d of days) {
      const key = isoDate(d);
      const here = appointments.filter((a) => a.therapist_id === t.id && isoDate(new Date(a.start_time)) === key);
      const cell = dropCell(t.id, d, undefined, handlers);
      cell.append(...here.map((a) => appointmentButton(a, names, onOpen, false)));
      row.append(cell);
    }
    body.append(row);
  }
  table.append(body);
  return table;
}

export function renderSchedule(container, { range, kind, therapists, appointments, names, onOpen, onMove }) {
  const sorted = [...appointments].sort((x, y) => x.start_time.localeCompare(y.start_time));
  const handlers = { onMove, byId: new Map(sorted.map((a) => [a.id, a])) };
  const grid = kind === 'week' ? weekGrid(range, therapists, sorted, names, onOpen, handlers)
                               : dayGrid(range, therapists, sorted, names, onOpen, handlers);
  const empty = sorted.length === 0 ? el('p', {}, 'No appointments.') : null;
  // A live update must not take the keyboard's place: focus stays on the same appointment.
  const focused = container.contains(document.activeElement) ? document.activeElement.dataset.appointmentId : '';
  container.replaceChildren(...[empty, grid].filter(Boolean));
  if (focused) container.querySelector(`[data-appointment-id="${CSS.escape(focused)}"]`)?.focus();
}
