// The suite-wide secrets journal (issue 4: "scan every log written during
// the whole test suite for every secret the suite created"). When
// PIORA_TEST_JOURNAL names a folder, the black-box and browser helpers
// record there every token, password and session cookie a test creates and
// everything a piora process writes; tests/secrets-scan.test.mjs, run by
// scripts/test.sh after the suites, checks that no log holds any secret.
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const dir = process.env.PIORA_TEST_JOURNAL || '';
if (dir) mkdirSync(dir, { recursive: true });
let seq = 0;

export function noteSecret(s) {
  if (dir && typeof s === 'string' && s.length >= 8) appendFileSync(path.join(dir, 'secrets.txt'), `${s}\n`);
}

export function noteLog(what, text) {
  if (!dir || !text) return;
  seq += 1;
  writeFileSync(path.join(dir, `log-${process.pid}-${seq}.txt`), `# ${what}\n${text}`);
}
