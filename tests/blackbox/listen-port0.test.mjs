// `--listen 127.0.0.1:0` (issue 13): the kernel picks the port, the start
// line on standard error names it in a form a script can read, and the
// first-run setup link uses that port when no --public-url is set.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { Server, T, dbArgs, newDatabase, sleep, tmpDir } from './lib/piora.mjs';

// The documented start line (docs/configuration.md, --listen).
const START_LINE = /piora listening on http:\/\/127\.0\.0\.1:(\d+) \(/;

async function waitFor(get, re, ms = T(10000)) {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(25)) {
    const m = re.exec(get());
    if (m) return m;
  }
  assert.match(get(), re);
  return null;
}

describe('--listen with port 0', () => {
  it('serves on the port it prints, and the setup link names that port', { timeout: T(30000) }, async (t) => {
    const dir = tmpDir('port0');
    const db = newDatabase(dir);
    const s = new Server(0, db, dir, ['serve', '--listen', '127.0.0.1:0', ...dbArgs(db)]);
    t.after(() => s.kill());
    const m = await waitFor(() => s.stderr, START_LINE);
    const port = Number(m[1]);
    assert.ok(port > 0 && port < 65536, `a real port: ${port}`);
    s.port = port;
    s.base = `http://127.0.0.1:${port}`;
    await s.ready();
    assert.equal((await s.get('/healthz')).status, 200);

    const link = await waitFor(() => s.stderr, /First run: open (http:\/\/\S+)\/setup#[A-Za-z0-9_-]{43} /);
    assert.equal(link[1], s.base, 'the setup link uses the port the kernel chose');
    const page = await s.get('/setup');
    assert.equal(page.status, 200);
    await s.stop();
    // Standard output stays the JSON access log.
    for (const line of s.stdout.split('\n').filter(Boolean)) JSON.parse(line);
  });
});
