// The dashboard's entry: session, routing by path (history API), the shell
// with its left navigation, and the setup and sign-in pages.
import { api, get, post, session, setSignedOutHandler } from './api.js';
import { h, icon, field, showFormErrors, clearFormErrors, clearToasts } from './ui.js';
import { resourcePage, applicationPage, serverPage, restoreBackup } from './resources.js';
import { backupPage } from './backups.js';
import { tokensPage, tokenUsagePage, accountPage, membersPage, auditPage } from './settings.js';
import { publishersPage } from './publishers.js';

const app = document.getElementById('app');
let flash = null; // a notice for the next page (e.g. "session expired")

const NAV = [
  { href: '/servers', label: 'Servers', icon: 'server' },
  { href: '/applications', label: 'Applications', icon: 'app' },
  { href: '/databases', label: 'Databases', icon: 'db' },
  { href: '/backups', label: 'Backups', icon: 'backup' },
  { href: '/audit', label: 'Audit log', icon: 'audit' },
  { href: '/settings/tokens', label: 'Settings', icon: 'settings', match: '/settings' },
];

const ROUTES = [
  [/^\/servers$/, () => resourcePage('servers')],
  [/^\/servers\/(\d+)$/, (m) => serverPage(Number(m[1]))],
  [/^\/applications$/, () => resourcePage('applications')],
  [/^\/applications\/(\d+)$/, (m) => applicationPage(Number(m[1]))],
  [/^\/databases$/, () => resourcePage('databases')],
  [/^\/backups$/, () => resourcePage('backups')],
  [/^\/backups\/(\d+)$/, (m) => backupPage(Number(m[1]), restoreBackup)],
  [/^\/audit$/, () => auditPage()],
  [/^\/settings(\/tokens)?$/, () => tokensPage()],
  [/^\/settings\/tokens\/(\d+)$/, (m) => tokenUsagePage(Number(m[1]))],
  [/^\/settings\/account$/, () => accountPage()],
  [/^\/settings\/members$/, () => membersPage()],
  [/^\/settings\/publishers$/, () => publishersPage()],
];

export function navigate(path, { replace = false } = {}) {
  if (replace) history.replaceState(null, '', path); else history.pushState(null, '', path);
  render();
}

// Same-origin links are handled here, so pages switch without a reload.
document.addEventListener('click', (e) => {
  const a = e.target.closest('a[href]');
  if (!a || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || a.target || a.hasAttribute('download')) return;
  const url = new URL(a.href, location.href);
  if (url.origin !== location.origin || url.pathname.startsWith('/web/api/')) return;
  e.preventDefault();
  navigate(url.pathname + url.search);
});
window.addEventListener('popstate', () => render());

// The sign-in address that brings the user back to where they were
// (?next=/settings/tokens), or plain /signin from the start page.
function signinHref() {
  const here = location.pathname + location.search;
  if (location.pathname === '/' || location.pathname === '/signin' || location.pathname === '/setup') return '/signin';
  return `/signin?${new URLSearchParams({ next: here })}`;
}

// Where to go after signing in: ?next when it is a dashboard page of this
// origin (never another host, the API, or sign-in itself), else Servers.
function afterSignin() {
  const next = new URLSearchParams(location.search).get('next');
  if (!next || !next.startsWith('/') || next.startsWith('//') || next.startsWith('/\\')) return '/servers';
  const url = new URL(next, location.origin);
  if (url.origin !== location.origin || /^\/(signin|setup|invite|web\/api\/|api\/)/.test(url.pathname)) return '/servers';
  return url.pathname + url.search;
}

setSignedOutHandler((code) => {
  flash = code === 'session_expired' ? 'Your session expired. Sign in again.' : 'Sign in to continue.';
  navigate(signinHref(), { replace: true });
});

// Shown instead of a page when the server gave no answer at all; Retry
// renders the same address again.
function unreachable(inShell) {
  const retry = h('button', { type: 'button', class: 'btn primary', onclick: () => render() }, 'Retry');
  const box = h('div', { class: 'card empty', role: 'alert' },
    h('h2', {}, 'Piora is not answering'),
    h('p', {}, 'The dashboard could not reach the Piora server. Check that piora serve is running and that this computer can reach it, then retry.'),
    retry);
  if (inShell) return box;
  app.className = '';
  app.replaceChildren(h('main', { class: 'auth' }, box));
  document.title = 'Piora is not answering · Piora';
  retry.focus();
  return box;
}

// The dashboard's 404: no route for this address, or the API has no such
// object (an application or token that was deleted).
function notFound() {
  return [
    h('div', { class: 'card empty not-found' },
      h('div', { class: 'icon' }, icon('audit')),
      h('h1', {}, 'Page not found'),
      h('p', {}, 'There is nothing at ', h('code', {}, location.pathname), '. The link may be wrong, or what it showed was deleted.'),
      h('div', { class: 'actions center' },
        history.length > 1 ? h('button', { type: 'button', class: 'btn', onclick: () => history.back() }, 'Go back') : null,
        h('a', { class: 'btn primary', href: '/servers' }, 'Go to Servers'))),
  ];
}

async function loadSession() {
  try {
    const s = await get('/session', { quiet401: true });
    session.user = s.user;
    session.csrf = s.csrf;
    return { signedIn: true };
  } catch (e) {
    session.user = null;
    session.csrf = null;
    if (e.status === 401) return { signedIn: false, setupRequired: !!(e.body && e.body.setup_required), code: e.code };
    throw e;
  }
}

let renderSeq = 0;
let shownPath = null; // the page the toasts on screen belong to
async function render() {
  const seq = ++renderSeq;
  const path = location.pathname;
  if (path !== shownPath) clearToasts();
  shownPath = path;
  let st;
  try {
    st = await loadSession();
  } catch (e) {
    if (seq !== renderSeq) return;
    if (e.status === 0) { unreachable(false); return; }
    app.replaceChildren(h('main', { class: 'auth' }, h('div', { class: 'card' }, h('p', { class: 'form-error', role: 'alert' }, `The server did not answer: ${e.message}`))));
    return;
  }
  if (seq !== renderSeq) return;
  if (path === '/setup') return setupPage(st);
  if (path === '/invite') return invitePage(st);
  if (!st.signedIn) {
    if (st.code === 'session_expired' && !flash) flash = 'Your session expired. Sign in again.';
    if (path !== '/signin') history.replaceState(null, '', signinHref());
    return signinPage(st);
  }
  if (path === '/signin' || path === '/') return navigate(path === '/signin' ? afterSignin() : '/servers', { replace: true });
  // A team that requires two-factor sign-in: nothing but the Account page
  // (the server refuses the rest with mfa_enrolment_required too).
  if (session.user.must_enrol && path !== '/settings/account') return navigate('/settings/account', { replace: true });
  const route = ROUTES.find(([re]) => re.test(path));
  const main = h('main', { class: 'main', id: 'main', tabindex: '-1' });
  app.replaceChildren(shell(path, main));
  app.className = '';
  if (!route) {
    main.append(...notFound());
    document.title = 'Page not found · Piora';
    return;
  }
  main.append(h('p', { class: 'muted' }, 'Loading…'));
  try {
    const content = await route[1](path.match(route[0]));
    if (seq !== renderSeq) return;
    main.replaceChildren(...[content].flat(Infinity).filter(Boolean));
  } catch (e) {
    if (seq !== renderSeq || e.status === 401) return;
    if (e.status === 404) main.replaceChildren(...notFound());
    else if (e.status === 0) main.replaceChildren(unreachable(true));
    else main.replaceChildren(h('div', { class: 'form-error', role: 'alert' }, e.message));
  }
  document.title = `${(main.querySelector('h1') || {}).textContent || 'Piora'} · Piora`;
}
export { render };

function shell(path, main) {
  const navItems = NAV.map((n) => {
    const cur = path === n.href || path.startsWith(`${n.match || n.href}/`) || path === n.match;
    return h('a', { href: n.href, 'aria-current': cur ? 'page' : null }, icon(n.icon), n.label);
  });
  return h('div', { class: 'shell' },
    h('a', { class: 'skip-link', href: '#main', onclick: (e) => { e.preventDefault(); main.focus(); } }, 'Skip to content'),
    h('aside', { class: 'sidebar' },
      h('div', { class: 'brand' }, h('img', { src: '/favicon.svg', alt: '' }),
        h('div', {}, 'Piora', h('span', { class: 'team' }, session.user.team))),
      h('nav', { class: 'nav', 'aria-label': 'Main' },
        h('div', { class: 'nav-label' }, 'Resources'), navItems.slice(0, 4),
        h('div', { class: 'nav-label' }, 'Team'), navItems.slice(4)),
      h('div', { class: 'sidebar-foot' },
        h('div', { class: 'who' }, session.user.email),
        h('button', { type: 'button', class: 'btn small', onclick: signOut }, 'Sign out'))),
    main);
}

async function signOut() {
  try { await post('/signout'); } catch { /* signed out either way */ }
  session.user = null;
  session.csrf = null;
  flash = 'You are signed out.';
  navigate('/signin', { replace: true });
}

function authCard(title, sub, ...body) {
  app.className = '';
  const card = h('div', { class: 'card' },
    h('div', { class: 'brand' }, h('img', { src: '/favicon.svg', alt: '' }), 'Piora'),
    h('h1', {}, title), h('p', { class: 'sub' }, sub), ...body);
  app.replaceChildren(h('main', { class: 'auth' }, card));
  document.title = `${title} · Piora`;
  return card;
}

function signinPage(st) {
  const note = flash;
  flash = null;
  const form = h('form', { novalidate: true },
    note ? h('div', { class: 'notice info', role: 'status' }, note) : null,
    st.setupRequired ? h('div', { class: 'notice warn' }, 'No account exists yet. Open the one-time setup link that `piora serve` printed on its console.') : null,
    field({ label: 'Email', name: 'email', type: 'email', required: true, attrs: { autocomplete: 'username', autofocus: true } }),
    field({ label: 'Password', name: 'password', type: 'password', required: true, attrs: { autocomplete: 'current-password' } }),
    h('button', { type: 'submit', class: 'btn primary block' }, 'Sign in'));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearFormErrors(form);
    const btn = form.querySelector('button[type=submit]');
    btn.disabled = true;
    try {
      const s = await post('/signin', { email: form.email.value, password: form.password.value });
      if (s.second_factor) { secondStep(s.ticket); return; }
      session.user = s.user;
      session.csrf = s.csrf;
      navigate(afterSignin(), { replace: true });
    } catch (err) {
      showFormErrors(form, err.status === 401 || err.status === 429 ? { detail: err.detail } : err);
      form.password.value = '';
    } finally {
      btn.disabled = false;
    }
  });
  authCard('Sign in to Piora', 'Manage your servers, applications and API tokens.', form);
}

// The sign-in's second step: the 6-digit code of the authenticator app, or
// one of the recovery codes. The ticket lives in this closure only.
function secondStep(ticket) {
  let recovery = false;
  const codeField = () => (recovery
    ? field({ label: 'Recovery code', name: 'code', required: true, attrs: { autocomplete: 'off', autofocus: true, spellcheck: 'false' }, hint: 'One of the codes you saved when you set up two-factor sign-in; each works once.' })
    : field({ label: 'Authentication code', name: 'code', required: true, attrs: { autocomplete: 'one-time-code', inputmode: 'numeric', autofocus: true, maxlength: 6 }, hint: 'The 6 digits your authenticator app shows for Piora.' }));
  const form = h('form', { novalidate: true });
  const draw = () => {
    const toggle = h('button', { type: 'button', class: 'btn link', onclick: () => { recovery = !recovery; draw(); } }, recovery ? 'Use the authenticator app' : 'Use a recovery code');
    form.replaceChildren(codeField(), h('button', { type: 'submit', class: 'btn primary block' }, 'Verify'), toggle);
    form.querySelector('input').focus();
  };
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearFormErrors(form);
    const v = form.elements.code.value.trim();
    try {
      const s = await post('/signin/totp', recovery ? { ticket, recovery_code: v } : { ticket, code: v });
      session.user = s.user;
      session.csrf = s.csrf;
      navigate(afterSignin(), { replace: true });
    } catch (err) {
      if (err.code === 'signin_expired') { flash = err.detail; render(); return; }
      showFormErrors(form, { detail: err.detail });
      form.elements.code.value = '';
    }
  });
  authCard('Two-factor sign-in', 'Your password was right. Now prove it is you.', form);
  draw();
}

async function setupPage(st) {
  const secret = location.hash.slice(1);
  if (st.signedIn) return navigate('/servers', { replace: true });
  let ok = false;
  let failure = null;
  if (secret) {
    try {
      await post('/setup/check', { secret });
      ok = true;
    } catch (e) { failure = e; }
  }
  if (!ok) {
    // The server answers one 404 for a used and a wrong link; whether an
    // account exists yet tells them apart: none means this link is wrong.
    if (failure && failure.status === 0) { unreachable(false); return; }
    if (st.setupRequired) {
      authCard('Setup link not valid', 'First-run setup',
        h('div', { class: 'form-error', role: 'alert' }, 'This setup link is wrong or incomplete. Copy the whole link that piora serve printed, with everything after the #; each start of piora serve on an empty database prints a new one and the older links stop working.'));
      return;
    }
    authCard('Setup link used', 'First-run setup',
      h('div', { class: 'notice info', role: 'alert' }, 'This setup link was already used: the first admin exists. Sign in instead.'),
      h('a', { class: 'btn block', href: '/signin' }, 'Go to sign in'));
    return;
  }
  const form = h('form', { novalidate: true },
    field({ label: 'Team name', name: 'team', required: true, attrs: { autofocus: true, autocomplete: 'organization' }, hint: 'Your servers, applications and tokens belong to this team.' }),
    field({ label: 'Email', name: 'email', type: 'email', required: true, attrs: { autocomplete: 'username' } }),
    field({ label: 'Password', name: 'password', type: 'password', required: true, attrs: { autocomplete: 'new-password' }, hint: 'At least 8 characters.' }),
    h('button', { type: 'submit', class: 'btn primary block' }, 'Create admin account'));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearFormErrors(form);
    try {
      const s = await post('/setup', { secret, team: form.team.value, email: form.email.value, password: form.password.value });
      session.user = s.user;
      session.csrf = s.csrf;
      history.replaceState(null, '', '/servers'); // drop the secret from the address bar
      render();
    } catch (err) {
      if (err.code === 'setup_link_invalid') { render(); return; }
      showFormErrors(form, err);
    }
  });
  authCard('Welcome to Piora', 'Create the first admin account and your team.', form);
}

// An invitation link (/invite#secret, from an admin or `piora user
// invite`): the invitee chooses a password and is signed in.
async function invitePage(st) {
  const secret = location.hash.slice(1);
  let inv = null;
  let failure = null;
  if (secret) {
    try { inv = await post('/invite/check', { secret }); } catch (e) { failure = e; }
  }
  if (!inv) {
    if (failure && failure.status === 0) { unreachable(false); return; }
    authCard('Invitation not valid', 'Join a team',
      h('div', { class: 'form-error', role: 'alert' }, (failure && failure.detail) || 'This invitation link is incomplete: copy the whole link, with everything after the #.'),
      h('a', { class: 'btn block', href: '/signin' }, 'Go to sign in'));
    return;
  }
  const form = h('form', { novalidate: true },
    st.signedIn ? h('div', { class: 'notice warn' }, `You are signed in as ${session.user.email}; joining signs you in as ${inv.email} instead.`) : null,
    field({ label: 'Email', name: 'email', type: 'email', value: inv.email, attrs: { readonly: true, autocomplete: 'username' } }),
    field({ label: 'Password', name: 'password', type: 'password', required: true, attrs: { autofocus: true, autocomplete: 'new-password' }, hint: 'At least 8 characters.' }),
    h('button', { type: 'submit', class: 'btn primary block' }, 'Join team'));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearFormErrors(form);
    try {
      const s = await post('/invite/accept', { secret, password: form.password.value });
      session.user = s.user;
      session.csrf = s.csrf;
      history.replaceState(null, '', '/servers'); // drop the secret from the address bar
      render();
    } catch (err) {
      if (err.code === 'invite_invalid') { render(); return; }
      showFormErrors(form, err);
    }
  });
  authCard(`Join ${inv.team}`, `You are invited as ${inv.is_admin ? 'an admin' : 'a member'}. Choose a password to finish.`, form);
}

render();
export { api };
