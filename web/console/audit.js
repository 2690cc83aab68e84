// The admin's Audit view: the practice's audit log (GET /v1/audit), newest first, by
// user (who acted), by client (whose record) and by time, a page at a time. Records
// hold ids only; names come from the practice's user list.
import { $, el, newestLoad } from './dom.js';

const kPage = 50;

// "2026-12-03T09:30" from a datetime-local field (read as UTC) -> "2026-12-03T09:30:00Z".
function instant(value) {
  return value ? `${value}:00Z` : '';
}

export function createAuditView({ api, onError }) {
  const people = new Map();  // user id -> {display_name, role}
  let cursor = '';
  const auditLoad = newestLoad();  // an older answer arriving late is dropped

  const name = (id) => (id ? people.get(id)?.display_name || id : '');

  async function loadPeople() {
    const res = await api.get('/v1/users');
    people.clear();
    for (const u of res.users || []) people.set(u.id, u);
    const options = (role) => [...people.values()].filter((u) => !role || u.role === role)
      .sort((a, b) => a.display_name.localeCompare(b.display_name))
      .map((u) => el('option', { value: u.id }, u.display_name));
    $('audit-user').replaceChildren(el('option', { value: '' }, 'Anyone'), ...options());
    $('audit-client').replaceChildren(el('option', { value: '' }, 'Any client'), ...options('client'));
  }

  function row(r) {
    const when = new Date(Number(r.at_unix_ms));
    return el('tr', {},
      el('td', {}, when.toISOString().replace('T', ' ').slice(0, 19)),
      el('td', {}, name(r.actor_user_id) || '—'), el('td', {}, r.actor_role || '—'),
      el('td', {}, r.action), el('td', {}, r.service),
      el('td', {}, r.object_type ? `${r.object_type} ${r.object_id || ''}`.trim() : ''),
      el('td', {}, name(r.subject_user_id)), el('td', {}, r.outcome));
  }

  async function load({ more = false } = {}) {
    if (!more) cursor = '';
    const newest = auditLoad();
    try {
      const res = await api.get('/v1/audit', {
        user_id: $('audit-user').value, client_id: $('audit-client').value,
        since: instant($('audit-since').value), until: instant($('audit-until').value),
        limit: kPage, cursor });
      if (!newest()) return;
      const rows = (res.records || []).map(row);
      const body = $('audit-rows');
      if (more) body.append(...rows); else body.replaceChildren(...rows);
      cursor = res.next_cursor || '';
      $('audit-more').hidden = !cursor;
      $('audit-status').textContent = body.children.length === 0 ? 'No records match.'
        : `${body.children.length} records shown.`;
      onError(null);
    } catch (e) {
      if (newest()) onError(e);
    }
  }

  $('audit-filter').addEventListener('submit', (e) => { e.preventDefault(); load(); });
  $('audit-more').addEventListener('click', () => load({ more: true }));

  return {
    async open() {
      try {
        await loadPeople();
      } catch (e) {
        onError(e);
        return;
      }
      await load();
    },
  };
}
