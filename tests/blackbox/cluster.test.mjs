// Cluster mode (issue 10, SPEC 1): three `piora serve` nodes on one real
// PostgreSQL. A revocation through any path on one node is answered 401 by
// every node on the very next request, also under load and with the
// listeners' connections killed just before; PostgreSQL going away answers
// 503 `unavailable` quickly and comes back without restarting a node; a
// node killed with SIGKILL loses no acknowledged write; a write on one
// node is what the next request on any other node reads; a dashboard
// session made on one node works on the others.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { addUser, assertProblem, cli, one, run, sleep, T, webSignIn } from './lib/piora.mjs';
import { assertNoStale, cliToken, loadUntil, startNginx, startNodes, startPg } from './lib/cluster.mjs';
import { startRedis } from './lib/redis.mjs';
import { noteSecret } from '../lib/journal.mjs';

const EMAIL = 'ops@cluster.test';
let pg;
let dbSeq = 0;

// A fresh database with one admin user, and its URL.
async function freshDb() {
  dbSeq += 1;
  const url = pg.createDb(`piora_c${process.pid}_${dbSeq}`);
  const password = await addUser(url, { email: EMAIL, team: 'cluster' });
  return { url, password, name: `piora_c${process.pid}_${dbSeq}` };
}

const LIST = '/api/v1/servers?per_page=20';

// Asks until the token answers 200 twice on the node (the second from its
// cache): the state a revocation has to beat.
async function warm(s, token) {
  for (let i = 0; i < 2; i++) {
    const r = await s.get(LIST, { token });
    assert.equal(r.status, 200, `warm-up on ${s.base}: ${r.text}`);
  }
}

// The node's change-feed listener is healthy (/metrics).
async function feedHealthy(s) {
  const r = await s.get('/metrics');
  return /^piora_change_feed_healthy 1$/m.test(r.text);
}

// The process ids of the listeners' backends on database `db`, found by
// their application_name.
const listenerPids = (db) => pg.psql(`SELECT pid FROM pg_stat_activity WHERE application_name = 'piora-listen' AND datname = '${db}'`)
  .split('\n').filter(Boolean).map(Number);

// Waits up to 10 s until every node's listener is healthy again.
async function awaitFeedsHealthy(nodes, what) {
  const allHealthy = async () => (await Promise.all(nodes.map(feedHealthy))).every(Boolean);
  const end = Date.now() + T(10000);
  while (!(await allHealthy()) && Date.now() < end) await sleep(50);
  assert.ok(await allHealthy(), `${what}: every listener is healthy`);
}

async function assertRevokedEverywhere(nodes, token, what) {
  const answers = await Promise.all(nodes.map((s) => s.get(LIST, { token })));
  for (const [i, r] of answers.entries()) assertProblem(r, 401, 'token_revoked', `${what}, node ${i}:`);
}

async function metric(s, name) {
  const r = await s.get('/metrics');
  assert.equal(r.status, 200);
  const m = r.text.match(new RegExp(`^${name} (\\d+)$`, 'm'));
  return m ? Number(m[1]) : null;
}

async function tokenIdByName(url, name) {
  const r = await cli(['token', 'list', '--json', '--database', url]);
  const j = JSON.parse(r.stdout);
  const arr = Array.isArray(j) ? j : (j.data ?? j.tokens);
  const tok = arr.find((x) => x.name === name);
  assert.ok(tok, `token ${name} listed`);
  return tok.id;
}

before(async () => { pg = await startPg(); });
after(() => { pg?.stop(); });

describe('cluster: three nodes on one PostgreSQL', () => {
  it('every revoke path on one node: the very next request on every other node is 401', { timeout: T(120000) }, async (t) => {
    const { url, password } = await freshDb();
    const nodes = await startNodes(t, url);
    const [a, b, c] = nodes;
    const others = [b, c];

    // API: DELETE /token with the token itself, on node a.
    const t1 = await cliToken(url, { email: EMAIL, name: 'api-self' });
    for (const s of nodes) await warm(s, t1);
    assert.equal((await a.del('/api/v1/token', { token: t1 })).status, 204);
    await assertRevokedEverywhere(others, t1, 'DELETE /token');

    // A leak report, POST /credentials/revoke, on node b.
    const t2 = await cliToken(url, { email: EMAIL, name: 'leaked' });
    for (const s of nodes) await warm(s, t2);
    assert.equal((await b.post('/api/v1/credentials/revoke', { body: { credentials: [t2] } })).status, 202);
    await assertRevokedEverywhere([a, c], t2, 'POST /credentials/revoke');

    // The dashboard's revoke and regenerate, on node c.
    const hdr = await webSignIn(c, EMAIL, password);
    const made = await c.post('/web/api/tokens', { headers: hdr, body: { name: 'web', scopes: ['servers:read'] } });
    assert.equal(made.status, 201, made.text);
    noteSecret(made.json.token);
    for (const s of nodes) await warm(s, made.json.token);
    assert.equal((await c.post(`/web/api/tokens/${made.json.id}/revoke`, { headers: hdr })).status, 200);
    await assertRevokedEverywhere([a, b], made.json.token, 'dashboard revoke');

    const regen = await c.post('/web/api/tokens', { headers: hdr, body: { name: 'to-regenerate', scopes: ['servers:read'] } });
    assert.equal(regen.status, 201, regen.text);
    noteSecret(regen.json.token);
    for (const s of nodes) await warm(s, regen.json.token);
    const fresh = await c.post(`/web/api/tokens/${regen.json.id}/regenerate`, { headers: hdr });
    assert.equal(fresh.status, 200, fresh.text);
    noteSecret(fresh.json.token);
    await assertRevokedEverywhere([a, b], regen.json.token, 'dashboard regenerate (old secret)');
    for (const s of nodes) assert.equal((await s.get(LIST, { token: fresh.json.token })).status, 200, 'the new secret works everywhere');

    // `piora token revoke` against the same database, from outside every node.
    const t5 = await cliToken(url, { email: EMAIL, name: 'cli-revoked' });
    for (const s of nodes) await warm(s, t5);
    const id = await tokenIdByName(url, 'cli-revoked');
    await cli(['token', 'revoke', String(id), '--database', url]);
    await assertRevokedEverywhere(nodes, t5, 'piora token revoke');
  });

  it('under load on all three nodes: zero 200s among requests sent after the revoke returned', { timeout: T(120000) }, async (t) => {
    const { url } = await freshDb();
    const nodes = await startNodes(t, url);
    for (const [round, how] of ['api', 'cli', 'leak'].entries()) {
      const tok = await cliToken(url, { email: EMAIL, name: `loaded-${how}` });
      for (const s of nodes) await warm(s, tok);
      const load = loadUntil(nodes, { path: LIST, token: tok });
      await sleep(300);
      const revoker = nodes[round % nodes.length];
      if (how === 'api') {
        assert.equal((await revoker.del('/api/v1/token', { token: tok })).status, 204);
      } else if (how === 'leak') {
        assert.equal((await revoker.post('/api/v1/credentials/revoke', { body: { credentials: [tok] } })).status, 202);
      } else {
        const id = await tokenIdByName(url, `loaded-${how}`);
        await cli(['token', 'revoke', String(id), '--database', url]);
      }
      const returned = performance.now();
      await sleep(400);
      const recs = await load.stop();
      assertNoStale(assert, recs, returned, nodes.length, `revoke by ${how}`);
      for (const s of nodes) s.alive();
    }
  });

  it("listeners' backends terminated just before a revoke: still no stale 200", { timeout: T(120000) }, async (t) => {
    const { url, name } = await freshDb();
    const nodes = await startNodes(t, url);
    const listeners = () => Number(pg.psql(`SELECT count(*) FROM pg_stat_activity WHERE application_name = 'piora-listen' AND datname = '${name}'`));
    const waitListeners = async () => {
      const end = Date.now() + T(10000);
      while (listeners() !== nodes.length && Date.now() < end) await sleep(50);
      assert.equal(listeners(), nodes.length, 'one listener per node, found by application_name');
    };
    await waitListeners();
    for (let round = 0; round < 4; round++) {
      const tok = await cliToken(url, { email: EMAIL, name: `cut-${round}` });
      for (const s of nodes) await warm(s, tok);
      const load = round % 2 ? loadUntil(nodes, { path: LIST, token: tok }) : null;
      if (load) await sleep(200);
      const killed = pg.psql(`SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'piora-listen' AND datname = '${name}') k`);
      assert.equal(Number(killed), nodes.length, 'every listener was terminated');
      const revoker = nodes[round % nodes.length];
      assert.equal((await revoker.del('/api/v1/token', { token: tok })).status, 204);
      const returned = performance.now();
      if (load) {
        await sleep(400);
        assertNoStale(assert, await load.stop(), returned, nodes.length, `round ${round}`);
      } else {
        await assertRevokedEverywhere(nodes, tok, `round ${round}`);
      }
      await waitListeners(); // they come back by themselves
    }
    for (const [i, s] of nodes.entries()) {
      assert.ok(await metric(s, 'piora_change_feed_reconnects_total') >= 4, `node ${i} counted its listener's reconnects`);
      const end = Date.now() + T(5000);
      while (await metric(s, 'piora_change_feed_healthy') !== 1 && Date.now() < end) await sleep(50);
      assert.equal(await metric(s, 'piora_change_feed_healthy'), 1, `node ${i}'s feed is healthy again`);
    }
  });

  // Round 0 freezes the listeners' backends for the revoke only (about a
  // second): the listeners wait on for the answer and are healthy again on
  // the same connection or a new one. Round 1 keeps them frozen 3 s, past the
  // listener's 2.5 s bound for an answer: each reconnects on a new backend.
  it("listeners' backends frozen (SIGSTOP: the connection stays open and says nothing) across a revoke: it waits, still no stale 200", { timeout: T(120000) }, async (t) => {
    const { url, name } = await freshDb();
    const nodes = await startNodes(t, url);
    const pids = () => listenerPids(name);
    const end = Date.now() + T(10000);
    while (pids().length !== nodes.length && Date.now() < end) await sleep(50);
    for (let round = 0; round < 2; round++) {
      const tok = await cliToken(url, { email: EMAIL, name: `frozen-${round}` });
      for (const s of nodes) await warm(s, tok);
      const load = round ? loadUntil(nodes, { path: LIST, token: tok }) : null;
      if (load) await sleep(200);
      // every node's listener: their connections stay open and deliver nothing
      const frozen = pids();
      assert.equal(frozen.length, nodes.length);
      for (const pid of frozen) process.kill(pid, 'SIGSTOP');
      let returned;
      try {
        assert.equal((await nodes[0].del('/api/v1/token', { token: tok })).status, 204);
        returned = performance.now();
        if (load) {
          await sleep(400);
          assertNoStale(assert, await load.stop(), returned, nodes.length, `frozen round ${round}`);
        } else {
          await assertRevokedEverywhere(nodes, tok, `frozen round ${round}`);
        }
        if (round) await sleep(3000); // wall-clock: the listener's own bound is not scaled
      } finally {
        for (const pid of frozen) { try { process.kill(pid, 'SIGCONT'); } catch { /* gone */ } }
      }
      await awaitFeedsHealthy(nodes, `round ${round}, after`);
      const back = Date.now() + T(10000);
      if (round) {
        while (pids().filter((p) => !frozen.includes(p)).length !== nodes.length && Date.now() < back) await sleep(50);
        assert.equal(pids().filter((p) => !frozen.includes(p)).length, nodes.length, 'every listener reconnected on a new backend');
      }
    }
  });

  it('PostgreSQL stopped and started mid-run: 503 unavailable within 5 s, then 200 again without a restart', { timeout: T(120000) }, async (t) => {
    const { url } = await freshDb();
    const nodes = await startNodes(t, url);
    const tok = await cliToken(url, { email: EMAIL, name: 'outage' });
    for (const s of nodes) await warm(s, tok);
    pg.pause();
    try {
      await sleep(600); // past the feed's health window: no node may answer from trust alone
      for (const [i, s] of nodes.entries()) {
        for (const [method, p, body] of [['GET', LIST], ['POST', '/api/v1/servers', { name: `down-${i}`, ip_address: '203.0.113.9' }]]) {
          const t0 = performance.now();
          const r = await s.req(method, p, { token: tok, body });
          const ms = performance.now() - t0;
          assertProblem(r, 503, 'unavailable', `${method} ${p} on node ${i} with PostgreSQL down:`);
          assert.ok(ms < 5000, `${method} on node ${i} answered in ${Math.round(ms)} ms (limit 5000)`);
        }
        const t0 = performance.now();
        const ready = await s.get('/readyz');
        assert.equal(ready.status, 503, `/readyz on node ${i}: ${ready.text}`);
        assert.ok(performance.now() - t0 < 5000, '/readyz within 5 s');
        s.alive();
      }
    } finally {
      pg.resume();
    }
    for (const [i, s] of nodes.entries()) {
      const end = Date.now() + T(15000);
      let r;
      do {
        r = await s.get(LIST, { token: tok });
        if (r.status !== 200) await sleep(100);
      } while (r.status !== 200 && Date.now() < end);
      assert.equal(r.status, 200, `node ${i} serves again once PostgreSQL is back: ${r.text}`);
      assert.equal((await s.get('/readyz')).status, 200);
      const made = await s.post('/api/v1/servers', { token: tok, body: { name: `back-${i}`, ip_address: '203.0.113.10' } });
      assert.equal(made.status, 201, made.text);
    }
    // and the feed is back too: a revocation is still seen everywhere at once
    assert.equal((await nodes[0].del('/api/v1/token', { token: tok })).status, 204);
    await assertRevokedEverywhere(nodes.slice(1), tok, 'after the outage');
  });

  it('PostgreSQL frozen (SIGSTOP: connections open, nothing answers): 503 within 5 s, no hang, then 200 again', { timeout: T(120000) }, async (t) => {
    const { url, name } = await freshDb();
    const nodes = await startNodes(t, url);
    const tok = await cliToken(url, { email: EMAIL, name: 'frozen-db' });
    for (const s of nodes) await warm(s, tok);
    const postmaster = Number(fs.readFileSync(path.join(pg.dir, 'data', 'postmaster.pid'), 'utf8').split('\n')[0]);
    const backends = pg.psql(`SELECT pid FROM pg_stat_activity WHERE datname = '${name}' AND pid <> pg_backend_pid()`)
      .split('\n').filter(Boolean).map(Number);
    assert.ok(backends.length >= nodes.length, 'the nodes hold connections');
    const frozen = [postmaster, ...backends];
    for (const pid of frozen) process.kill(pid, 'SIGSTOP');
    try {
      await sleep(600); // past the feed's health window
      await Promise.all(nodes.map(async (s, i) => {
        for (const [method, p, body] of [['GET', LIST], ['GET', '/readyz'], ['POST', '/api/v1/servers', { name: `frozen-${i}`, ip_address: '203.0.113.11' }]]) {
          const t0 = performance.now();
          const r = await s.req(method, p, { token: tok, body });
          const ms = performance.now() - t0;
          assertProblem(r, 503, 'unavailable', `${method} ${p} on node ${i} with PostgreSQL frozen:`);
          assert.ok(ms < 5000, `${method} ${p} on node ${i} answered in ${Math.round(ms)} ms (limit 5000)`);
        }
      }));
    } finally {
      for (const pid of frozen) { try { process.kill(pid, 'SIGCONT'); } catch { /* gone */ } }
    }
    for (const [i, s] of nodes.entries()) {
      const end = Date.now() + T(15000);
      let r;
      do {
        r = await s.get(LIST, { token: tok });
        if (r.status !== 200) await sleep(200);
      } while (r.status !== 200 && Date.now() < end);
      assert.equal(r.status, 200, `node ${i} serves again once PostgreSQL answers: ${r.text}`);
    }
    assert.equal((await nodes[1].del('/api/v1/token', { token: tok })).status, 204);
    await assertRevokedEverywhere(nodes, tok, 'after the freeze');
  });

  it('a node SIGKILLed during a burst of POST /servers: every 201 it sent is there afterwards', { timeout: T(120000) }, async (t) => {
    const { url } = await freshDb();
    const nodes = await startNodes(t, url);
    const tok = await cliToken(url, { email: EMAIL, name: 'burst' });
    const [victim, witness] = nodes;
    const created = [];
    let stop = false;
    let seq = 0;
    const loops = Array.from({ length: 8 }, () => (async () => {
      while (!stop) {
        const name = `burst-${seq++}`;
        try {
          const r = await fetch(victim.base + '/api/v1/servers', {
            method: 'POST', headers: { Authorization: `Bearer ${tok}`, 'Content-Type': 'application/json' },
            body: JSON.stringify({ name, ip_address: '203.0.113.20' }), signal: AbortSignal.timeout(T(10000)),
          });
          const text = await r.text();
          if (r.status === 201) created.push({ name, id: one(JSON.parse(text)).id });
        } catch { /* the node is gone: this one was never acknowledged */ }
      }
    })());
    await sleep(500);
    victim.proc.kill('SIGKILL');
    await victim.exited;
    stop = true;
    await Promise.all(loops);
    assert.ok(created.length >= 5, `the burst got ${created.length} acknowledged creates before the kill`);
    for (const c of created) {
      const r = await witness.get(`/api/v1/servers/${c.id}`, { token: tok });
      assert.equal(r.status, 200, `server ${c.id} (${c.name}) acknowledged by the killed node: ${r.text}`);
      assert.equal(one(r.json).name, c.name);
    }
    for (const s of nodes.slice(1)) await s.healthy();
  });

  // Rounds 0-5 on a quiet cluster; in rounds 6-8 every listener's backend
  // is frozen just before the write, so no node hears of it: the answer of
  // the write must wait until the other nodes have stopped trusting their
  // cached pages (a node whose listener is not heard from for 500 ms asks
  // the database on each request).
  it('a write on one node is read by the very next request on every other node, cached pages included', { timeout: T(120000) }, async (t) => {
    const { url, name: dbName } = await freshDb();
    const nodes = await startNodes(t, url);
    const tok = await cliToken(url, { email: EMAIL, name: 'writer' });
    const names = async (s) => {
      const r = await s.get(LIST, { token: tok });
      assert.equal(r.status, 200, r.text);
      return r.json.data.map((x) => x.name);
    };
    for (let round = 0; round < 9; round++) {
      await awaitFeedsHealthy(nodes, `round ${round}, before the write`);
      // Every node has the page cached (asked twice) before the write.
      for (const s of nodes) { await names(s); await names(s); }
      const writer = nodes[round % nodes.length];
      const others = nodes.filter((s) => s !== writer);
      const name = `seen-${round}`;
      const frozen = round >= 6 ? listenerPids(dbName) : [];
      if (round >= 6) assert.equal(frozen.length, nodes.length, 'one listener per node');
      for (const pid of frozen) process.kill(pid, 'SIGSTOP');
      try {
        const made = await writer.post('/api/v1/servers', { token: tok, body: { name, ip_address: '203.0.113.30' } });
        assert.equal(made.status, 201, made.text);
        const seen = await Promise.all(others.map(names));
        for (const [i, list] of seen.entries()) assert.ok(list.includes(name), `round ${round}: ${name} made on node ${nodes.indexOf(writer)} is missing on node ${nodes.indexOf(others[i])}: ${list}`);
        // And a delete is gone everywhere at once.
        assert.equal((await writer.del(`/api/v1/servers/${one(made.json).id}`, { token: tok })).status, 204);
        const after = await Promise.all(others.map(names));
        for (const list of after) assert.ok(!list.includes(name), `round ${round}: deleted ${name} still listed: ${list}`);
      } finally {
        for (const pid of frozen) { try { process.kill(pid, 'SIGCONT'); } catch { /* gone */ } }
      }
    }
  });

  it('a dashboard session made on one node is valid on every node; audit and last-used times are shared', { timeout: T(60000) }, async (t) => {
    const { url, password } = await freshDb();
    const [a, b, c] = await startNodes(t, url, 3, ['--last-used-interval', '1']);
    const hdr = await webSignIn(a, EMAIL, password);
    const at = (s) => ({ ...hdr, Origin: s.base });
    const who = await b.get('/web/api/session', { headers: at(b) });
    assert.equal(who.status, 200, who.text);
    const made = await c.post('/web/api/tokens', { headers: at(c), body: { name: 'from-c', scopes: ['servers:read'] } });
    assert.equal(made.status, 201, made.text);
    noteSecret(made.json.token);
    assert.equal((await a.get(LIST, { token: made.json.token })).status, 200);
    const listed = await a.get('/web/api/tokens', { headers: at(a) });
    assert.ok(listed.json.data.some((x) => x.name === 'from-c'), 'a token made on node c is listed on node a');
    // used on node a (above): node b's list shows when, once a's writer ran
    const end = Date.now() + T(10000);
    let used = null;
    while (!used && Date.now() < end) {
      const r = await b.get('/web/api/tokens', { headers: at(b) });
      used = r.json.data.find((x) => x.name === 'from-c')?.last_used_at ?? null;
      if (!used) await sleep(200);
    }
    assert.ok(used, 'the last use on node a shows on node b');
    const audit = await b.get('/web/api/audit?per_page=100', { headers: at(b) });
    assert.equal(audit.status, 200, audit.text);
    assert.ok(audit.json.data.some((e) => e.action === 'token.created' && e.token_name === 'from-c'),
      "node c's audit entry is in node b's audit list");
    assert.equal((await b.post('/web/api/signout', { headers: at(b) })).status, 204);
    for (const s of [a, c]) {
      const r = await s.get('/web/api/session', { headers: at(s) });
      assert.equal(r.status, 401, `the session signed out on node b is gone on ${s.base}`);
    }
    // the CLI sees the same database too
    const r = await run(['token', 'list', '--json', '--database', url]);
    assert.equal(r.code, 0, r.stderr);
  });
});

describe('cluster: behind the nginx upstream of docs/cluster.md', () => {
  it('round-robin over three nodes: a revoke through the balancer holds on every node; a killed node is routed around', { timeout: T(90000) }, async (t) => {
    const { url, password } = await freshDb();
    const nodes = await startNodes(t, url);
    const lb = await startNginx(nodes);
    t.after(() => lb.stop());
    const via = (p, opts = {}) => nodes[0].req(opts.method ?? 'GET', lb.base + p, opts);
    const tok = await cliToken(url, { email: EMAIL, name: 'balanced' });
    for (let i = 0; i < 9; i++) assert.equal((await via(LIST, { token: tok })).status, 200);
    const hdr = await webSignIn(nodes[1], EMAIL, password);
    const lbHdr = { ...hdr, Origin: lb.base };
    for (let i = 0; i < 6; i++) {
      const r = await via('/web/api/session', { headers: lbHdr });
      assert.equal(r.status, 200, `the session works whichever node nginx picks: ${r.text}`);
    }
    assert.equal((await via('/api/v1/token', { method: 'DELETE', token: tok })).status, 204);
    for (let i = 0; i < 9; i++) assertProblem(await via(LIST, { token: tok }), 401, 'token_revoked', `request ${i} after the revoke:`);

    const tok2 = await cliToken(url, { email: EMAIL, name: 'survivor' });
    nodes[2].proc.kill('SIGKILL');
    await nodes[2].exited;
    for (let i = 0; i < 9; i++) assert.equal((await via(LIST, { token: tok2 })).status, 200, 'nginx routes around the dead node');
  });
});

describe('cluster: three nodes on one PostgreSQL and one Redis', () => {
  it('a limit of N per minute holds across nodes: the N+1st request, on any node, is 429', { timeout: T(60000) }, async (t) => {
    const { url } = await freshDb();
    const redis = await startRedis(t);
    const nodes = await startNodes(t, url, 3, ['--redis', redis.url], { rateLimit: 6 });
    const tok = await cliToken(url, { email: EMAIL, name: 'limited' });
    for (let i = 0; i < 6; i++) {
      const r = await nodes[i % 3].get(LIST, { token: tok });
      assert.equal(r.status, 200, `request ${i + 1} of 6 on node ${i % 3}: ${r.text}`);
    }
    for (const [i, s] of nodes.entries()) assertProblem(await s.get(LIST, { token: tok }), 429, 'rate_limited', `node ${i}, past 6 for the cluster:`);
  });

  it('Redis stopped and started mid-run: nodes keep answering on their own limits, then share again', { timeout: T(60000) }, async (t) => {
    const { url } = await freshDb();
    const redis = await startRedis(t);
    const nodes = await startNodes(t, url, 3, ['--redis', redis.url], { rateLimit: 6 });
    const before = await cliToken(url, { email: EMAIL, name: 'before' });
    for (const s of nodes) assert.equal((await s.get(LIST, { token: before })).status, 200);
    await redis.stop();
    const during = await cliToken(url, { email: EMAIL, name: 'during' });
    for (const [i, s] of nodes.entries()) {
      for (let k = 0; k < 3; k++) {
        const r = await s.get(LIST, { token: during });
        assert.equal(r.status, 200, `node ${i} with Redis gone, request ${k + 1}: ${r.text}`);
      }
    }
    const fallbacks = await Promise.all(nodes.map((s) => metric(s, 'piora_ratelimit_redis_fallbacks_total')));
    assert.ok(fallbacks.every((n) => n >= 1), `every node counted its fallback: ${fallbacks}`);
    await redis.start();
    // shared again: a fresh token's 6 spread over the nodes, then 429 anywhere
    const after = await cliToken(url, { email: EMAIL, name: 'after' });
    const end = Date.now() + T(10000);
    while (Date.now() < end && (await Promise.all(nodes.map((s) => metric(s, 'piora_ratelimit_redis_up')))).some((v) => v !== 1)) await sleep(100);
    for (let i = 0; i < 6; i++) {
      const r = await nodes[i % 3].get(LIST, { token: after });
      assert.equal(r.status, 200, `request ${i + 1} of 6 once Redis is back: ${r.text}`);
    }
    for (const [i, s] of nodes.entries()) assertProblem(await s.get(LIST, { token: after }), 429, 'rate_limited', `node ${i} once Redis is back:`);
  });
});
