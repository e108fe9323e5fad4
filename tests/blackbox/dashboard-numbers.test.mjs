// The dashboard's token endpoints read numbers and lists from outside
// without the C library's lenient parsers (scripts/check-banned.sh): an
// expiry choice maps to its day count, several scopes join into one list,
// and the usage filter's status is a strict decimal, so " 401" or "+401"
// is refused where strtol used to read 401.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { addUser, startServer, newDatabase, tmpDir } from './lib/piora.mjs';
import { noteSecret } from '../lib/journal.mjs';

const DAY = 86400 * 1000;

async function signIn(s, email, password) {
  const r = await s.post('/web/api/signin', { body: { email, password } });
  assert.equal(r.status, 200, r.text);
  const cookie = (r.h('set-cookie') ?? '').split(';')[0];
  noteSecret(cookie.split('=').slice(1).join('='));
  return { Cookie: cookie, 'X-CSRF-Token': r.json.csrf, Origin: s.base };
}

describe('dashboard token endpoints and numbers', () => {
  it('expiry choices, joined scopes and a strict status filter', async (t) => {
    const db = newDatabase(tmpDir('dnum'));
    const password = await addUser(db, { email: 'nia@num.test', team: 'num' });
    const s = await startServer(t, { dbPath: db });
    const headers = await signIn(s, 'nia@num.test', password);

    const made = await s.post('/web/api/tokens', {
      headers, body: { name: 'thirty', scopes: ['servers:read', 'backups:read'], expiry: '30' },
    });
    assert.equal(made.status, 201, made.text);
    noteSecret(made.json.token);
    assert.deepEqual(made.json.scopes, ['servers:read', 'backups:read']);
    const left = Date.parse(made.json.expires_at) - Date.now();
    assert.ok(Math.abs(left - 30 * DAY) < 600 * 1000, `expires_at ${made.json.expires_at} is 30 days out`);

    const usage = `/web/api/tokens/${made.json.id}/usage`;
    const good = await s.get(`${usage}?status=401`, { headers });
    assert.equal(good.status, 200, good.text);
    for (const v of ['%2B401', '%20401', '401x', '99', '600', '-401']) {
      const r = await s.get(`${usage}?status=${v}`, { headers });
      assert.equal(r.status, 422, `status=${v}: ${r.text}`);
      assert.equal(r.json.errors?.[0]?.field, 'status', `status=${v}: ${r.text}`);
    }
    await s.stop();
  });
});
