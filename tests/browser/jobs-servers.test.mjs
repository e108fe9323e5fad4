// The Servers page (issue 9): the team's SSH public key with a Copy button
// and the authorized_keys line, each server's host key and status, and a
// Check button that reports what the check found.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launch, setup } from './lib/harness.mjs';

let srv;
let browser;
let page;

before(async () => {
  srv = await startServer();
  browser = await launch();
  page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  page.setDefaultTimeout(10000);
  await setup(page, srv);
});
after(async () => {
  await browser?.close();
  await srv?.stop();
});

test('servers page: team key with Copy and authorized_keys line; Check reports an unreachable server', async () => {
  await page.goto(`${srv.base}/servers`);
  const key = page.getByLabel('Team SSH public key');
  await key.waitFor();
  const line = await key.inputValue();
  assert.match(line, /^ssh-ed25519 AAAA\S+ piora-\S+$/);
  await page.getByText(`echo '${line}' >> ~/.ssh/authorized_keys`).waitFor();
  await page.getByText(/Fingerprint SHA256:/).waitFor();
  assert.equal(await page.locator('#team-key').getByRole('button', { name: 'Copy' }).count(), 1);
  assert.doesNotMatch(await page.content(), /PRIVATE KEY/);

  await page.getByRole('button', { name: 'New server' }).first().click();
  const dlg = page.getByRole('dialog');
  await dlg.getByLabel('Name').fill('closed-1');
  await dlg.getByLabel('IP address').fill('127.0.0.1');
  await dlg.getByLabel('SSH port').fill('1');
  await dlg.getByRole('button', { name: 'Create' }).click();
  const row = page.getByRole('row', { name: /closed-1/ });
  await row.waitFor();
  await row.getByText('not pinned').waitFor();
  await page.getByRole('button', { name: 'Check closed-1' }).click();
  await page.getByText(/closed-1: unreachable/).waitFor();
  await page.getByRole('row', { name: /closed-1/ }).getByText('unreachable', { exact: true }).waitFor();
});
