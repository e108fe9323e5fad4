// Issue 8, the HTTP front door: what no unauthenticated client may hold or
// slip past (SPEC 8). Slow heads and bodies are cut at their deadline, one
// address cannot take every connection, a token route's body is refused
// before it is read, buffered bodies share one budget, NUL bytes are 400,
// the head limit is the documented one, and a second server on a busy
// address fails. Every timing here is bounded by short settings.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { dbArgs, makeTemplate, startServer, run, sleep, T, SLOW, REPO } from './lib/piora.mjs';

let tpl;
let TOK;

before(async () => {
  tpl = await makeTemplate({
    users: [{ email: 'ina@front.test', team: 'front' }],
    tokens: [{ email: 'ina@front.test', name: 'rw', scopes: 'servers:write' }],
  });
  TOK = tpl.tokens.rw;
});

// A raw connection: what it received, whether (and when) it was closed.
function open(port, { localAddress } = {}) {
  const sock = net.connect({ port, host: '127.0.0.1', localAddress });
  const c = { sock, data: '', closedAt: null, t0: Date.now(), error: null };
  c.connected = new Promise((resolve) => sock.on('connect', resolve));
  c.closed = new Promise((resolve) => sock.on('close', () => { c.closedAt = Date.now(); resolve(); }));
  sock.on('data', (d) => { c.data += d.toString('latin1'); });
  sock.on('error', (e) => { c.error = e.code; });
  return c;
}

const status = (text) => { const m = /^HTTP\/1\.[01] (\d{3})/.exec(text); return m ? Number(m[1]) : null; };

// Sends one request and resolves with the first answer's status and text.
async function ask(port, request, { localAddress, timeoutMs = T(5000) } = {}) {
  const c = open(port, { localAddress });
  await c.connected;
  c.sock.write(Buffer.from(request, 'latin1'));
  await Promise.race([c.closed, sleep(timeoutMs)]);
  c.sock.destroy();
  return { status: status(c.data), text: c.data };
}

// Resolves true when c is closed within ms, false otherwise.
const closedWithin = (c, ms) => Promise.race([c.closed.then(() => true), sleep(ms).then(() => false)]);

describe('the HTTP front door (issue 8)', () => {
  it('slow heads and slow bodies are closed at their deadline; one address is capped, others served', async (t) => {
    const s = await startServer(t, {
      template: tpl,
      idleTimeout: 30,
      args: ['--header-timeout', '1', '--body-timeout', '1', '--max-connections-per-address', '4'],
    });
    // Three slowloris heads (one header line every 200 ms keeps them far
    // from the 30 s idle timeout) and one slow body, all from 127.0.0.1.
    const slow = [];
    const timers = [];
    for (let i = 0; i < 3; i++) {
      const c = open(s.port);
      await c.connected;
      c.sock.write('GET /healthz HTTP/1.1\r\nHost: x\r\n');
      timers.push(setInterval(() => { if (!c.sock.destroyed) c.sock.write(`X-Slow-${i}: a\r\n`); }, 200));
      slow.push(c);
    }
    const body = open(s.port);
    await body.connected;
    body.sock.write(`POST /api/v1/servers HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOK}\r\n` +
      'Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n{');
    timers.push(setInterval(() => { if (!body.sock.destroyed) body.sock.write(' '); }, 200));
    slow.push(body);
    t.after(() => timers.forEach(clearInterval));
    await sleep(100);
    // The address's fifth connection is refused while the four are open...
    const fifth = await ask(s.port, 'GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', { timeoutMs: T(2000) });
    assert.equal(fifth.status, null, `the fifth connection from one address was served: ${fifth.text.slice(0, 80)}`);
    // ...and another address is served meanwhile.
    const other = await ask(s.port, 'GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', { localAddress: '127.0.0.2' });
    assert.equal(other.status, 200, 'another address is served');
    // Every slow connection is closed by its 1 s deadline, not the 30 s idle timeout.
    for (const [i, c] of slow.entries()) {
      assert.ok(await closedWithin(c, T(4000)), `slow connection ${i} still open after 4 s`);
      assert.ok(c.closedAt - c.t0 < T(4000), `slow connection ${i} took ${c.closedAt - c.t0} ms`);
    }
    timers.forEach(clearInterval);
    // The address is free again and a plain request is still served (on a
    // new connection: the 1 s head deadline also closed the kept-alive one
    // the test client may still hold from start-up). The server frees an
    // address's slot when it cleans the connection up, a moment after the
    // client saw it closed (under ThreadSanitizer one request was refused in
    // that moment): the test asks for up to 3 s and demands a 200 in them.
    const until = Date.now() + T(3000);
    let again;
    do {
      again = await ask(s.port, 'GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', { timeoutMs: T(2000) });
      if (again.status !== 200) await sleep(50);
    } while (again.status !== 200 && Date.now() < until);
    assert.equal(again.status, 200, 'the address is served again once its slow connections are closed');
    await s.stop();
  });

  it('an unauthenticated POST is refused on its headers, before its body is sent', async (t) => {
    const s = await startServer(t, { template: tpl });
    for (const auth of ['', 'Authorization: Bearer piora_token_wrong\r\n']) {
      const c = open(s.port);
      await c.connected;
      // A 900 KB body is announced and never sent: only an answer from the
      // headers alone can arrive.
      c.sock.write(`POST /api/v1/servers HTTP/1.1\r\nHost: x\r\n${auth}Content-Type: application/json\r\n` +
        'Content-Length: 900000\r\n\r\n');
      await Promise.race([c.closed, sleep(T(3000))]);
      c.sock.destroy();
      assert.equal(status(c.data), 401, `${auth || 'no token'}: ${c.data.slice(0, 80) || 'no answer before the body'}`);
    }
    // A good token's body is still read and served.
    const ok = await s.post('/api/v1/servers', { token: TOK, body: { name: 'after', ip_address: '10.0.0.9' } });
    assert.equal(ok.status, 201, ok.text);
    await s.stop();
  });

  it('200 unauthenticated uploads at once leave the server\'s memory bounded', { timeout: T(60000) }, async (t) => {
    const s = await startServer(t, { template: tpl, args: ['--max-connections-per-address', '0'] });
    const rss = () => Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${s.proc.pid}/status`, 'utf8'))[1]) * 1024;
    const before = rss();
    const conns = [];
    t.after(() => conns.forEach((c) => c.sock.destroy()));
    const chunk = Buffer.alloc(512 * 1024, 0x20);
    for (let i = 0; i < 200; i++) {
      const c = open(s.port);
      conns.push(c);
      c.connected.then(() => {
        c.sock.write('POST /api/v1/servers HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n' +
          'Content-Length: 1000000\r\n\r\n');
        c.sock.write(chunk);
      });
    }
    await Promise.all(conns.map((c) => c.connected));
    await sleep(T(1500));
    const grown = rss() - before;
    // Buffered, 200 half-sent bodies would be ~100 MiB (several times that
    // under a sanitizer, whose shadow memory multiplies every allocation, so
    // a sanitizer build gets a wider bound: 34 MiB was seen under TSan).
    const bound = (SLOW ? 64 : 24) << 20;
    assert.ok(grown < bound, `RSS grew by ${(grown / 1048576).toFixed(1)} MiB`);
    const answered = conns.filter((c) => status(c.data) === 401).length;
    assert.ok(answered > 150, `only ${answered} of 200 uploads were refused with 401`);
    conns.forEach((c) => c.sock.destroy());
    assert.equal((await s.get('/healthz')).status, 200);
    await s.stop();
  });

  it('bodies buffered across connections share one budget: past it, 503 with Retry-After', async (t) => {
    const s = await startServer(t, { template: tpl, args: ['--body-memory', '1048576'] });
    const head = `POST /api/v1/servers HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOK}\r\n` +
      'Content-Type: application/json\r\nContent-Length: 1000000\r\nConnection: close\r\n\r\n';
    const first = open(s.port);
    await first.connected;
    first.sock.write(head + ' '.repeat(700000));
    await sleep(300);
    const second = open(s.port);
    await second.connected;
    // The second is read in full (and dropped) so that it reads its answer.
    second.sock.write(head + ' '.repeat(1000000));
    await Promise.race([second.closed, sleep(T(3000))]);
    assert.equal(status(second.data), 503, second.data.slice(0, 120));
    assert.match(second.data, /\r\nRetry-After: \d+\r\n/i);
    first.sock.destroy();
    second.sock.destroy();
    await sleep(200);
    // The budget is given back when a connection goes.
    const ok = await s.post('/api/v1/servers', { token: TOK, body: { name: 'budget', ip_address: '10.0.0.8' } });
    assert.equal(ok.status, 201, ok.text);
    await s.stop();
  });

  it('a NUL byte in the target (%00) or after the token is a 400', async (t) => {
    const s = await startServer(t, { template: tpl });
    const cases = [
      'GET /metrics%00.html HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
      'GET /healthz%00x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
      `GET /api/v1/servers?q=a%00b HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOK}\r\nConnection: close\r\n\r\n`,
      `GET /api/v1/servers HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOK}\0junk\r\nConnection: close\r\n\r\n`,
      `GET /api/v1/servers HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOK}\0\0junk\r\nConnection: close\r\n\r\n`,
      `GET /api/v1/servers HTTP/1.1\nHost: x\nConnection: close\nAuthorization: Bearer ${TOK}\0junk\n\n`,
      `GET /api/v1/servers HTTP/1.1\r\nHost: x\r\nX-Note: a\0b\r\nAuthorization: Bearer ${TOK}\r\nConnection: close\r\n\r\n`,
      // An obs-fold line ends up past the value's measured end as well, and
      // RFC 9112 5.2 allows a 400 for it.
      'GET /healthz HTTP/1.1\r\nHost: x\r\nX-Fold: a\r\n b\r\nConnection: close\r\n\r\n',
    ];
    for (const c of cases) {
      const r = await ask(s.port, c);
      assert.equal(r.status, 400, `${JSON.stringify(c.slice(0, 70))}: ${r.text.slice(0, 80)}`);
    }
    // The same requests without the NUL pass (bare LF line ends included).
    const plain = await ask(s.port, `GET /api/v1/servers HTTP/1.1\nHost: x\nConnection: close\nAuthorization: Bearer ${TOK}\n\n`);
    assert.equal(plain.status, 200, plain.text.slice(0, 80));
    const trailing = await ask(s.port, `GET /api/v1/servers HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOK}  \r\nConnection: close\r\n\r\n`);
    assert.notEqual(trailing.status, 400, 'trailing blanks are not a NUL');
    await s.stop();
  });

  it('the request head limit is --max-header-bytes (16 KiB): 16384 bytes pass, 16385 are 431', async (t) => {
    const s = await startServer(t, { template: tpl });
    const headOf = (size) => {
      const start = 'GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Pad: ';
      const end = '\r\n\r\n';
      return start + 'a'.repeat(size - start.length - end.length) + end;
    };
    assert.equal(headOf(16384).length, 16384);
    const fits = await ask(s.port, headOf(16384));
    assert.equal(fits.status, 200, fits.text.slice(0, 80));
    const over = await ask(s.port, headOf(16385));
    assert.equal(over.status, 431, over.text.slice(0, 80));
    await s.stop();
  });

  it('Content-Type is not consulted, so neither OpenAPI nor docs/api.md promise a 415', async (t) => {
    const s = await startServer(t, { template: tpl });
    const r = await s.req('POST', '/api/v1/servers', {
      token: TOK, body: JSON.stringify({ name: 'plain', ip_address: '10.0.0.6' }), headers: { 'Content-Type': 'text/plain' },
    });
    assert.equal(r.status, 201, r.text);
    const doc = await (await fetch(`${s.base}/api/v1/openapi.json`)).json();
    for (const [p, ops] of Object.entries(doc.paths))
      for (const [m, op] of Object.entries(ops))
        assert.equal(op.responses?.['415'], undefined, `${m.toUpperCase()} ${p} documents a 415`);
    assert.equal(doc.components?.responses?.UnsupportedMediaType, undefined);
    const api = fs.readFileSync(path.join(REPO, 'docs', 'api.md'), 'utf8');
    assert.doesNotMatch(api, /is a 415|\| 415 \|/, 'docs/api.md promises a 415');
    await s.stop();
  });

  it('a second piora serve on a busy address fails with "address already in use"', async (t) => {
    const s = await startServer(t, { template: tpl });
    const r = await run(['serve', '--listen', `127.0.0.1:${s.port}`, ...dbArgs(s.db)], { timeoutMs: T(10000) });
    assert.notEqual(r.code, 0, `the second server started: ${r.stderr}`);
    assert.match(r.stderr, /address already in use/i);
    assert.equal((await s.get('/healthz')).status, 200);
    await s.stop();
  });
});
