// The public API as the console uses it: JSON over HTTPS with the signed-in user's
// bearer token, refreshed once when the gateway says it expired. Tokens live in
// sessionStorage (gone when the tab closes) and nowhere else.

const kSessionKey = 'alliance.console.session';

export class ApiError extends Error {
  constructor(status, error) {
    super(error?.message || `request failed (${status})`);
    this.status = status;
    this.code = error?.code || '';
    this.field = error?.field || '';
  }
}

// An error as the user reads it, naming its field once ("name: ..." as the server words
// it, else the field put before the message); '' for none.
export function errorText(e) {
  if (!e) return '';
  return e.field && !e.message.startsWith(`${e.field}:`) ? `${e.field}: ${e.message}` : e.message;
}

export class Api {
  constructor() {
    const saved = sessionStorage.getItem(kSessionKey);
    this.session = saved ? JSON.parse(saved) : null;  // {access_token, refresh_token, user}
    this.refreshing = null;
  }

  get signedIn() { return this.session !== null; }
  get user() { return this.session?.user; }
  get accessToken() { return this.session?.access_token || ''; }

  // With two-factor sign-in on, the password answers a challenge and `code` (the
  // authenticator app's, or a recovery code) completes it; without a code the error's
  // code is 'two_factor_required', so the form can ask for one.
  async login(practice, email, password, code) {
    let tokens = await this.send('POST', '/v1/auth/login', { body: { practice, email, password }, anonymous: true });
    const second = tokens.two_factor;
    if (second?.challenge) {
      if (second.enrolment_required) {
        throw new ApiError(403, { code: 'failed_precondition',
          message: 'Your practice requires two-factor sign-in: enrol first (alliancectl login), then sign in here.' });
      }
      if (!code) throw new ApiError(401, { code: 'two_factor_required', message: 'Enter the code from your authenticator app.' });
      tokens = await this.send('POST', '/v1/auth/two-factor', { body: { challenge: second.challenge, code }, anonymous: true });
    }
    this.keep(tokens);
    return tokens.user;
  }

  async logout() {
    try {
      if (this.session) await this.send('POST', '/v1/auth/logout', { body: {} });
    } finally {
      this.session = null;
      sessionStorage.removeItem(kSessionKey);
    }
  }

  // A new access token from the refresh token (one refresh at a time).
  refresh() {
    if (!this.refreshing) {
      const refresh_token = this.session?.refresh_token;
      this.refreshing = this.send('POST', '/v1/auth/refresh', { body: { refresh_token }, anonymous: true })
        .then((tokens) => this.keep(tokens))
        .finally(() => { this.refreshing = null; });
    }
    return this.refreshing;
  }

  get(path, query) { return this.call('GET', path, { query }); }
  post(path, body) { return this.call('POST', path, { body }); }

  async call(method, path, options = {}) {
    try {
      return await this.send(method, path, options);
    } catch (e) {
      if (!(e instanceof ApiError) || e.status !== 401 || !this.session?.refresh_token) throw e;
      await this.refresh();
      return this.send(method, path, options);
    }
  }

  async send(method, path, { query, body, anonymous } = {}) {
    let url = path;
    if (query) {
      const params = new URLSearchParams();
      for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') params.set(k, v);
      url += '?' + params.toString();
    }
    const headers = {};
    if (!anonymous && this.session) headers.Authorization = 'Bearer ' + this.session.access_token;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const res = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    const json = text ? JSON.parse(text) : {};
    if (!res.ok) throw new ApiError(res.status, json.error);
    return json;
  }

  keep(tokens) {
    this.session = {
      access_token: tokens.access_token,
      refresh_token: tokens.refresh_token,
      user: tokens.user || this.session?.user,
    };
    sessionStorage.setItem(kSessionKey, JSON.stringify(this.session));
  }
}

// A random key for a request the API de-duplicates (bookings, changes).
export function idempotencyKey(what) {
  return `console-${what}-${crypto.randomUUID()}`;
}
