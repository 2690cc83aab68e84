// Small DOM and time helpers. Text always goes in through textContent, so a name
// holding markup is shown, never run.

// el('button', {type: 'button', onclick: f}, 'text', child, ...)
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else if (k === 'className') node.className = v;
    else if (k === 'dataset') Object.assign(node.dataset, v);
    else node.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

export function $(id) { return document.getElementById(id); }

// For a view whose loads can overlap (a quick "Next", a second "Show"): each call of the
// returned function starts a load and gives back a check that stays true until a newer
// load starts, so an older answer arriving late is dropped instead of drawn.
export function newestLoad() {
  let latest = 0;
  return () => {
    const mine = ++latest;
    return () => mine === latest;
  };
}

// The console shows the practice's day on the practice's clock, whatever the browser's
// zone: instants from the API become "wall" Dates, whose fields (getHours, getDate...)
// read the practice's wall clock, and go back to instants only when sent. Every Date
// below that is not an instant from or for the API is such a wall Date.
let zone = '';  // the practice's IANA zone; '' = the browser's own
let partsFormat = null;

export function setZone(name) {
  zone = name || '';
  partsFormat = zone ? new Intl.DateTimeFormat('en-US', {
    timeZone: zone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric',
    hour: 'numeric', minute: 'numeric', second: 'numeric' }) : null;
}

// The zone the schedule is shown in.
export const viewZone = () => zone || Intl.DateTimeFormat().resolvedOptions().timeZone;

// An instant (a Date or RFC 3339 text) on the practice's wall clock.
export function wall(instant) {
  const d = new Date(instant);
  if (!partsFormat) return d;
  const p = Object.fromEntries(partsFormat.formatToParts(d).map((x) => [x.type, Number(x.value)]));
  return new Date(p.year, p.month - 1, p.day, p.hour, p.minute, p.second, d.getMilliseconds());
}

// The instant a wall Date stands for: a first guess corrected by how far its own wall
// reading is off, twice so a guess across an offset change settles.
export function instant(wallDate) {
  if (!partsFormat) return new Date(wallDate);
  let t = wallDate.getTime();
  for (let i = 0; i < 2; ++i) t += wallDate.getTime() - wall(new Date(t)).getTime();
  return new Date(t);
}

// "2026-12-03" of a wall Date.
export function isoDate(d) {
  const pad = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

// The wall midnight starting "2026-12-03".
export function parseDate(text) {
  const [y, m, d] = text.split('-').map(Number);
  return new Date(y, m - 1, d);
}

export function addDays(d, n) {
  const out = new Date(d);
  out.setDate(out.getDate() + n);
  return out;
}

// Monday of the week holding `d`.
export function weekStart(d) {
  return addDays(d, -((d.getDay() + 6) % 7));
}

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', hour12: false });
const dayFormat = new Intl.DateTimeFormat(undefined, { weekday: 'long', day: 'numeric', month: 'long', year: 'numeric' });
const shortDayFormat = new Intl.DateTimeFormat(undefined, { weekday: 'short', day: 'numeric', month: 'short' });

export const formatTime = (d) => timeFormat.format(d);
export const formatDay = (d) => dayFormat.format(d);
export const formatShortDay = (d) => shortDayFormat.format(d);

export const statusLabel = (s) => ({ booked: 'Booked', confirmed: 'Confirmed', cancelled: 'Cancelled',
                                     completed: 'Completed', no_show: 'No-show' })[s] || s;
