// Which paths are dashboard pages is decided by the server (issue 13): a
// page answers 200 with the dashboard, any other path the same dashboard
// (which shows its "Page not found") with a real 404 status.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from './lib/piora.mjs';

describe('dashboard paths', () => {
  it('pages answer 200, unknown paths 404 with the 404 page', async (t) => {
    const s = await startServer(t);
    for (const p of ['/', '/signin', '/setup', '/servers', '/servers/12', '/applications/3', '/databases',
      '/backups', '/audit', '/settings', '/settings/tokens', '/settings/tokens/7', '/settings/account',
      '/settings/members']) {
      const r = await s.get(p);
      assert.equal(r.status, 200, p);
      assert.match(r.h('content-type'), /text\/html/, p);
    }
    for (const p of ['/no/such/page', '/servers/abc', '/servers/12/x', '/settings/bogus', '/serverss',
      '/databases/4', '/index.html']) {
      const r = await s.get(p);
      assert.equal(r.status, 404, p);
      assert.match(r.h('content-type'), /text\/html/, p);
      assert.match(r.text, /<script/, `${p}: the dashboard, which shows its 404 page`);
    }
    await s.stop();
  });
});
