// Sign-in failure and throttling, CSRF rejection, session expiry, the
// session cookie's attributes and the dashboard's security headers.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launch, setup, signIn, shot, EMAIL } from './lib/harness.mjs';

let srv;
let browser;

before(async () => {
  // Short idle timeout to watch a session expire; 3 failed sign-ins a minute.
  srv = await startServer(['--session-idle-timeout', '3', '--signin-limit', '3']);
  browser = await launch();
  const p = await browser.newPage();
  await setup(p, srv);
  await p.close();
});
after(async () => {
  await browser?.close();
  await srv?.stop();
});

test('a wrong password and an unknown email get the same answer', async () => {
  const page = await browser.newPage();
  page.setDefaultTimeout(10000);
  await signIn(page, srv, EMAIL, 'not the password');
  const alert = page.getByRole('alert');
  await alert.waitFor();
  const wrongPw = await alert.innerText();
  await shot(page, '12-signin-failed');
  await signIn(page, srv, 'nobody@example.com', 'not the password');
  await alert.waitFor();
  assert.equal(await alert.innerText(), wrongPw);
  assert.equal(wrongPw, 'Wrong email or password.');
  assert.equal(new URL(page.url()).pathname, '/signin');
  // Third failure for this address, then the limiter answers 429.
  await signIn(page, srv, 'nobody@example.com', 'again wrong');
  await page.getByRole('alert').waitFor();
  const r = await page.evaluate(async () => {
    const res = await fetch('/web/api/signin', { method: 'POST', body: JSON.stringify({ email: 'ada@example.com', password: 'correct horse battery' }) });
    return { status: res.status, retry: res.headers.get('Retry-After') };
  });
  assert.equal(r.status, 429, 'throttled even with the right password');
  assert.ok(Number(r.retry) >= 1);
  await page.close();
});

test('dashboard pages and endpoints carry the security headers', async () => {
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  const res = await page.goto(`${srv.base}/signin`);
  const hd = res.headers();
  assert.match(hd['content-security-policy'], /default-src 'self'/);
  assert.match(hd['content-security-policy'], /frame-ancestors 'none'/);
  assert.doesNotMatch(hd['content-security-policy'], /unsafe-inline/);
  assert.equal(hd['x-frame-options'], 'DENY');
  assert.equal(hd['referrer-policy'], 'no-referrer');
  assert.equal(hd['x-content-type-options'], 'nosniff');
  const api = await fetch(`${srv.base}/web/api/session`);
  assert.equal(api.headers.get('cache-control'), 'no-store');
  assert.equal(api.headers.get('x-frame-options'), 'DENY');
  await ctx.close();
});

test('the cookie is HttpOnly, SameSite=Strict; a state-changing request without the CSRF token, or from another origin, is refused', async () => {
  const srv2 = await startServer();
  const page = await browser.newPage();
  page.setDefaultTimeout(10000);
  await setup(page, srv2);
  const cookies = await page.context().cookies();
  const c = cookies.find((x) => x.name === 'piora_session');
  assert.ok(c.httpOnly);
  assert.equal(c.sameSite, 'Strict');
  assert.equal(c.path, '/');
  const results = await page.evaluate(async () => {
    const body = JSON.stringify({ name: 'x', scopes: ['servers:read'] });
    const noToken = await fetch('/web/api/tokens', { method: 'POST', body });
    const badToken = await fetch('/web/api/tokens', { method: 'POST', body, headers: { 'X-CSRF-Token': 'A'.repeat(43) } });
    const s = await (await fetch('/web/api/session')).json();
    const good = await fetch('/web/api/tokens', { method: 'POST', body, headers: { 'X-CSRF-Token': s.csrf } });
    return { noToken: noToken.status, noTokenCode: (await noToken.json()).code, badToken: badToken.status, good: good.status, csrf: s.csrf };
  });
  assert.equal(results.noToken, 403);
  assert.equal(results.noTokenCode, 'csrf_failed');
  assert.equal(results.badToken, 403);
  assert.equal(results.good, 201);
  // Right cookie and right token, but sent from another origin.
  const cross = await fetch(`${srv2.base}/web/api/tokens`, {
    method: 'POST', body: JSON.stringify({ name: 'y', scopes: ['servers:read'] }),
    headers: { Cookie: `piora_session=${c.value}`, 'X-CSRF-Token': results.csrf, Origin: 'http://evil.example', 'Sec-Fetch-Site': 'cross-site' },
  });
  assert.equal(cross.status, 403);
  const same = await fetch(`${srv2.base}/web/api/tokens`, {
    method: 'POST', body: JSON.stringify({ name: 'z', scopes: ['servers:read'] }),
    headers: { Cookie: `piora_session=${c.value}`, 'X-CSRF-Token': results.csrf },
  });
  assert.equal(same.status, 201);
  await page.close();
  await srv2.stop();
});

test('an idle session expires: the next action lands on sign-in with a notice', async () => {
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  page.setDefaultTimeout(10000);
  // This server's address limiter is spent by the first test: a new one.
  const srv3 = await startServer(['--session-idle-timeout', '2']);
  await setup(page, srv3);
  await new Promise((r) => setTimeout(r, 3500));
  await page.getByRole('link', { name: 'Databases', exact: true }).click();
  await page.getByText('Your session expired. Sign in again.').waitFor();
  assert.equal(new URL(page.url()).pathname, '/signin');
  await shot(page, '13-session-expired');
  await signIn(page, srv3);
  await page.getByRole('heading', { name: 'Servers', exact: true }).waitFor();
  await ctx.close();
  await srv3.stop();
});

test('signing out makes the old cookie worthless', async () => {
  const srv4 = await startServer();
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  page.setDefaultTimeout(10000);
  await setup(page, srv4);
  const c = (await ctx.cookies()).find((x) => x.name === 'piora_session');
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByText('You are signed out.').waitFor();
  const r = await fetch(`${srv4.base}/web/api/tokens`, { headers: { Cookie: `piora_session=${c.value}` } });
  assert.equal(r.status, 401);
  await ctx.close();
  await srv4.stop();
});

test('the API ignores dashboard cookies: /api/v1 still needs a bearer token', async () => {
  const r = await fetch(`${srv.base}/api/v1/servers`);
  assert.equal(r.status, 401);
});

test('the cookie is Secure behind a trusted proxy that says https, and only then', async () => {
  const setupBody = (s) => JSON.stringify({ secret: s.setupLink.split('#')[1], team: 'acme', email: 'ada@example.com', password: 'correct horse battery' });
  const trusted = await startServer(['--trusted-proxies', '127.0.0.1']);
  const r1 = await fetch(`${trusted.base}/web/api/setup`, { method: 'POST', body: setupBody(trusted), headers: { 'X-Forwarded-Proto': 'https' } });
  assert.equal(r1.status, 201);
  assert.match(r1.headers.get('set-cookie'), /; Secure/);
  await trusted.stop();
  const untrusted = await startServer();
  const r2 = await fetch(`${untrusted.base}/web/api/setup`, { method: 'POST', body: setupBody(untrusted), headers: { 'X-Forwarded-Proto': 'https' } });
  assert.equal(r2.status, 201);
  assert.doesNotMatch(r2.headers.get('set-cookie'), /Secure/);
  assert.match(r2.headers.get('set-cookie'), /HttpOnly; SameSite=Strict/);
  await untrusted.stop();
});
