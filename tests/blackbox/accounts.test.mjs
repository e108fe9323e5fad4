// One rule for account names (core/users.c): a user the CLI creates signs
// in to the dashboard with the same email, however it is capitalised.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { addUser, startServer, newDatabase, tmpDir } from './lib/piora.mjs';

describe('accounts made by the CLI', () => {
  it('sign in to the dashboard, single-label domains included', async (t) => {
    const db = newDatabase(tmpDir('acct'));
    const password = await addUser(db, { email: 'root@localhost', team: 'ops' });
    const s = await startServer(t, { dbPath: db });
    for (const email of ['root@localhost', 'Root@LocalHost']) {
      const r = await s.post('/web/api/signin', { body: { email, password } });
      assert.equal(r.status, 200, `${email}: ${r.text}`);
      assert.equal(r.json.user.email, 'root@localhost');
      assert.match(r.h('set-cookie') ?? '', /HttpOnly/i);
    }
    const wrong = await s.post('/web/api/signin', { body: { email: 'root@localhost', password: 'not-it-at-all' } });
    assert.equal(wrong.status, 401);
    await s.stop();
  });
});
