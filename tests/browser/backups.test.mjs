// Issue 11: the Backups pages in Chromium against running jobs: a real sshd
// and a real PostgreSQL (tests/blackbox/lib), the job runner of `piora
// serve` doing the work. Create backup -> completed with size and SHA-256 in
// the list; the backup's page with its log; Download gives the bytes whose
// SHA-256 the page shows; the Restore dialog asks for the target's name,
// then the restore is listed with its live log and the rows are back; the
// schedule editor on the database form sets backup_schedule.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launch, setup, shot } from './lib/harness.mjs';
import { startSshd } from '../blackbox/lib/sshd.mjs';
import { startPostgres } from '../blackbox/lib/engines.mjs';

let srv;
let sshd;
let pg;
let browser;
let page;
let user;

async function web(method, path, body) {
  return page.evaluate(async ({ method, path, body }) => {
    const s = await (await fetch('/web/api/session')).json();
    const r = await fetch(`/web/api${path}`, {
      method, headers: { 'X-CSRF-Token': s.csrf, 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await r.text();
    if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${text}`);
    return text ? JSON.parse(text) : null;
  }, { method, path, body });
}

const rows = () => pg.psql("SELECT string_agg(id || item, ',' ORDER BY id) FROM orders", 'shop', user);

before(async () => {
  sshd = await startSshd({ users: ['dba'] });
  user = sshd.userName('dba');
  pg = await startPostgres();
  pg.grant(user);
  pg.createDb('shop', user);
  pg.psql("CREATE TABLE orders (id int PRIMARY KEY, item text); INSERT INTO orders VALUES (1, 'tea'), (2, 'scones')", 'shop', user);
  srv = await startServer(['--job-timeout', '120']);
  browser = await launch();
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.setDefaultTimeout(30000);
  await setup(page, srv);
  sshd.authorize('dba', (await web('GET', '/v1/ssh-key')).public_key);
  const server = await web('POST', '/v1/servers', { name: 'db-1', ip_address: '127.0.0.1', ssh_port: sshd.port, ssh_user: user });
  await web('POST', '/v1/databases', { name: 'shop', engine: 'postgresql', server_id: server.id, host: pg.socket, port: pg.port });
});
after(async () => {
  await browser?.close();
  await srv?.stop();
  await pg?.stop();
  await sshd?.stop();
});

test('Create backup: it completes with size and SHA-256; its page shows the log; Download is those bytes', async () => {
  await page.goto(`${srv.base}/backups`);
  await page.getByRole('button', { name: 'Create backup' }).first().click();
  await page.getByRole('dialog').getByRole('button', { name: 'Create backup' }).click();
  await page.getByText('Backup queued.').waitFor();
  const [b] = (await web('GET', '/v1/backups')).data;
  // the list is not live: reload until the runner has finished
  for (let i = 0; i < 60; i++) {
    await page.reload();
    const row = page.getByRole('row', { name: /shop/ });
    if (await row.getByText('completed').count()) break;
    await page.waitForTimeout(500);
  }
  const row = page.getByRole('row', { name: /shop/ });
  await row.getByText('completed').waitFor();
  const done = await web('GET', `/v1/backups/${b.id}`);
  assert.equal(done.status, 'completed');
  await row.getByText(`${done.sha256.slice(0, 12)}…`).waitFor();
  await row.getByRole('link', { name: /Download backup/ }).waitFor();
  await shot(page, '60-backups-completed');

  await row.getByRole('link', { name: `Show backup ${b.id}, its log and restores` }).click();
  await page.getByRole('heading', { name: `Backup #${b.id}`, exact: true }).first().waitFor();
  await page.getByText('Completed: the whole dump is in the backup store').waitFor();
  await page.getByRole('log', { name: `Log of backup #${b.id}` }).getByText(`stored ${done.size_bytes} bytes`).waitFor();
  await page.locator(`[data-sha256="${done.sha256}"]`).waitFor();
  const href = await page.getByRole('link', { name: `Download backup ${b.id}` }).getAttribute('href');
  const got = await page.evaluate(async (u) => {
    const buf = await (await fetch(u)).arrayBuffer();
    const d = new Uint8Array(await crypto.subtle.digest('SHA-256', buf));
    return { hex: [...d].map((x) => x.toString(16).padStart(2, '0')).join(''), n: buf.byteLength };
  }, href);
  assert.deepEqual(got, { hex: done.sha256, n: done.size_bytes }, 'the downloaded bytes are the recorded ones');
  await shot(page, '61-backup-page');
});

test('Restore from the backup page: typed confirmation, then the restore with its log; rows back', async () => {
  const [b] = (await web('GET', '/v1/backups')).data;
  pg.psql("UPDATE orders SET item = 'coffee' WHERE id = 1", 'shop', user);
  await page.goto(`${srv.base}/backups/${b.id}`);
  await page.getByText('No restores yet').waitFor();
  await page.getByRole('button', { name: 'Restore', exact: true }).click();
  const rd = page.getByRole('dialog');
  await rd.getByText('are replaced with backup').waitFor();
  assert.equal(await rd.getByRole('button', { name: 'Restore' }).isDisabled(), true, 'disabled until the name is typed');
  await rd.getByLabel('Database name').fill('sho');
  assert.equal(await rd.getByRole('button', { name: 'Restore' }).isDisabled(), true);
  await rd.getByLabel('Database name').fill('shop');
  await rd.getByRole('button', { name: 'Restore' }).click();
  await page.getByText(/Restore #\d+ of backup #\d+ into shop queued/).waitFor();
  const table = page.getByRole('table', { name: 'Restores of this backup' });
  await table.getByRole('row', { name: /shop/ }).waitFor();
  const card = page.getByRole('region', { name: /Restore #\d+/ });
  await card.getByText('Completed: the database\'s contents were replaced').waitFor();
  await card.getByRole('log').getByText(/restored \d+ bytes, their SHA-256 checked first/).waitFor();
  await table.getByRole('row', { name: /completed/ }).waitFor();
  assert.equal(rows(), '1tea,2scones', 'the original rows are back');
  await shot(page, '62-restore-log');
});

test('the database form edits the backup schedule', async () => {
  await page.goto(`${srv.base}/databases`);
  await page.getByRole('row', { name: /shop/ }).getByRole('button', { name: /Edit/ }).click();
  const dlg = page.getByRole('dialog');
  await dlg.getByLabel('Backup schedule (cron, UTC)').fill('30 4 * * *');
  await dlg.getByLabel('Scheduled backups kept').fill('3');
  await dlg.getByRole('button', { name: /Save/ }).click();
  await page.getByRole('row', { name: /shop/ }).getByText('30 4 * * *').waitFor();
  const [d] = (await web('GET', '/v1/databases')).data;
  assert.equal(d.backup_schedule, '30 4 * * *');
  assert.equal(d.backup_keep, 3);
});
