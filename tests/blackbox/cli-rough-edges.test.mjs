// Issue 13's CLI rough edges: a missing database is refused (SPEC 7), an
// unknown scope gets the valid list and the nearest, `token revoke` says what
// it revoked, `--expires-in` takes NEVER and a date, `piora -V`, and
// `piora audit` / `token list` show names and the last-used address.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BIN, addUser, cli, createToken, listTokens, newDatabase, run, startServer, tmpDir, tokenId, T } from './lib/piora.mjs';

// run() of lib has no cwd; the "wrong directory" case needs one.
function runIn(cwd, args) {
  const r = spawnSync(BIN, args, { cwd, encoding: 'utf8', env: { ...process.env, PIORA_DATABASE: '' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function oneLine(stderr) {
  assert.equal(stderr.trimEnd().split('\n').length, 1, `one line: ${stderr}`);
}

describe('a missing database is refused, never created', () => {
  it('every command but serve and user add fails naming the path, and creates nothing', async () => {
    // about a SQLite file that is not there: a path in both modes
    const dir = tmpDir('nodb');
    const db = path.join(dir, 'typo.db');
    const cases = [
      ['token', 'list', '--database', db],
      ['token', 'create', '--database', db, '--email', 'a@b.example', '--name', 'n', '--scopes', 'servers:read'],
      ['token', 'revoke', '--database', db, '1'],
      ['token', 'usage', '--database', db, '1'],
      ['user', 'list', '--database', db],
      ['user', 'password', '--database', db, '--email', 'a@b.example', '--password-stdin'],
      ['audit', '--database', db],
    ];
    for (const args of cases) {
      const r = await run(args, { input: 'Sup3r-Secret-pw!x\n' });
      assert.equal(r.code, 1, `${args.slice(0, 2).join(' ')}: exit ${r.code} ${r.stderr}`);
      assert.equal(r.stdout, '');
      oneLine(r.stderr);
      assert.ok(r.stderr.includes(db), `names ${db}: ${r.stderr}`);
      assert.equal(existsSync(db), false, `${args.slice(0, 2).join(' ')} created ${db}`);
    }
    assert.deepEqual(readdirSync(dir), []);
  });

  it('the default ./piora.db in the wrong directory: the absolute path is named', () => {
    const cwd = tmpDir('cwd');
    const r = runIn(cwd, ['token', 'list']);
    assert.equal(r.code, 1, r.stderr);
    oneLine(r.stderr);
    assert.ok(r.stderr.includes(path.join(cwd, 'piora.db')), r.stderr);
    assert.equal(existsSync(path.join(cwd, 'piora.db')), false);
  });

  it('user add still creates it, and the others then work', async () => {
    // the SQLite file user add creates: a path in both modes
    const db = path.join(tmpDir('nodb'), 'p.db');
    await addUser(db, { email: 'first@edges.test', team: 'T' });
    assert.ok(existsSync(db));
    await cli(['token', 'list', '--database', db]);
  });
});

describe('token create wording', () => {
  it('an unknown scope lists the valid ones and suggests the nearest', async () => {
    const db = newDatabase(tmpDir('scope'), 'p.db');
    await addUser(db, { email: 'sc@edges.test', team: 'T' });
    const args = ['token', 'create', '--database', db, '--email', 'sc@edges.test', '--name', 'n'];
    let r = await run([...args, '--scopes', 'servers:read,applications:depoly']);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    oneLine(r.stderr);
    assert.match(r.stderr, /applications:depoly/);
    assert.match(r.stderr, /did you mean applications:deploy\?/);
    for (const s of ['servers:read', 'servers:write', 'databases:write', 'backups:read', 'backups:write'])
      assert.ok(r.stderr.includes(s), `lists ${s}`);
    // Nothing close: the list, no guess.
    r = await run([...args, '--scopes', 'everything']);
    assert.equal(r.code, 1);
    assert.doesNotMatch(r.stderr, /did you mean/);
    assert.match(r.stderr, /valid scopes: servers:read/);
    assert.equal((await listTokens(db)).length, 0);
  });

  it('--expires-in NEVER in any case, and a date meaning the end of that day UTC', async () => {
    const db = newDatabase(tmpDir('exp'), 'p.db');
    await addUser(db, { email: 'ex@edges.test', team: 'T' });
    for (const [name, v] of [['upper', 'NEVER'], ['mixed', 'Never']])
      await createToken(db, { email: 'ex@edges.test', name, scopes: 'servers:read', expiresIn: v });
    const year = new Date().getUTCFullYear() + 1;
    await createToken(db, { email: 'ex@edges.test', name: 'dated', scopes: 'servers:read', expiresIn: `${year}-01-01` });
    const all = await listTokens(db);
    assert.equal(all.find((t) => t.name === 'upper').expires_at, null);
    assert.equal(all.find((t) => t.name === 'mixed').expires_at, null);
    assert.equal(all.find((t) => t.name === 'dated').expires_at, `${year}-01-01T23:59:59Z`);
    // A past date, an impossible one: refused as a bad command line.
    for (const v of ['2020-01-01', `${year}-02-30`]) {
      const r = await run(['token', 'create', '--database', db, '--email', 'ex@edges.test', '--name', 'x',
        '--scopes', 'servers:read', '--expires-in', v]);
      assert.equal(r.code, 2, `${v}: ${r.stderr}`);
      oneLine(r.stderr);
      assert.match(r.stderr, new RegExp(v));
    }
    assert.equal((await listTokens(db)).length, 3);
  });
});

describe('token revoke says what it revoked', () => {
  it('id, name and owner on stdout; again says already revoked', async () => {
    const db = newDatabase(tmpDir('rev'), 'p.db');
    await addUser(db, { email: 'rv@edges.test', team: 'T' });
    await createToken(db, { email: 'rv@edges.test', name: 'deploy bot', scopes: 'servers:read' });
    const id = await tokenId(db, 'deploy bot');
    let r = await cli(['token', 'revoke', '--database', db, String(id)]);
    assert.equal(r.stdout, `revoked token ${id} "deploy bot" of rv@edges.test\n`);
    assert.equal(r.stderr, '');
    r = await cli(['token', 'revoke', '--database', db, String(id)]);
    assert.equal(r.stdout, `already revoked: token ${id} "deploy bot" of rv@edges.test\n`);
  });
});

describe('piora -V', () => {
  it('-V and --version print the version like piora version', async () => {
    const v = (await cli(['version'])).stdout;
    assert.match(v, /^piora \d+\.\d+\.\d+\S*\n$/);
    assert.equal((await cli(['-V'])).stdout, v);
    assert.equal((await cli(['--version'])).stdout, v);
  });
});

describe('names, not bare ids', () => {
  it('piora audit shows the team name and the OS user of CLI actions; token list the last address', { timeout: T(60000) }, async (t) => {
    const db = newDatabase(tmpDir('names'), 'p.db');
    await addUser(db, { email: 'nm@edges.test', team: 'Acme Ops' });
    const tok = await createToken(db, { email: 'nm@edges.test', name: 'used one', scopes: 'servers:read' });
    const me = os.userInfo().username;

    const s = await startServer(t, { dbPath: db });
    assert.equal((await s.get('/api/v1/servers', { token: tok })).status, 200);
    await s.stop();

    const table = (await cli(['audit', '--database', db])).stdout.trimEnd().split('\n');
    assert.match(table[0], /^TIME\s+ACTION\s+VIA\s+TEAM\s+ACTOR\s+TOKEN\s+EMAIL\s+ADDRESS$/);
    const created = table.find((l) => /token\.created/.test(l));
    assert.ok(created, table.join('\n'));
    assert.match(created, new RegExp(`\\scli\\s+Acme Ops\\s+${me} \\(os user\\)\\s+\\d+ \\(used one\\)\\s+-\\s+local$`));
    const json = JSON.parse((await cli(['audit', '--json', '--database', db])).stdout);
    const e = json.find((x) => x.action === 'token.created');
    assert.equal(e.addr, `local:${me}`);
    assert.equal(e.actor, null);

    const lines = (await cli(['token', 'list', '--database', db])).stdout.trimEnd().split('\n');
    assert.match(lines[0], /\bLAST ADDRESS\b/);
    const col = lines[0].indexOf('LAST ADDRESS');
    assert.equal(lines[1].slice(col).split(/\s+/)[0], '127.0.0.1');
    assert.equal((await listTokens(db))[0].last_used_addr, '127.0.0.1');
  });
});
