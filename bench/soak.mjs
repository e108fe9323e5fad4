// The mixed load of bench/soak.sh, against 127.0.0.1 only, for --duration
// seconds, every stream paced so the whole stays a steady load rather than a
// flood (the soak looks for leaks, not for the ceiling):
//
//   reads       ~200 req/s: the server list and one server, keep-alive
//   writes      5 a second: create a server, rename it, delete it
//   tokens      every 5 s: sign in on the dashboard, create a token, use it,
//               revoke it, check it now answers 401, sign out
//   signins     a failed sign-in every 15 s, from 127.0.0.4
//   badtokens   ~20 req/s from 127.0.0.5: a wrong checksum and a well-formed
//               unknown token in turn (the failed-auth limiter answers 429
//               past 30 a minute: that path is soaked too)
//
// Prints one JSON line: per stream, the count of each status seen, and
// "wrong": answers that break the contract (a revoked token accepted, ...).
//
//   node bench/soak.mjs --port P --token T --email E --password PW [--duration 600]
import http from 'node:http';
import { randomBytes } from 'node:crypto';

const args = process.argv.slice(2);
const opt = {};
for (let i = 0; i < args.length; i += 2) opt[args[i].replace(/^--/, '')] = args[i + 1];
const PORT = Number(opt.port);
const DURATION_MS = Number(opt.duration || 600) * 1000;
const started = Date.now();
const over = () => Date.now() - started >= DURATION_MS;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const keepAlive = new http.Agent({ keepAlive: true, maxSockets: 4 });

const seen = {};
function count(stream, what) {
  const s = (seen[stream] ||= {});
  s[what] = (s[what] || 0) + 1;
}

// One request; resolves to {status, body, headers} or {error}.
function request({ method = 'GET', path, headers = {}, body, from, agent = false }) {
  return new Promise((resolve) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    if (data !== undefined) {
      headers['Content-Type'] = 'application/json';
      headers['Content-Length'] = Buffer.byteLength(data);
    }
    const req = http.request({ host: '127.0.0.1', port: PORT, method, path, headers, agent, localAddress: from },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString() }));
        res.on('error', (e) => resolve({ error: e.code || 'error' }));
      });
    req.setTimeout(10000, () => { req.destroy(); resolve({ error: 'timeout' }); });
    req.on('error', (e) => resolve({ error: e.code || 'error' }));
    if (data !== undefined) req.write(data);
    req.end();
  });
}
const json = (r) => { try { return JSON.parse(r.body); } catch { return {}; } };

// Runs fn every `every` ms (from its start) until the soak is over.
async function paced(every, fn) {
  while (!over()) {
    const t0 = Date.now();
    await fn();
    const wait = every - (Date.now() - t0);
    if (wait > 0) await sleep(wait);
  }
}

const auth = { Authorization: `Bearer ${opt.token}` };

async function reads() {
  const list = await request({ path: '/api/v1/servers?per_page=20', headers: { ...auth }, agent: keepAlive });
  count('reads', list.status || list.error);
  const id = json(list).data?.[0]?.id;
  if (id) {
    const one = await request({ path: `/api/v1/servers/${id}`, headers: { ...auth }, agent: keepAlive });
    count('reads', one.status || one.error);
  }
}

let serial = 0;
async function writes() {
  const n = ++serial;
  const made = await request({
    method: 'POST', path: '/api/v1/servers', headers: { ...auth }, agent: keepAlive,
    body: { name: `soak-${n}`, ip_address: `10.9.${(n >> 8) & 255}.${n & 255}`, provider: 'hetzner', region: 'fsn1' },
  });
  count('writes', made.status || made.error);
  const id = json(made).id;
  if (!id) return;
  const renamed = await request({
    method: 'PATCH', path: `/api/v1/servers/${id}`, headers: { ...auth }, agent: keepAlive, body: { name: `soak-${n}-b` },
  });
  count('writes', renamed.status || renamed.error);
  const gone = await request({ method: 'DELETE', path: `/api/v1/servers/${id}`, headers: { ...auth }, agent: keepAlive });
  count('writes', gone.status || gone.error);
}

async function tokens() {
  const si = await request({ method: 'POST', path: '/web/api/signin', body: { email: opt.email, password: opt.password } });
  count('tokens', `signin ${si.status || si.error}`);
  if (si.status !== 200) return;
  const cookie = String(si.headers['set-cookie'] || '').split(';')[0];
  const web = { Cookie: cookie, 'X-CSRF-Token': json(si).csrf };
  const made = await request({
    method: 'POST', path: '/web/api/tokens', headers: { ...web },
    body: { name: `soak-${Date.now()}`, scopes: ['servers:read'], expiry: '7' },
  });
  count('tokens', `create ${made.status || made.error}`);
  const t = json(made);
  if (t.token) {
    const use = await request({ path: '/api/v1/servers?per_page=5', headers: { Authorization: `Bearer ${t.token}` } });
    count('tokens', `use ${use.status || use.error}`);
    const rev = await request({ method: 'POST', path: `/web/api/tokens/${t.id}/revoke`, headers: { ...web } });
    count('tokens', `revoke ${rev.status || rev.error}`);
    const after = await request({ path: '/api/v1/servers?per_page=5', headers: { Authorization: `Bearer ${t.token}` } });
    count('tokens', `after-revoke ${after.status || after.error}`);
    if (after.status === 200) count('wrong', 'revoked token accepted');
  }
  const out = await request({ method: 'POST', path: '/web/api/signout', headers: { ...web } });
  count('tokens', `signout ${out.status || out.error}`);
}

async function signins() {
  const r = await request({
    method: 'POST', path: '/web/api/signin', from: '127.0.0.4',
    body: { email: opt.email, password: 'not-the-password-1' },
  });
  count('signins', r.status || r.error);
  if (r.status === 200) count('wrong', 'wrong password signed in');
}

// CRC-32/IEEE and the base62 checksum of SPEC 2, to forge well-formed tokens.
const B62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const CRC = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function forge() {
  let r = '';
  for (const b of randomBytes(30)) r += B62[b % 62];
  let c = 0xffffffff;
  for (const b of Buffer.from(r)) c = CRC[(c ^ b) & 0xff] ^ (c >>> 8);
  let v = (c ^ 0xffffffff) >>> 0;
  let sum = '';
  for (let i = 0; i < 6; i++) { sum = B62[v % 62] + sum; v = Math.floor(v / 62); }
  return `piora_token_${r}${sum}`;
}

let flip = 0;
async function badTokens() {
  let tok = forge();
  if (flip++ % 2) tok = tok.slice(0, -1) + (tok.endsWith('A') ? 'B' : 'A'); // checksum now wrong
  const r = await request({ path: '/api/v1/servers', from: '127.0.0.5', headers: { Authorization: `Bearer ${tok}` } });
  count('badtokens', r.status || r.error);
  if (r.status === 200) count('wrong', 'unknown token accepted');
}

await Promise.all([
  paced(20, reads), paced(20, reads),
  paced(200, writes),
  paced(5000, tokens),
  paced(15000, signins),
  paced(50, badTokens),
]);
keepAlive.destroy();
console.log(JSON.stringify(seen));
