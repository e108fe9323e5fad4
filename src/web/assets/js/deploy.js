// An application's deployments (SPEC 10): Deploy with an optional ref,
// Cancel, the live log of one deployment (offset polling of
// /deployments/{id}/log until X-Log-Complete: true), its status and error
// in words, and the history, newest first, with a pager.
import { get, post, UNREACHABLE } from './api.js';
import { h, icon, table, timeEl, badge, emptyState, toast, pager, pageParam, PER_PAGE } from './ui.js';
import { navigate } from './app.js';

const POLL_MS = 1000;
// What the log view keeps on screen; older text is cut from the top (the
// whole log stays on the server).
const LOG_KEEP = 2 << 20;
const REF_MAX = 255;

const FINAL = new Set(['succeeded', 'failed', 'cancelled']);

// Every job error code of SPEC 10, in words: what happened and what to do.
export const ERROR_WORDS = {
  unreachable: 'Piora could not connect to the server over SSH: it refused the connection or did not answer within 10 seconds, or the connection went silent. Check the server\'s address, SSH port and firewall.',
  auth_failed: 'The server refused Piora\'s SSH key. Add the team\'s public key (Servers page, authorized_keys line) to the SSH user\'s ~/.ssh/authorized_keys.',
  host_key_mismatch: 'The server presented a different host key from the one Piora pinned, so nothing ran. If the server was reinstalled, clear its host key on the Servers page and check it again; otherwise find out who answered.',
  checkout_failed: 'Git could not check out the repository at this ref on the server. Check the repository address, the ref, and that the server can reach the repository.',
  script_failed: 'The deploy script failed. Its output is in the log below.',
  dump_failed: 'The database\'s dump tool failed on the server. Its output is in the log.',
  restore_failed: 'The restore tool failed on the server. Its output is in the log.',
  checksum_mismatch: 'The stored backup file no longer matches its SHA-256, so nothing was restored.',
  timeout: 'The job ran longer than the job timeout; its processes on the server were stopped.',
  cancelled: 'Cancelled; its processes on the server were stopped.',
  lost: 'The Piora node running it stopped before it finished. It was not run again: check the server before you deploy again.',
};

const short = (sha) => (sha ? sha.slice(0, 12) : '');

// One sentence (or two) for a deployment's state.
export function statusWords(d) {
  switch (d.status) {
    case 'queued': return 'Waiting to start. Deployments of one application run one at a time, in order.';
    case 'running': return `Running on the server${d.ref ? ` (ref ${d.ref}${d.commit ? `, commit ${short(d.commit)}` : ''})` : ''}.`;
    case 'succeeded': return `Succeeded${d.commit ? ` at commit ${short(d.commit)}` : ''}: the deploy script exited 0.`;
    case 'cancelled': return ERROR_WORDS.cancelled;
    case 'failed': {
      let s = ERROR_WORDS[d.error] || (d.error ? `Failed with error ${d.error}.` : 'Failed.');
      if (d.error === 'script_failed' && Number.isInteger(d.exit_code)) s = `The deploy script exited with code ${d.exit_code}. Its output is in the log below.`;
      return s;
    }
    default: return d.status;
  }
}

const errorCell = (d) => (d.error ? h('span', { class: 'mono', title: statusWords(d) }, d.error) : h('span', { class: 'muted' }, '—'));

const canCancel = (d) => d.status === 'queued' || d.status === 'running';

const withDeployment = (id) => {
  const q = new URLSearchParams(location.search);
  q.set('deployment', String(id));
  return `${location.pathname}?${q}`;
};

async function cancel(d) {
  try {
    await post(`/v1/deployments/${d.id}/cancel`);
    toast(`Cancelling deployment #${d.id}.`);
  } catch (e) {
    if (e.status !== 401) toast(e.detail || e.message, 'error');
  }
}

function cancelButton(d, cls = 'btn small danger-ghost') {
  return h('button', { type: 'button', class: cls, 'aria-label': `Cancel deployment #${d.id}`, onclick: (e) => { e.currentTarget.disabled = true; cancel(d); } }, 'Cancel');
}

function deployForm(a) {
  const id = `ref-${a.id}`;
  const input = h('input', { id, name: 'ref', type: 'text', class: 'input mono', maxlength: String(REF_MAX), placeholder: a.branch || 'main', autocomplete: 'off', spellcheck: 'false' });
  const err = h('p', { class: 'form-error', role: 'alert', hidden: true });
  const btn = h('button', { type: 'submit', class: 'btn primary' }, icon('rocket'), 'Deploy');
  const form = h('form', { class: 'deploy-form', 'aria-label': `Deploy ${a.name}` },
    h('label', { for: id }, 'Ref to deploy'),
    input, btn,
    h('p', { class: 'hint' }, `A branch, tag or commit; empty deploys the branch ${a.branch || 'main'}.`),
    err);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    err.hidden = true;
    const ref = input.value.trim();
    btn.disabled = true;
    try {
      const d = await post(`/v1/applications/${a.id}/deploy`, ref ? { ref } : {});
      toast(`Deployment #${d.id} of ${a.name} queued.`);
      navigate(`${location.pathname}?deployment=${d.id}`);
    } catch (ex) {
      if (ex.status === 401) return;
      err.textContent = ex.status === 0 ? UNREACHABLE : (ex.errors?.[0]?.message || ex.detail || ex.message);
      err.hidden = false;
    } finally {
      btn.disabled = false;
    }
  });
  return form;
}

// The live view of one deployment: heading, status in words, Cancel, log.
function liveView(d) {
  const v = {
    status: h('span', {}),
    words: h('p', { class: 'deploy-words' }),
    actions: h('div', { class: 'actions' }),
    pre: h('pre', { class: 'log live', role: 'log', 'aria-live': 'polite', 'aria-label': `Log of deployment #${d.id}`, tabindex: '0' }),
    meta: h('dl', { class: 'kv' }),
  };
  v.card = h('section', { class: 'card card-pad live-log', 'aria-label': `Deployment #${d.id}` },
    h('div', { class: 'live-head' }, h('h2', {}, `Deployment #${d.id}`), v.status, v.actions),
    v.words, v.meta, v.pre);
  return v;
}

function showState(v, d) {
  v.status.replaceChildren(badge(d.status));
  v.words.textContent = statusWords(d);
  v.words.className = `deploy-words${d.status === 'failed' ? ' bad' : ''}`;
  v.actions.replaceChildren(canCancel(d) ? cancelButton(d, 'btn danger-ghost') : '');
  const by = d.triggered_by ? `${d.triggered_by.type} ${d.triggered_by.name ?? d.triggered_by.id ?? ''}`.trim() : null;
  v.meta.replaceChildren(
    h('dt', {}, 'Ref'), h('dd', { class: 'mono' }, d.ref || '—'),
    h('dt', {}, 'Commit'), h('dd', { class: 'mono' }, d.commit || '—'),
    ...(Number.isInteger(d.exit_code) ? [h('dt', {}, 'Exit code'), h('dd', { class: 'mono' }, String(d.exit_code))] : []),
    ...(by ? [h('dt', {}, 'Started by'), h('dd', {}, by)] : []),
    h('dt', {}, 'Started'), h('dd', {}, timeEl(d.started_at, '—')),
    h('dt', {}, 'Finished'), h('dd', {}, timeEl(d.finished_at, '—')));
  // The history row of this deployment follows too.
  const row = document.querySelector(`tr[data-deployment="${d.id}"]`);
  if (row) {
    row.querySelector('.dep-status')?.replaceChildren(badge(d.status));
    row.querySelector('.dep-error')?.replaceChildren(errorCell(d));
    const c = row.querySelector('.dep-cancel');
    if (c && !canCancel(d)) c.replaceChildren();
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function appendLog(v, text) {
  const atEnd = v.pre.scrollTop + v.pre.clientHeight >= v.pre.scrollHeight - 4;
  v.pre.append(text);
  if (v.pre.textContent.length > LOG_KEEP) {
    v.pre.textContent = `[… earlier output not shown …]\n${v.pre.textContent.slice(-LOG_KEEP)}`;
  }
  if (atEnd) v.pre.scrollTop = v.pre.scrollHeight;
}

// Polls the log from byte 0 until the server says it is complete, then
// reads the deployment once more for its outcome. Stops when the page is
// left (the view is no longer in the document).
async function follow(v, d, onEnd) {
  let offset = 0;
  let tick = 0;
  const dec = new TextDecoder();
  let empty = true;
  v.pre.setAttribute('aria-busy', 'true');
  v.pre.textContent = 'Waiting for output…';
  while (v.card.isConnected) {
    let complete = false;
    try {
      const res = await fetch(`/web/api/v1/deployments/${d.id}/log?offset=${offset}`, { credentials: 'same-origin', headers: { Accept: 'text/plain' } });
      if (res.status === 401) return;
      if (res.ok) {
        const buf = await res.arrayBuffer();
        offset += buf.byteLength;
        const text = dec.decode(buf, { stream: true });
        if (text) {
          if (empty) { v.pre.textContent = ''; empty = false; }
          appendLog(v, text);
        }
        complete = res.headers.get('X-Log-Complete') === 'true';
      }
    } catch { /* the server went away for a moment: keep polling */ }
    if (complete || ++tick % 3 === 0) {
      try {
        const now = await get(`/v1/deployments/${d.id}`);
        if (v.card.isConnected) showState(v, now);
        if (complete && !FINAL.has(now.status)) complete = false; // the status lands a moment later
        else if (complete) d = now;
      } catch { /* next tick */ }
    }
    if (complete) {
      if (empty) v.pre.textContent = 'The deployment wrote no output.';
      v.pre.setAttribute('aria-busy', 'false');
      onEnd(d);
      return;
    }
    await sleep(POLL_MS);
  }
}

// The deployment part of an application's page: Deploy, the live log of
// ?deployment=ID (default the newest), and the history.
export async function deploymentsSection(a, onAppChanged) {
  const page = pageParam();
  const deps = await get(`/v1/applications/${a.id}/deployments?page=${page}&per_page=${PER_PAGE}`);
  // Newest first within a page, whichever order the API pages in.
  const rows = [...deps.data].sort((x, y) => y.id - x.id);
  const wanted = Number(new URLSearchParams(location.search).get('deployment'));
  let current = null;
  if (Number.isInteger(wanted) && wanted > 0) {
    current = rows.find((d) => d.id === wanted) || await get(`/v1/deployments/${wanted}`).catch(() => null);
    if (current && current.application_id !== a.id) current = null;
  } else if (page === 1) {
    current = rows[0] || null;
  }
  const out = [h('section', { class: 'card card-pad', 'aria-label': 'Deploy' }, deployForm(a))];
  if (current) {
    const v = liveView(current);
    showState(v, current);
    out.push(v.card);
    // Start once the page is on screen (follow stops when it is gone).
    setTimeout(() => follow(v, current, onAppChanged), 0);
  }
  out.push(h('h2', { class: 'section' }, 'Deployment history'));
  if (deps.meta.total === 0) {
    out.push(emptyState({ iconName: 'rocket', title: 'No deployments yet', text: 'Press Deploy to run the deploy script on the server; each run is listed here with its log.' }));
    return out;
  }
  const hist = table([
    { label: 'Deployment', cell: (d) => h('a', { class: 'cell-main', href: withDeployment(d.id), 'aria-label': `Deployment #${d.id}` }, `#${d.id}`) },
    { label: 'Status', cell: (d) => h('span', { class: 'dep-status' }, badge(d.status)) },
    { label: 'Error', cell: (d) => h('span', { class: 'dep-error' }, errorCell(d)) },
    { label: 'Ref', cell: (d) => h('span', { class: 'mono' }, d.ref ? `${d.ref}${d.commit ? ` @ ${short(d.commit).slice(0, 7)}` : ''}` : '—') },
    { label: 'Queued', cell: (d) => timeEl(d.created_at) },
    { label: 'Finished', cell: (d) => timeEl(d.finished_at, '—') },
    { label: 'Actions', cell: (d) => h('div', { class: 'actions' },
      h('a', { class: 'btn small', href: withDeployment(d.id), 'aria-label': `Show the log of deployment #${d.id}` }, 'Log'),
      h('span', { class: 'dep-cancel' }, canCancel(d) ? cancelButton(d) : '')) },
  ], rows, { caption: 'Deployment history' });
  const trs = hist.querySelectorAll('tbody tr');
  rows.forEach((d, i) => trs[i]?.setAttribute('data-deployment', String(d.id)));
  hist.append(pager({ page, perPage: deps.meta.per_page, total: deps.meta.total }));
  out.push(hist);
  return out;
}
