// Revocation across nodes (issue 10), driven by bench/cluster.sh: its own
// PostgreSQL (tests/lib/pgserver.sh), three `piora serve` nodes on one
// database, and --rounds tokens, each warmed into the caches of nodes 1 and
// 2 and then revoked with DELETE /api/v1/token on node 0 while one client per
// other node asks with it about every 1-2 ms. Measured per round, from the moment
// the revoke was sent:
//   revoke   how long the DELETE took to return (its commit, then the wait
//            for every live node's acknowledgement, pg_change_wait_visible)
//   seen     when the first 401 came back on each other node (propagation)
//   stale    answers other than 401 to requests sent after the DELETE
//            returned (the contract: must be 0)
//   alone    the same DELETE once nodes 1 and 2 are stopped (nothing to
//            wait for): what the acknowledgements add
//   create   POST /api/v1/servers on node 0, three nodes up and then node 0
//            alone: every write waits for the other nodes to acknowledge
//            it (change_settle), and this is what that costs a write
// Prints one JSON line with p50/p99/max of each.
//
//   node bench/cluster.mjs [--rounds 200]     PIORA_BIN=build/piora
import { performance } from 'node:perf_hooks';
import { addUser, webSignIn } from '../tests/blackbox/lib/piora.mjs';
import { startNodes, startPg } from '../tests/blackbox/lib/cluster.mjs';

const args = process.argv.slice(2);
const rounds = Number(args[args.indexOf('--rounds') + 1] || 200);
if (!Number.isInteger(rounds) || rounds < 1 || rounds > 100000) {
  console.error('usage: node bench/cluster.mjs [--rounds N]');
  process.exit(2);
}

const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? Number(s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))].toFixed(2)) : null;
};
const summary = (xs) => ({ n: xs.length, p50: pct(xs, 50), p99: pct(xs, 99), max: pct(xs, 100) });

// --rounds sequential POST /servers on node s, each timed until its answer.
async function creates(s, token, n, tag) {
  const ms = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const r = await fetch(s.base + '/api/v1/servers', {
      method: 'POST', headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ name: `${tag}-${i}`, ip_address: '203.0.113.40' }),
    });
    await r.arrayBuffer();
    if (r.status !== 201) throw new Error(`create: ${r.status}`);
    ms.push(performance.now() - t0);
  }
  return ms;
}

async function get(s, token) {
  const r = await fetch(s.base + '/api/v1/servers?per_page=20', { headers: { Authorization: `Bearer ${token}` } });
  await r.arrayBuffer();
  return r.status;
}

const pg = await startPg();
let nodes = [];
try {
  const url = pg.createDb('piora_bench');
  const password = await addUser(url, { email: 'bench@cluster.test', team: 'bench' });
  nodes = await startNodes(null, url, 3);
  const [a, ...others] = nodes;
  const hdr = await webSignIn(a, 'bench@cluster.test', password);
  const revoke = [];
  const seen = [];
  let stale = 0;
  for (let i = 0; i < rounds; i++) {
    const made = await a.post('/web/api/tokens', { headers: hdr, body: { name: `b${i}`, scopes: ['servers:read'] } });
    if (made.status !== 201) throw new Error(`token create: ${made.status} ${made.text}`);
    const tok = made.json.token;
    for (const s of others) { await get(s, tok); await get(s, tok); }
    let returned = Infinity;
    let t0 = 0;
    let go = false;
    const watchers = others.map(async (s) => {
      while (!go) await new Promise((r) => setImmediate(r));
      for (;;) {
        const sent = performance.now();
        const st = await get(s, tok);
        if (st !== 401 && sent > returned) stale += 1;
        if (st === 401) { seen.push(performance.now() - t0); return; }
        if (performance.now() - t0 > 5000) throw new Error(`node ${s.base} never answered 401`);
        await new Promise((r) => setTimeout(r, 1)); // paced: the watchers must not be the load
      }
    });
    t0 = performance.now();
    go = true;
    const r = await fetch(a.base + '/api/v1/token', { method: 'DELETE', headers: { Authorization: `Bearer ${tok}` } });
    await r.arrayBuffer();
    returned = performance.now();
    if (r.status !== 204) throw new Error(`revoke: ${r.status}`);
    revoke.push(returned - t0);
    await Promise.all(watchers);
  }
  // how often the listeners of the other nodes lost their connection (a
  // heartbeat that took over 400 ms on a loaded machine counts as lost)
  const reconnects = [];
  for (const s of others) {
    const m = await (await fetch(s.base + '/metrics')).text();
    reconnects.push(Number((/^piora_change_feed_reconnects_total (\d+)$/m.exec(m) ?? [0, -1])[1]));
  }
  const writer = await a.post('/web/api/tokens', { headers: hdr, body: { name: 'writer', scopes: ['servers:write'] } });
  if (writer.status !== 201) throw new Error(`token create: ${writer.status} ${writer.text}`);
  const createThree = await creates(a, writer.json.token, Math.min(rounds, 100), 'three');
  // The same revoke with the other nodes stopped (their acks withdrawn):
  // what waiting for two acknowledgements adds.
  for (const s of others) await s.stop();
  const createAlone = await creates(a, writer.json.token, Math.min(rounds, 100), 'alone');
  const alone = [];
  for (let i = 0; i < Math.min(rounds, 100); i++) {
    const made = await a.post('/web/api/tokens', { headers: hdr, body: { name: `alone${i}`, scopes: ['servers:read'] } });
    if (made.status !== 201) throw new Error(`token create: ${made.status} ${made.text}`);
    await get(a, made.json.token);
    const t0 = performance.now();
    const r = await fetch(a.base + '/api/v1/token', { method: 'DELETE', headers: { Authorization: `Bearer ${made.json.token}` } });
    await r.arrayBuffer();
    if (r.status !== 204) throw new Error(`revoke: ${r.status}`);
    alone.push(performance.now() - t0);
  }
  console.log(JSON.stringify({ rounds, nodes: nodes.length, revoke_ms: summary(revoke), seen_ms: summary(seen), stale,
    revoke_alone_ms: summary(alone), create_ms: summary(createThree), create_alone_ms: summary(createAlone),
    listener_reconnects: reconnects }));
} finally {
  for (const s of nodes) s.kill();
  pg.stop();
}
