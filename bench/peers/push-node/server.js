// The push benchmark's peer (bench/push.sh --compare): the gateway's push job in Node
// (https + ws + ioredis), for the same load generator. Per connection it checks the
// access token the gateway checks (EdDSA JWT: signature with the identity signing key's
// public half, issuer, audience, expiry, revoked session); it subscribes to
// push:user:<id> on a user's first socket, answers {"type":"session.ready"} once Redis
// confirmed it, and renders each PushFrame (protobuf) to the gateway's JSON once per
// push for all of the user's sockets. Revocations close the session's sockets (4401),
// a socket whose token expired is closed at its next push, a reader that falls 1 MiB
// behind is closed with 1008 "push queue overflow". Loopback benchmarks only.
'use strict';
const crypto = require('node:crypto');
const fs = require('node:fs');
const https = require('node:https');
const Redis = require('ioredis');
const { WebSocketServer } = require('ws');

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  if (i > 0 && i + 1 < process.argv.length) return process.argv[i + 1];
  if (fallback === undefined) throw new Error(`--${name} is required`);
  return fallback;
};
const signingKey = crypto.createPublicKey(fs.readFileSync(arg('token-key')));
const issuer = arg('issuer', 'alliance'), audience = arg('audience', 'alliance-api');
const [redisHost, redisPort] = arg('redis').split(':');
const sub = new Redis({
  host: redisHost, port: Number(redisPort), username: arg('redis-user', 'gateway'),
  password: fs.readFileSync(arg('redis-password-file'), 'utf8').trim(), enableReadyCheck: false,
  tls: { ca: fs.readFileSync(arg('redis-ca')), cert: fs.readFileSync(arg('redis-cert')),
         key: fs.readFileSync(arg('redis-key')) },
});
const kMaxBuffered = 1 << 20;
const users = new Map();     // user id -> { sockets: Set, subscribed: Promise }
const sessions = new Map();  // session id -> Set of sockets
const revoked = new Set();

function verifyToken(token) {
  const parts = token.split('.');
  if (parts.length !== 3 || token.length > 4096) return null;
  try {
    if (JSON.parse(Buffer.from(parts[0], 'base64url')).alg !== 'EdDSA') return null;
    const signed = Buffer.from(`${parts[0]}.${parts[1]}`);
    if (!crypto.verify(null, signed, signingKey, Buffer.from(parts[2], 'base64url'))) return null;
    const c = JSON.parse(Buffer.from(parts[1], 'base64url'));
    if (c.iss !== issuer || c.aud !== audience || !(c.exp * 1000 > Date.now())) return null;
    if (typeof c.sub !== 'string' || typeof c.sid !== 'string' || revoked.has(c.sid)) return null;
    return c;
  } catch { return null; }
}

// Protobuf wire format, just what PushFrame, Any, Notice and SessionRevoked use.
function decode(buf) {
  const out = {};
  let i = 0;
  const varint = () => {
    let v = 0, scale = 1;
    for (;;) {
      if (i >= buf.length) throw new Error('truncated');
      const b = buf[i++];
      v += (b & 0x7f) * scale;
      scale *= 128;
      if (!(b & 0x80)) return v;
    }
  };
  while (i < buf.length) {
    const tag = varint(), field = Math.floor(tag / 8), wire = tag & 7;
    if (wire === 0) out[field] = varint();
    else if (wire === 2) {
      const n = varint();
      if (i + n > buf.length) throw new Error('truncated');
      out[field] = buf.subarray(i, i + n);
      i += n;
    } else throw new Error(`wire type ${wire}`);
  }
  return out;
}

const kNotice = 'type.googleapis.com/alliance.push.v1.Notice';
function renderPush(payload) {
  const f = decode(payload), str = (b) => (b ? b.toString('utf8') : '');
  let body = '{}';
  if (f[4]) {
    const any = decode(f[4]), url = str(any[1]);
    const fields = url === kNotice && any[2] ? `,"text":${JSON.stringify(str(decode(any[2])[1]))}` : '';
    body = `{"@type":${JSON.stringify(url)}${fields}}`;
  }
  return `{"id":${JSON.stringify(str(f[1]))},"type":${JSON.stringify(str(f[2]))},` +
         `"sent_unix_ms":"${f[3] || 0}","body":${body}}`;
}

sub.on('messageBuffer', (channelBuf, payload) => {
  const channel = channelBuf.toString();
  if (channel === 'identity:revocations') {
    const sid = decode(payload)[1]?.toString();
    if (!sid) return;
    revoked.add(sid);
    for (const ws of sessions.get(sid) || []) ws.close(4401, 'session revoked');
    return;
  }
  const user = users.get(channel.slice('push:user:'.length));
  if (!user) return;
  let json;
  try { json = renderPush(payload); } catch { return; }
  const now = Date.now();
  for (const ws of user.sockets) {
    if (now >= ws.claims.exp * 1000 || revoked.has(ws.claims.sid)) ws.close(4401, 'access token expired');
    else if (ws.bufferedAmount > kMaxBuffered) ws.close(1008, 'push queue overflow');
    else ws.send(json);
  }
});

function track(ws) {
  const { sub: userId, sid } = ws.claims;
  let user = users.get(userId);
  if (!user) {
    user = { sockets: new Set(), subscribed: sub.subscribe(`push:user:${userId}`) };
    users.set(userId, user);
  }
  user.sockets.add(ws);
  if (!sessions.has(sid)) sessions.set(sid, new Set());
  sessions.get(sid).add(ws);
  ws.on('close', () => {
    user.sockets.delete(ws);
    sessions.get(sid)?.delete(ws);
    if (sessions.get(sid)?.size === 0) sessions.delete(sid);
    if (user.sockets.size === 0 && users.get(userId) === user) {
      users.delete(userId);
      sub.unsubscribe(`push:user:${userId}`).catch(() => {});
    }
  });
  ws.on('pong', () => { ws.alive = true; });
  ws.on('error', () => {});
  user.subscribed.then(() => ws.send(JSON.stringify({ id: crypto.randomUUID(), type: 'session.ready',
                                                      sent_unix_ms: String(Date.now()) })),
                       () => ws.close(1011, 'push service unavailable'));
}

const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: 4096 });
const server = https.createServer({ cert: fs.readFileSync(arg('cert')), key: fs.readFileSync(arg('key')),
                                    minVersion: 'TLSv1.3' });
server.on('upgrade', (req, socket, head) => {
  const auth = req.headers.authorization || '';
  const claims = req.url.split('?')[0] === '/v1/ws' && auth.startsWith('Bearer ') && verifyToken(auth.slice(7));
  if (!claims) {
    socket.end('HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
    return;
  }
  wss.handleUpgrade(req, socket, head, (ws) => { ws.claims = claims; ws.alive = true; track(ws); });
});
setInterval(() => {  // pings, as the gateway's; a socket silent for two rounds is dropped
  for (const ws of wss.clients) {
    if (!ws.alive) { ws.terminate(); continue; }
    ws.alive = false;
    ws.ping();
  }
}, 30000).unref();

sub.subscribe('identity:revocations').then(() => {
  server.listen(Number(arg('port', '0')), '127.0.0.1', () => {
    console.log(`push-node listening on ${server.address().port}`);
  });
}, (e) => { console.error(`push-node: redis: ${e.message}`); process.exit(1); });
