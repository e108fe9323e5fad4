// Runs after the black-box and browser suites (scripts/test.sh): every
// secret they created (tokens, passwords, session cookies) against every
// log a piora process wrote meanwhile (server stdout and stderr, CLI
// output other than `token create`'s, whose stdout is the token by design).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

const dir = process.env.PIORA_TEST_JOURNAL;

test('no secret created by the suites appears in any log they made piora write', (t) => {
  if (!dir || !existsSync(path.join(dir, 'secrets.txt'))) {
    t.skip('PIORA_TEST_JOURNAL not set: run through scripts/test.sh');
    return;
  }
  const secrets = [...new Set(readFileSync(path.join(dir, 'secrets.txt'), 'utf8').split('\n').filter((s) => s.length >= 8))];
  const logs = readdirSync(dir).filter((f) => f.startsWith('log-'));
  assert.ok(secrets.length >= 20, `the suites recorded ${secrets.length} secrets: is the journal wired?`);
  assert.ok(logs.length >= 20, `the suites recorded ${logs.length} logs: is the journal wired?`);
  const found = [];
  let bytes = 0;
  for (const f of logs) {
    const text = readFileSync(path.join(dir, f), 'utf8');
    bytes += text.length;
    for (const s of secrets) {
      if (text.includes(s)) found.push(`${text.split('\n', 1)[0]} (${f}) holds a secret starting ${s.slice(0, 14)}…`);
    }
  }
  assert.deepEqual(found, [], found.slice(0, 20).join('\n'));
  t.diagnostic(`${secrets.length} secrets checked against ${logs.length} logs (${bytes} bytes)`);
});
