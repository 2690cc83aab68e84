// The front desk console: sign in, the practice's schedule (day or week), bookings
// and their changes, the waitlist, kept current by the gateway's live pushes. It uses
// only the public API and never reads messages.
import { Api, ApiError, errorText, idempotencyKey } from './api.js';
import { createAuditView } from './audit.js';
import { $, addDays, el, formatDay, formatTime, instant, isoDate, newestLoad, parseDate, setZone, viewZone,
  wall } from './dom.js';
import { connectLive } from './live.js';
import { closePanel, openAppointment, openBooking } from './panel.js';
import { createPracticeView } from './practice.js';
import { rangeOf, rangeTitle, renderSchedule } from './schedule.js';

const api = new Api();
const state = { date: new Date(), kind: 'day', therapists: [], appointments: [], live: null, view: 'schedule' };

// Who is who in the practice, loaded once after sign-in.
const directory = {
  clients: [], therapists: [], types: [], locations: [],
  byId: new Map(),
  client(id) { return this.byId.get(id)?.display_name || 'Unknown client'; },
  therapist(id) { return this.byId.get(id)?.display_name || 'Unknown therapist'; },
  // The practice's client search: a name, a word of it, or the email, from its start.
  async searchClients(text) {
    const q = text.trim();
    if (!q) return [];
    const res = await api.get(`/v1/practices/${encodeURIComponent(api.user.practice_id)}/clients`, { q, limit: 20 });
    return res.clients || [];
  },
  async load() {
    const [clients, therapists, types, locations] = await Promise.all([
      api.get('/v1/users', { role: 'client' }), api.get('/v1/users', { role: 'therapist' }),
      api.get('/v1/appointment-types'), api.get('/v1/locations')]);
    this.locations = locations.locations || [];
    const active = (u) => !Number(u.deactivated_unix_ms);
    this.clients = (clients.users || []).filter(active);
    this.therapists = (therapists.users || []).filter(active)
      .sort((a, b) => a.display_name.localeCompare(b.display_name));
    this.types = types.types || [];
    this.byId = new Map([...(clients.users || []), ...(therapists.users || [])].map((u) => [u.id, u]));
  },
};

// A 401 that a refresh could not cure: the session ended (signed out elsewhere,
// deactivated, expired). Back to the sign-in form.
function sessionEnded(e) {
  if (!(e instanceof ApiError) || e.status !== 401) return false;
  signOut('Your session ended; sign in again.');
  return true;
}

function showError(id, e) {
  $(id).textContent = errorText(e);
}

// A schedule answer that a newer load overtook (the day before a quick "Next") is
// dropped instead of drawn under the new day's title.
const scheduleLoad = newestLoad();

async function loadSchedule() {
  const newest = scheduleLoad();
  const range = rangeOf(state.date, state.kind);
  $('schedule-date').value = isoDate(state.date);
  $('schedule-view-kind').value = state.kind;
  $('range-title').textContent = rangeTitle(range, state.kind);
  try {
    const res = await api.get('/v1/calendar', { date: isoDate(range.from), days: state.kind === 'week' ? 7 : 1,
                                                time_zone: viewZone() });
    if (!newest()) return;
    // Every therapist with hours, in the practice's order of names; notes travel with
    // their appointment to the details panel.
    state.therapists = (res.therapists || []).map((cal) => ({
      id: cal.therapist_id, display_name: directory.therapist(cal.therapist_id), cal }))
      .sort((a, b) => a.display_name.localeCompare(b.display_name));
    state.appointments = (res.therapists || []).flatMap((cal) => (cal.appointments || []).map(
      (ca) => ({ ...ca.appointment, staff_note: ca.staff_note })));
    showError('schedule-error', null);
  } catch (e) {
    if (sessionEnded(e) || !newest()) return;
    showError('schedule-error', e);
    return;
  }
  renderSchedule($('grid'), {
    range, kind: state.kind, therapists: state.therapists, appointments: state.appointments,
    names: directory, onOpen: (appointment) => openAppointment({ api, directory, appointment, onDone: refreshSoon }),
    onMove: moveAppointment,
  });
}

// A drop on the grid: the same change as Reschedule, to the (wall) time dropped on.
async function moveAppointment(a, start) {
  const who = directory.client(a.client_id);
  try {
    await api.post(`/v1/appointments/${encodeURIComponent(a.id)}/reschedule`, {
      new_start_time: instant(start).toISOString(), expected_version: a.version, idempotency_key: idempotencyKey('move') });
    $('schedule-status').textContent = `Moved ${who} to ${formatTime(start)} on ${formatDay(start)}.`;
    showError('schedule-error', null);
    refreshSoon();
  } catch (e) {
    if (!sessionEnded(e)) showError('schedule-error', e);
  }
}

async function loadWaitlist() {
  try {
    const res = await api.get('/v1/waitlist');
    const entries = res.entries || [];
    const type = (id) => directory.types.find((t) => t.id === id)?.name || '';
    const dayNames = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
    const windows = (e) => (e.preferred || [])
      .map((w) => `${(w.weekdays || []).map((d) => dayNames[d]).join('/')} ${w.start}–${w.end}`.trim()).join(', ');
    $('waitlist').replaceChildren(entries.length === 0 ? el('p', {}, 'Nobody is waiting.') :
      el('table', {}, el('caption', {}, 'Clients waiting for a slot'),
        el('thead', {}, el('tr', {}, ['Client', 'Therapist', 'Type', 'From', 'To', 'Preferred times', 'Status']
          .map((h) => el('th', { scope: 'col' }, h)))),
        el('tbody', {}, entries.map((e) => el('tr', {},
          el('td', {}, directory.client(e.client_id)), el('td', {}, directory.therapist(e.therapist_id)),
          el('td', {}, type(e.type_id)), el('td', {}, e.from_date), el('td', {}, e.to_date),
          el('td', {}, windows(e) || 'Any time'), el('td', {}, e.status))))));
    showError('waitlist-error', null);
  } catch (e) {
    if (!sessionEnded(e)) showError('waitlist-error', e);
  }
}

// An admin's view of the practice's audit log.
const audit = createAuditView({ api, onError: (e) => { if (!sessionEnded(e)) showError('audit-error', e); } });

// An admin's view of the practice's zone and locations. A new zone redraws the
// schedule on the practice's clock; changed rooms reach the booking form.
const practice = createPracticeView({
  api,
  onZone: (zone) => {
    setZone(zone);
    state.date = wall(new Date());
    $('zone-name').textContent = `Times in ${viewZone()}`;
  },
  onLocations: () => directory.load().catch((e) => { if (!sessionEnded(e)) showError('practice-error', e); }),
  onSessionEnded: sessionEnded,
});

// Live changes arrive in bursts (a series, a reschedule): one reload per burst.
let refreshTimer = 0;
function refreshSoon() {
  clearTimeout(refreshTimer);
  // The log and the practice's settings are read on request, not on every change.
  if (state.view === 'audit' || state.view === 'practice') return;
  refreshTimer = setTimeout(() => (state.view === 'schedule' ? loadSchedule() : loadWaitlist()), 50);
}

function showView(view) {
  state.view = view;
  $('schedule-view').hidden = view !== 'schedule';
  $('waitlist-view').hidden = view !== 'waitlist';
  $('audit-view').hidden = view !== 'audit';
  $('practice-view').hidden = view !== 'practice';
  for (const [id, which] of [['nav-schedule', 'schedule'], ['nav-waitlist', 'waitlist'], ['nav-audit', 'audit'],
                             ['nav-practice', 'practice']]) {
    if (which === view) $(id).setAttribute('aria-current', 'page');
    else $(id).removeAttribute('aria-current');
  }
  if (view === 'audit') audit.open();
  else if (view === 'practice') practice.open();
  else refreshSoon();
}

function step(days) {
  state.date = addDays(state.date, state.kind === 'week' ? 7 * days : days);
  loadSchedule();
}

async function enter() {
  const user = api.user;
  if (!user || (user.role !== 'front_desk' && user.role !== 'admin')) {
    await api.logout();
    showLogin('This console is for the front desk and practice admins.');
    return;
  }
  $('login-view').hidden = true;
  $('app-view').hidden = false;
  $('user-name').textContent = user.display_name;
  $('nav-audit').hidden = user.role !== 'admin';  // the log is an admin's to read
  $('nav-practice').hidden = user.role !== 'admin';  // so are the practice's settings
  try {
    const me = await api.get('/v1/me');
    $('practice-name').textContent = me.practice?.name ? `· ${me.practice.name}` : '';
    // The practice's day on its own clock (else the browser's), from today there.
    setZone(me.practice?.time_zone);
    state.date = wall(new Date());
    $('zone-name').textContent = `Times in ${viewZone()}`;
    document.title = `Alliance front desk · ${formatDay(state.date)}`;
    await directory.load();
  } catch (e) {
    if (!sessionEnded(e)) showError('schedule-error', e);
  }
  state.live = connectLive(api, { onChange: refreshSoon, onStatus: (s) => { $('live-status').textContent = s; } });
  await loadSchedule();
  $('main').focus();
}

function showLogin(message = '') {
  $('app-view').hidden = true;
  $('login-view').hidden = false;
  $('login-error').textContent = message;
  $('login-practice').focus();
}

async function signOut(message = '') {
  state.live?.close();
  state.live = null;
  closePanel();
  try { await api.logout(); } catch { /* the session ends here either way */ }
  showLogin(message);
}

function wire() {
  $('login-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const practice = $('login-practice').value.trim();
    const email = $('login-email').value.trim();
    const password = $('login-password').value;
    if (!practice || !email || !password) {
      $('login-error').textContent = 'Practice, email and password are all needed.';
      return;
    }
    try {
      await api.login(practice, email, password, $('login-code').value.trim());
      $('login-password').value = '';
      $('login-code').value = '';
      await enter();
    } catch (err) {
      $('login-error').textContent = err.message;
      if (err.code === 'two_factor_required') {
        $('login-code-row').hidden = false;
        $('login-code').focus();
      }
    }
  });
  $('sign-out').addEventListener('click', () => signOut());
  $('nav-schedule').addEventListener('click', () => showView('schedule'));
  $('nav-waitlist').addEventListener('click', () => showView('waitlist'));
  $('nav-audit').addEventListener('click', () => showView('audit'));
  $('nav-practice').addEventListener('click', () => showView('practice'));
  $('prev-range').addEventListener('click', () => step(-1));
  $('next-range').addEventListener('click', () => step(1));
  $('today').addEventListener('click', () => { state.date = wall(new Date()); loadSchedule(); });
  $('schedule-date').addEventListener('change', (e) => {
    if (e.target.value) { state.date = parseDate(e.target.value); loadSchedule(); }
  });
  $('schedule-view-kind').addEventListener('change', (e) => { state.kind = e.target.value; loadSchedule(); });
  $('new-booking').addEventListener('click', () => openBooking({ api, directory, date: state.date, onDone: refreshSoon }));
  $('panel-close').addEventListener('click', () => closePanel({ restoreFocus: true }));
  document.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && !$('panel').hidden) closePanel({ restoreFocus: true });
  });
  document.title = `Alliance front desk · ${formatDay(new Date())}`;
}

wire();
if (api.signedIn) enter(); else showLogin();
