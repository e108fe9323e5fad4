// SPEC 7: SIGTERM and SIGINT stop the server gracefully: in-flight requests
// finish, new connections are refused, and the process exits 0.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { Server, dbArgs, makeTemplate, newDatabase, startServer, sleep, T, tmpDir } from './lib/piora.mjs';

let tpl;
let TOK;

before(async () => {
  tpl = await makeTemplate({
    users: [{ email: 'sid@stop.test', team: 'stop' }],
    tokens: [{ email: 'sid@stop.test', name: 'rw', scopes: 'servers:write' }],
  });
  TOK = tpl.tokens.rw;
});

// A POST whose body arrives in two halves; resolves with the raw answer.
function slowPost(port, body, halfSent, release) {
  return new Promise((resolve) => {
    const sock = net.connect(port, '127.0.0.1');
    let data = '';
    const head = `POST /api/v1/servers HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOK}\r\n`
      + `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n`;
    const cut = Math.floor(body.length / 2);
    sock.on('connect', async () => {
      sock.write(head + body.slice(0, cut));
      halfSent();
      await release;
      sock.write(body.slice(cut));
    });
    sock.on('data', (d) => { data += d; });
    sock.on('close', () => resolve(data));
    sock.on('error', () => resolve(data));
  });
}

for (const signal of ['SIGTERM', 'SIGINT']) {
  describe(`${signal} while a request is in flight`, () => {
    it('the request still gets its whole answer, then the server exits 0', { timeout: T(30000) }, async (t) => {
      const s = await startServer(t, { template: tpl });
      let halfSent;
      const started = new Promise((r) => { halfSent = r; });
      let release;
      const go = new Promise((r) => { release = r; });
      const answer = slowPost(s.port, JSON.stringify({ name: 'in-flight', ip_address: '10.9.9.9' }), halfSent, go);
      await started;
      await sleep(T(200)); // the server has the headers and half the body
      s.proc.kill(signal);
      await sleep(T(300)); // it is stopping: no longer accepting
      const refused = await new Promise((resolve) => {
        const c = net.connect(s.port, '127.0.0.1');
        c.on('connect', () => { c.destroy(); resolve(false); });
        c.on('error', () => resolve(true));
      });
      release();
      const text = await answer;
      assert.match(text, /^HTTP\/1\.1 201 /, `the in-flight request was cut: ${JSON.stringify(text.slice(0, 200))}`);
      assert.match(text, /"name":"in-flight"/);
      const res = await s.exited;
      assert.deepEqual(res, { code: 0, signal: null }, `exit after ${signal}: ${s.stderr.slice(-2000)}`);
      assert.ok(refused, 'a new connection was accepted after the signal');
    });
  });
}

// Only the main thread takes SIGTERM and SIGINT (sigwait); every other
// thread blocks them. A thread started before that mask was set took the
// signal itself and ended the process on the spot, no drain and no goodbye:
// PostgreSQL's change-feed listener did, in the moment between its start and
// the main thread's wait. The runner's start line falls in that moment.
describe('SIGTERM while the server is still starting', () => {
  it('the main thread takes it: a clean exit 0, five times over', { timeout: T(60000) }, async (t) => {
    for (let i = 0; i < 5; i++) {
      const dir = tmpDir('early-stop');
      const db = newDatabase(dir);
      const s = new Server(0, db, dir, ['serve', '--listen', '127.0.0.1:0', ...dbArgs(db)]);
      t.after(() => s.kill());
      for (const end = Date.now() + T(15000); !/"msg":"runner: /.test(s.stderr) && !s.exit && Date.now() < end;) await sleep(2);
      assert.match(s.stderr, /"msg":"runner: /, 'the server got as far as starting its job runner');
      s.proc.kill('SIGTERM');
      await s.stop();
    }
  });
});
