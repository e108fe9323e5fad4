// One backup's page (issue 11): its status in words, size, SHA-256, who
// queued it, Download, Restore and Cancel, its live log (offset polling of
// /backups/{id}/log until X-Log-Complete: true), and the restores of it,
// each with its status, error and log (?restore=ID shows that one's).
import { get, post } from './api.js';
import { h, timeEl, badge, toast, table, emptyState, pageHead, fmtBytes } from './ui.js';
import { ERROR_WORDS } from './deploy.js';

const POLL_MS = 1000;
const LOG_KEEP = 2 << 20;
const ended = (j) => j.status !== 'pending' && j.status !== 'running';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function jobWords(kind, j) {
  switch (j.status) {
    case 'pending': return `Waiting for the job runner. At most --jobs-per-server jobs run on a server at once.`;
    case 'running': return kind === 'backup' ? 'The dump tool is running on the database\'s server; the dump streams into the backup store.' : 'The stored dump is streaming into the restore tool on the database\'s server.';
    case 'completed': return kind === 'backup' ? 'Completed: the whole dump is in the backup store with its size and SHA-256.' : 'Completed: the database\'s contents were replaced with the backup.';
    case 'failed': return ERROR_WORDS[j.error] || (j.error ? `Failed with error ${j.error}.` : 'Failed.');
    default: return j.status;
  }
}

const by = (j) => (j.triggered_by ? `${j.triggered_by.type} ${j.triggered_by.name ?? j.triggered_by.id ?? ''}`.trim() : '—');

// The log of /v1/{path}/{id}/log into pre, from byte 0, until complete;
// then refresh() once more (the row's final status). Stops when pre leaves
// the page.
async function followLog(path, id, pre, refresh) {
  // the page is built before it is shown: wait for it to be (up to 10 s)
  for (let i = 0; i < 200 && !pre.isConnected; i++) await sleep(50);
  let offset = 0;
  let empty = true;
  const dec = new TextDecoder();
  pre.setAttribute('aria-busy', 'true');
  pre.textContent = 'Waiting for output…';
  while (pre.isConnected) {
    let complete = false;
    try {
      const res = await fetch(`/web/api/v1/${path}/${id}/log?offset=${offset}`, { credentials: 'same-origin', headers: { Accept: 'text/plain' } });
      if (res.status === 401) return;
      if (res.ok) {
        const buf = await res.arrayBuffer();
        offset += buf.byteLength;
        const text = dec.decode(buf, { stream: true });
        if (text) {
          if (empty) { pre.textContent = ''; empty = false; }
          pre.append(text);
          if (pre.textContent.length > LOG_KEEP) pre.textContent = `[… earlier output not shown …]\n${pre.textContent.slice(-LOG_KEEP)}`;
        }
        complete = res.headers.get('X-Log-Complete') === 'true';
      }
    } catch { /* the server went away for a moment: keep polling */ }
    if (complete) {
      if (empty) pre.textContent = 'The job wrote no output.';
      pre.setAttribute('aria-busy', 'false');
      await refresh();
      return;
    }
    await refresh();
    await sleep(POLL_MS);
  }
}

function cancelButton(path, j, label) {
  return h('button', {
    type: 'button', class: 'btn danger-ghost', 'aria-label': `Cancel ${label}`,
    onclick: async () => {
      try {
        await post(`/v1/${path}/${j.id}/cancel`);
        toast(`Cancel of ${label} asked.`);
      } catch (e) {
        if (e.status !== 401) toast(e.detail || e.message, 'error');
      }
    },
  }, 'Cancel');
}

export async function backupPage(id, restoreFn) {
  let b = await get(`/v1/backups/${id}`);
  const db = await get(`/v1/databases/${b.database_id}`).catch(() => null);
  const status = h('span', {});
  const words = h('p', { class: 'deploy-words' });
  const facts = h('dl', { class: 'kv' });
  const actions = h('div', { class: 'actions' });
  const pre = h('pre', { class: 'log live', role: 'log', 'aria-live': 'polite', 'aria-label': `Log of backup #${b.id}`, tabindex: '0' });
  const show = (x) => {
    b = x;
    status.replaceChildren(badge(x.status));
    words.textContent = jobWords('backup', x);
    words.className = `deploy-words${x.status === 'failed' ? ' bad' : ''}`;
    facts.replaceChildren(
      h('dt', {}, 'Database'), h('dd', {}, db ? `${db.name} (${db.engine})` : `#${x.database_id}`),
      h('dt', {}, 'Size'), h('dd', {}, fmtBytes(x.size_bytes)),
      h('dt', {}, 'SHA-256'), h('dd', { class: 'mono', 'data-sha256': x.sha256 || '' }, x.sha256 || '—'),
      h('dt', {}, 'Error'), h('dd', { class: 'mono' }, x.error || '—'),
      h('dt', {}, 'Started by'), h('dd', {}, by(x)),
      h('dt', {}, 'Started'), h('dd', {}, timeEl(x.started_at, '—')),
      h('dt', {}, 'Finished'), h('dd', {}, timeEl(x.finished_at, '—')));
    actions.replaceChildren(...(x.status === 'completed' ? [
      h('a', { class: 'btn', href: `/web/api/v1/backups/${x.id}/download`, download: '', 'aria-label': `Download backup ${x.id}` }, 'Download'),
      h('button', { type: 'button', class: 'btn', onclick: () => restoreFn(x) }, 'Restore')]
      : !ended(x) ? [cancelButton('backups', x, `backup #${x.id}`)] : []));
  };
  show(b);
  const card = h('section', { class: 'card card-pad live-log', 'aria-label': `Backup #${b.id}` },
    h('div', { class: 'live-head' }, h('h2', {}, `Backup #${b.id}`), status, actions), words, facts, pre);
  followLog('backups', b.id, pre, async () => { try { show(await get(`/v1/backups/${id}`)); } catch { /* next tick */ } });

  const restores = (await get(`/v1/restores?backup_id=${id}&per_page=100`)).data;
  const want = Number(new URLSearchParams(location.search).get('restore')) || restores[0]?.id;
  const out = [
    h('div', { class: 'crumbs' }, h('a', { href: '/backups' }, 'Backups'), ' / ', `Backup #${b.id}`),
    pageHead(`Backup #${b.id}`, db ? `of ${db.name}` : ''),
    card,
    h('h2', { class: 'section-title' }, 'Restores of this backup'),
  ];
  if (!restores.length) {
    out.push(emptyState({ iconName: 'backup', title: 'No restores yet', text: 'Restore this backup into its database or another of the same engine; each restore is listed here with its log.' }));
    return h('div', {}, ...out);
  }
  const names = {};
  for (const d of (await get('/v1/databases?per_page=100')).data) names[d.id] = d.name;
  out.push(table([
    { label: 'Restore', cell: (r) => `#${r.id}` },
    { label: 'Into', cell: (r) => names[r.database_id] || `#${r.database_id}` },
    { label: 'Status', cell: (r) => h('span', { 'data-restore-status': String(r.id) }, badge(r.status)) },
    { label: 'Error', cell: (r) => (r.error ? h('span', { class: 'mono', title: jobWords('restore', r) }, r.error) : h('span', { class: 'muted' }, '—')) },
    { label: 'Created', cell: (r) => timeEl(r.created_at) },
    { label: 'Log', cell: (r) => h('a', { class: 'btn small', href: `/backups/${id}?restore=${r.id}`, 'aria-label': `Show the log of restore #${r.id}` }, 'Log') },
  ], restores, { caption: 'Restores of this backup' }));
  const r = restores.find((x) => x.id === want);
  if (r) {
    const rs = h('span', {});
    const rw = h('p', { class: 'deploy-words' });
    const ra = h('div', { class: 'actions' });
    const rpre = h('pre', { class: 'log live', role: 'log', 'aria-label': `Log of restore #${r.id}`, tabindex: '0' });
    const rshow = (x) => {
      rs.replaceChildren(badge(x.status));
      document.querySelector(`[data-restore-status="${x.id}"]`)?.replaceChildren(badge(x.status));
      rw.textContent = jobWords('restore', x);
      rw.className = `deploy-words${x.status === 'failed' ? ' bad' : ''}`;
      ra.replaceChildren(ended(x) ? '' : cancelButton('restores', x, `restore #${x.id}`));
    };
    rshow(r);
    out.push(h('section', { class: 'card card-pad live-log', 'aria-label': `Restore #${r.id}` },
      h('div', { class: 'live-head' }, h('h2', {}, `Restore #${r.id} into ${names[r.database_id] || `#${r.database_id}`}`), rs, ra), rw, rpre));
    followLog('restores', r.id, rpre, async () => { try { rshow(await get(`/v1/restores/${r.id}`)); } catch { /* next tick */ } });
  }
  return h('div', {}, ...out);
}
