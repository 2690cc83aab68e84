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

// "2026-12-03" of a Date in the browser's zone.
export function isoDate(d) {
  const pad = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

// The local midnight starting "2026-12-03".
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
