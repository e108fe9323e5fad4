// The load generators of bench/abuse.sh: a paced latency probe and the
// attacks of issue 8 that no Debian tool does (setup flood, sign-in flood
// from many addresses, unauthenticated body flood). Every mode targets
// 127.0.0.1 only, stops by itself after --duration seconds (or on SIGTERM or SIGINT)
// and prints one JSON line of what it saw.
//
//   node bench/abuse.mjs probe   --port P --token T [--from 127.0.0.2] [--duration 10]
//                                [--rate 200] [--concurrency 4] [--timeout 5]
//   node bench/abuse.mjs setup   --port P [--from 127.0.0.3] [--loops 16] [--duration 30]
//   node bench/abuse.mjs signin  --port P [--loops 24] [--addrs 1000] [--duration 30]
//   node bench/abuse.mjs bodies  --port P [--conns 300] [--addrs 30] [--size 1048000]
//                                [--duration 30]
import http from 'node:http';
import net from 'node:net';
import { randomBytes } from 'node:crypto';

const [mode, ...rest] = process.argv.slice(2);
const opt = {};
for (let i = 0; i < rest.length; i += 2) opt[rest[i].replace(/^--/, '')] = rest[i + 1];
const num = (k, d) => (opt[k] === undefined ? d : Number(opt[k]));
const PORT = num('port', 0);
const DURATION_MS = num('duration', 30) * 1000;
if (!PORT) {
  console.error('abuse.mjs: --port is required');
  process.exit(2);
}

const started = Date.now();
let stopping = false;
const deadline = () => stopping || Date.now() - started >= DURATION_MS;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const statuses = {};
const count = (k) => { statuses[k] = (statuses[k] || 0) + 1; };

// One request on its own connection (agent: false), from a chosen source
// address; resolves to {status} or {error}, never rejects.
function request({ method = 'GET', path, headers = {}, body, from, timeoutMs = 10000 }) {
  return new Promise((resolve) => {
    let done = false;
    const finish = (v) => { if (!done) { done = true; resolve(v); } };
    const req = http.request({
      host: '127.0.0.1', port: PORT, method, path, headers, agent: false, localAddress: from,
    }, (res) => {
      res.on('data', () => {});
      res.on('end', () => finish({ status: res.statusCode }));
      res.on('error', (e) => finish({ error: e.code || 'error' }));
    });
    req.setTimeout(timeoutMs, () => { req.destroy(); finish({ error: 'timeout' }); });
    req.on('error', (e) => finish({ error: e.code || 'error' }));
    if (body) req.write(body);
    req.end();
  });
}

// The p-th percentile (0..100) of a sorted array, nearest rank.
function pct(sorted, p) {
  if (!sorted.length) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

// Authenticated GET /api/v1/servers?per_page=20 from --concurrency closed
// loops, each paced to rate/concurrency requests a second, each request on a
// new connection (as a CLI or CI job arrives), so an attack that holds every
// connection slot shows. A request that fails or times out counts as the
// timeout: a refused connection is fast, and must not look like a good answer.
async function probe() {
  const token = opt.token;
  const from = opt.from || '127.0.0.2';
  const rate = num('rate', 200);
  const conc = num('concurrency', 4);
  const timeoutMs = num('timeout', 5) * 1000;
  const interval = (1000 * conc) / rate;
  const maxCount = Math.ceil((rate * DURATION_MS) / 1000);
  const lat = [];
  let fails = 0;
  let issued = 0;
  async function loop() {
    while (!deadline() && issued < maxCount) {
      issued++;
      const t0 = process.hrtime.bigint();
      const r = await request({
        path: '/api/v1/servers?per_page=20', from, timeoutMs,
        headers: { Authorization: `Bearer ${token}` },
      });
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      count(r.status || r.error);
      if (r.status === 200) lat.push(ms);
      else { fails++; lat.push(Math.max(ms, timeoutMs)); }
      const wait = interval - ms;
      if (wait > 0) await sleep(wait);
    }
  }
  await Promise.all(Array.from({ length: conc }, loop));
  lat.sort((a, b) => a - b);
  return { n: lat.length, fails, p50: pct(lat, 50), p99: pct(lat, 99), max: lat[lat.length - 1] ?? null };
}

// POST /web/api/setup with a well-shaped but fake secret and an otherwise
// valid body, so today's server hashes the password before it finds the
// secret unknown. --loops closed loops from one address.
async function setupFlood() {
  const from = opt.from || '127.0.0.3';
  const loops = num('loops', 16);
  async function loop() {
    while (!deadline()) {
      const secret = randomBytes(32).toString('base64url'); // 43 characters, as a real one
      const body = JSON.stringify({
        secret, email: 'flood@example.com', team: 'flood', password: 'flood-password-123456',
      });
      const r = await request({
        method: 'POST', path: '/web/api/setup', from, body,
        headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) },
      });
      count(r.status || r.error);
    }
  }
  await Promise.all(Array.from({ length: loops }, loop));
  return {};
}

// Failed sign-ins for unknown accounts from --addrs source addresses in
// 127.1.0.0/16, taken in turn, so that no address and no account reaches the
// per-address or per-account limit (10 a minute by default): what a
// distributed attacker gets through. --loops requests in flight.
async function signinFlood() {
  const loops = num('loops', 24);
  const addrs = num('addrs', 1000);
  let next = 0;
  async function loop() {
    while (!deadline()) {
      const i = next++;
      const a = i % addrs;
      const from = `127.1.${a >> 8}.${(a & 255) || 1}`;
      const body = JSON.stringify({ email: `nobody-${i}@example.com`, password: 'not-the-password-1' });
      const r = await request({
        method: 'POST', path: '/web/api/signin', from, body,
        headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) },
      });
      count(r.status || r.error);
    }
  }
  await Promise.all(Array.from({ length: loops }, loop));
  return {};
}

// --conns connections spread over --addrs addresses in 127.2.0.0/16, each
// POSTing a --size byte body to /api/v1/servers without a token: the body
// goes out in 64 KiB pieces every 100 ms, then its last 16 bytes one every
// 2 s, so every connection holds a nearly whole body in the server.
async function bodyFlood() {
  const conns = num('conns', 300);
  const addrs = num('addrs', 30);
  const size = num('size', 1048000);
  const piece = Buffer.alloc(65536, 'x');
  const socks = [];
  const one = (k) => new Promise((resolve) => {
    const a = (k % addrs) + 1;
    const s = net.connect({ host: '127.0.0.1', port: PORT, localAddress: `127.2.0.${a}` });
    socks.push(s);
    let sent = 0;
    let timer = null;
    let ended = false;
    const end = (what) => { if (ended) return; ended = true; clearTimeout(timer); count(what); resolve(); };
    s.on('connect', () => {
      count('connected');
      s.write(`POST /api/v1/servers HTTP/1.1\r\nHost: 127.0.0.1:${PORT}\r\n` +
        `Content-Type: application/json\r\nContent-Length: ${size}\r\n\r\n`);
      const tick = () => {
        if (deadline() || s.destroyed) return;
        const left = size - sent;
        if (left <= 1) return; // never complete: the request stays buffered
        const n = left > 16 ? Math.min(piece.length, left - 16) : 1;
        s.write(piece.subarray(0, n));
        sent += n;
        timer = setTimeout(tick, left > 16 ? 100 : 2000);
      };
      tick();
    });
    s.on('data', (d) => { const m = /^HTTP\/1\.1 (\d+)/.exec(d.toString()); if (m) count(Number(m[1])); });
    s.on('error', (e) => end(e.code || 'error'));
    s.on('close', () => end(deadline() ? 'held_to_the_end' : 'closed_by_server'));
  });
  const all = [];
  for (let k = 0; k < conns && !deadline(); k++) {
    all.push(one(k));
    if (k % 50 === 49) await sleep(50);
  }
  while (!deadline()) await sleep(100);
  for (const s of socks) s.destroy();
  await Promise.all(all);
  return {};
}

const modes = { probe, setup: setupFlood, signin: signinFlood, bodies: bodyFlood };
if (!modes[mode]) {
  console.error(`abuse.mjs: mode is one of ${Object.keys(modes).join(', ')}`);
  process.exit(2);
}
// Ended early (bench/abuse.sh ends an attack when the probe is done): report
// what was seen so far and go, without waiting for requests still in flight.
for (const sig of ['SIGTERM', 'SIGINT']) {
  process.on(sig, () => {
    stopping = true;
    console.log(JSON.stringify({ mode, stopped_by: sig, statuses }));
    process.exit(0);
  });
}
const out = await modes[mode]();
console.log(JSON.stringify({ mode, ...out, statuses }));
