// The schedule from the calendar view: a day (one column per therapist, one row per
// hour) or a week (one row per therapist, one column per day) of appointments, time
// blocks, days off and working hours (time outside them is greyed), on the practice's
// clock (dom.js: every Date here is a wall Date; onMove gets one too).
import { addDays, el, formatDay, formatShortDay, formatTime, isoDate, statusLabel, wall, weekStart } from './dom.js';

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
    const old = wall(a.start_time);
    const start = new Date(day.getFullYear(), day.getMonth(), day.getDate(),
                           hour === undefined ? old.getHours() : hour, old.getMinutes());
    if (start.getTime() !== old.getTime()) handlers.onMove(a, start);
  });
  return cell;
}

function appointmentButton(a, names, onOpen, withTherapist) {
  const start = wall(a.start_time);
  const end = wall(a.end_time);
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

// What a therapist's calendar (the calendar view's TherapistCalendar) says of [from, to).
const spanIn = (span, from, to) => wall(span.start_time) < to && wall(span.end_time) > from;
const startsIn = (span, from, to) => wall(span.start_time) >= from && wall(span.start_time) < to;
const isOpen = (t, from, to) => (t.cal?.working_hours || []).some((w) => spanIn(w, from, to));
const isOff = (t, from, to) => (t.cal?.time_off || []).some((o) => spanIn(o, from, to));

// A time block in the grid: staff see why the time is taken; it is not a button.
function blockNotes(t, from, to) {
  return (t.cal?.blocks || []).filter((b) => startsIn(b.span, from, to)).map((b) =>
    el('p', { className: 'block' },
       `Blocked ${formatTime(wall(b.span.start_time))}–${formatTime(wall(b.span.end_time))}`,
       b.reason ? ` · ${b.reason}` : ''));
}

function cellFor(t, from, to, hour, appointments, names, onOpen, handlers) {
  const cell = dropCell(t.id, from, hour, handlers);
  if (isOff(t, from, to)) {
    cell.classList.add('closed');
    if (hour === undefined || !isOpen(t, from, to)) cell.append(el('p', { className: 'block' }, 'Day off'));
  } else if (!isOpen(t, from, to)) {
    cell.classList.add('closed');
  }
  const here = appointments.filter((a) => a.therapist_id === t.id && startsIn(a, from, to));
  cell.append(...blockNotes(t, from, to), ...here.map((a) => appointmentButton(a, names, onOpen, false)));
  return cell;
}

function dayGrid(range, therapists, appointments, names, onOpen, handlers) {
  const hours = new Set();
  for (let h = 8; h < 18; ++h) hours.add(h);
  const addHours = (span) => {
    const start = wall(span.start_time);
    const end = wall(span.end_time);
    if (start >= range.to || end <= range.from) return;
    const first = start < range.from ? 0 : start.getHours();
    const last = end >= range.to ? 23 : new Date(end - 1).getHours();
    for (let h = first; h <= last; ++h) hours.add(h);
  };
  for (const t of therapists) (t.cal?.working_hours || []).forEach(addHours);
  for (const t of therapists) (t.cal?.blocks || []).forEach((b) => addHours(b.span));
  for (const a of appointments) hours.add(wall(a.start_time).getHours());
  const table = el('table', { 'aria-label': 'Appointments by therapist and hour' },
    el('caption', {}, formatDay(range.from)),
    el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, 'Time'),
      therapists.map((t) => el('th', { scope: 'col' }, t.display_name)))));
  const body = el('tbody');
  for (const h of [...hours].sort((x, y) => x - y)) {
    const from = new Date(range.from.getFullYear(), range.from.getMonth(), range.from.getDate(), h);
    const to = new Date(from.getTime() + 3600 * 1000);
    const row = el('tr', {}, el('th', { scope: 'row' }, `${String(h).padStart(2, '0')}:00`));
    for (const t of therapists) row.append(cellFor(t, from, to, h, appointments, names, onOpen, handlers));
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
    for (const d of days) row.append(cellFor(t, d, addDays(d, 1), undefined, appointments, names, onOpen, handlers));
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
