// Issue 13's small layout faults, at 390 px and 1280 px: no blank band under
// the header on short pages, the Account cards side by side and level, the
// SSH column without "root@:22", toasts that stay on their page.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launch, setup, signIn, shot } from './lib/harness.mjs';

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

async function phone() {
  const ctx = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  const p = await ctx.newPage();
  p.setDefaultTimeout(10000);
  await signIn(p, srv);
  await p.getByRole('heading', { name: 'Servers', exact: true }).waitFor();
  return { ctx, p };
}

test('390 px: the header is as tall as what is in it, even on a short page', async () => {
  const { ctx, p } = await phone();
  for (const path of ['/settings/account', '/audit', '/no/such/page']) {
    await p.goto(`${srv.base}${path}`);
    await p.locator('main h1').waitFor();
    await p.waitForLoadState('networkidle');
    const gap = await p.evaluate(() => {
      const side = document.querySelector('.sidebar').getBoundingClientRect();
      const foot = document.querySelector('.sidebar-foot').getBoundingClientRect();
      return side.bottom - foot.bottom;
    });
    assert.ok(gap < 24, `${path}: ${gap}px of blank header under its content`);
  }
  await p.goto(`${srv.base}/settings/account`);
  await p.locator('main h1').waitFor();
  await shot(p, '37-phone-account');
  await ctx.close();
});

test('the Account page\'s cards line up (1280 px side by side, 390 px stacked)', async () => {
  await page.goto(`${srv.base}/settings/account`);
  await page.getByRole('heading', { name: 'Change password' }).waitFor();
  // Each row of cards (account and password; two-factor sign-in and team security).
  const rows = await page.evaluate(() => [...document.querySelectorAll('main .grid-2')].map((g) => [...g.querySelectorAll(':scope > .card')].map((c) => {
    const r = c.getBoundingClientRect();
    return { top: r.top, left: r.left, width: r.width };
  })));
  assert.equal(rows.length, 2);
  for (const cards of rows) {
    assert.equal(cards.length, 2);
    assert.equal(cards[0].top, cards[1].top, 'the two cards start at the same height');
    assert.ok(cards[1].left > cards[0].left);
  }
  await shot(page, '38-account');
  const { ctx, p } = await phone();
  await p.goto(`${srv.base}/settings/account`);
  await p.getByRole('heading', { name: 'Change password' }).waitFor();
  const stacked = await p.evaluate(() => [...document.querySelector('main .grid-2').querySelectorAll(':scope > .card')].map((c) => {
    const r = c.getBoundingClientRect();
    return { top: r.top, bottom: r.bottom, left: r.left, width: r.width };
  }));
  assert.equal(stacked[0].left, stacked[1].left);
  assert.equal(stacked[0].width, stacked[1].width);
  const gap = stacked[1].top - stacked[0].bottom;
  assert.ok(gap > 8 && gap <= 20, `stacked cards ${gap}px apart`);
  await ctx.close();
});

test('the SSH column shows user@address:port, and "—" for what is not set', async () => {
  await page.goto(`${srv.base}/servers`);
  await page.getByRole('button', { name: 'New server' }).first().click();
  const dlg = page.getByRole('dialog');
  await dlg.getByLabel('Name').fill('web-1');
  await dlg.getByLabel('IP address').fill('10.0.0.5');
  await dlg.getByRole('button', { name: 'Create' }).click();
  const row = page.getByRole('row', { name: /web-1/ });
  await row.waitFor();
  const ssh = await row.getByRole('cell').nth(2).innerText();
  assert.doesNotMatch(ssh, /@:/);
  assert.match(ssh, /^(root@)?10\.0\.0\.5(:22)?$/);
  await page.getByRole('button', { name: 'New server' }).first().click();
  await dlg.getByLabel('Name').fill('v6');
  await dlg.getByLabel('IP address').fill('2001:db8::1');
  await dlg.getByLabel('SSH user').fill('deploy');
  await dlg.getByLabel('SSH port').fill('2222');
  await dlg.getByRole('button', { name: 'Create' }).click();
  const v6 = page.getByRole('row', { name: /v6/ });
  await v6.waitFor();
  assert.equal(await v6.getByRole('cell').nth(2).innerText(), 'deploy@[2001:db8::1]:2222');
  await shot(page, '39-servers-ssh');
  const { ctx, p } = await phone();
  await p.goto(`${srv.base}/servers`);
  await p.getByText('deploy@[2001:db8::1]:2222').waitFor();
  await shot(p, '40-phone-servers');
  await ctx.close();
});

test('toasts stay on the page that showed them', async () => {
  await page.goto(`${srv.base}/servers`);
  await page.getByRole('button', { name: 'New server' }).first().click();
  const dlg = page.getByRole('dialog');
  await dlg.getByLabel('Name').fill('toasted');
  await dlg.getByLabel('IP address').fill('10.0.0.7');
  await dlg.getByRole('button', { name: 'Create' }).click();
  const note = page.locator('.toast', { hasText: 'Server toasted created.' });
  await note.waitFor();
  await page.getByRole('link', { name: 'Applications', exact: true }).click();
  await page.getByRole('heading', { name: 'Applications', exact: true }).waitFor();
  assert.equal(await note.count(), 0, 'the toast did not follow to Applications');
  await shot(page, '41-applications-no-toast');
});
