// Small DOM helpers shared by every page: element builder, times, badges,
// dialogs, toasts, tables, empty states and form errors. No framework.

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'text') el.textContent = v;
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, String(v));
  }
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

const ICONS = {
  server: 'M3 5h18v6H3zM3 13h18v6H3zM7 8h.01M7 16h.01',
  app: 'M4 4h7v7H4zM13 4h7v7h-7zM4 13h7v7H4zM13 13h7v7h-7z',
  db: 'M4 6c0-1.7 3.6-3 8-3s8 1.3 8 3-3.6 3-8 3-8-1.3-8-3zM4 6v12c0 1.7 3.6 3 8 3s8-1.3 8-3V6M4 12c0 1.7 3.6 3 8 3s8-1.3 8-3',
  backup: 'M12 3v12M7 10l5 5 5-5M4 19h16',
  audit: 'M9 5h10M9 12h10M9 19h10M4 5h.01M4 12h.01M4 19h.01',
  settings: 'M12 15a3 3 0 1 0 0-6 3 3 0 0 0 0 6zM19.4 15a1.7 1.7 0 0 0 .3 1.8l.1.1a2 2 0 1 1-2.8 2.8l-.1-.1a1.7 1.7 0 0 0-1.8-.3 1.7 1.7 0 0 0-1 1.5V21a2 2 0 1 1-4 0v-.1a1.7 1.7 0 0 0-1.1-1.5 1.7 1.7 0 0 0-1.8.3l-.1.1a2 2 0 1 1-2.8-2.8l.1-.1a1.7 1.7 0 0 0 .3-1.8 1.7 1.7 0 0 0-1.5-1H3a2 2 0 1 1 0-4h.1a1.7 1.7 0 0 0 1.5-1.1 1.7 1.7 0 0 0-.3-1.8l-.1-.1a2 2 0 1 1 2.8-2.8l.1.1a1.7 1.7 0 0 0 1.8.3H9a1.7 1.7 0 0 0 1-1.5V3a2 2 0 1 1 4 0v.1a1.7 1.7 0 0 0 1 1.5 1.7 1.7 0 0 0 1.8-.3l.1-.1a2 2 0 1 1 2.8 2.8l-.1.1a1.7 1.7 0 0 0-.3 1.8V9a1.7 1.7 0 0 0 1.5 1H21a2 2 0 1 1 0 4h-.1a1.7 1.7 0 0 0-1.5 1z',
  key: 'M15 7a4 4 0 1 1-3.9 4.9L3 20v-3h3v-3h3l1.1-1.1A4 4 0 0 1 15 7zM16 8h.01',
  plus: 'M12 5v14M5 12h14',
  rocket: 'M5 15c-1.5 1.5-2 5-2 5s3.5-.5 5-2M14 4c3-1 6-1 6-1s0 3-1 6l-7 7-5-5 7-7zM15 9h.01',
};

export function icon(name) {
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('fill', 'none');
  svg.setAttribute('stroke', 'currentColor');
  svg.setAttribute('stroke-width', '1.8');
  svg.setAttribute('stroke-linecap', 'round');
  svg.setAttribute('stroke-linejoin', 'round');
  svg.setAttribute('aria-hidden', 'true');
  const p = document.createElementNS(ns, 'path');
  p.setAttribute('d', ICONS[name] || ICONS.app);
  svg.append(p);
  return svg;
}

// "3 minutes ago" / "in 6 days", with the exact UTC time on hover.
export function relative(iso) {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return '';
  const s = Math.round((t - Date.now()) / 1000);
  const a = Math.abs(s);
  const units = [[60, 'second', 1], [3600, 'minute', 60], [86400, 'hour', 3600],
    [86400 * 30, 'day', 86400], [86400 * 365, 'month', 86400 * 30], [Infinity, 'year', 86400 * 365]];
  if (a < 10) return 'just now';
  const rtf = new Intl.RelativeTimeFormat('en', { numeric: 'auto' });
  for (const [limit, unit, div] of units) {
    if (a < limit) return rtf.format(Math.round(s / div), unit);
  }
  return iso;
}

export function exact(iso) {
  const d = new Date(iso);
  return d.toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
}

export function timeEl(iso, empty = 'Never') {
  if (!iso) return h('span', { class: 'muted' }, empty);
  return h('time', { datetime: iso, title: exact(iso) }, relative(iso));
}

const TONE = {
  active: 'ok', running: 'ok', succeeded: 'ok', completed: 'ok',
  created: '', unknown: '', pending: 'info', queued: 'info', deploying: 'info',
  expired: 'warn', stopped: 'warn', cancelled: 'warn', unreachable: 'danger',
  revoked: 'danger', failed: 'danger',
};

export function badge(status, tone) {
  return h('span', { class: `badge ${tone ?? TONE[status] ?? ''}` }, status);
}

export function toast(msg, kind = '') {
  let box = document.querySelector('.toasts');
  if (!box) {
    box = h('div', { class: 'toasts', role: 'status', 'aria-live': 'polite' });
    document.body.append(box);
  }
  const t = h('div', { class: `toast ${kind}` }, msg);
  box.append(t);
  while (box.children.length > 3) box.firstElementChild.remove();
  setTimeout(() => t.remove(), 4000);
}

// A modal <dialog>: Escape and "Cancel" close it; the promise resolves with
// the value passed to close(), or null. onDismiss, when given, decides what
// Escape and a click on the backdrop do (the one-time token asks first);
// backdrop: true lets a click outside dismiss it at all (never for forms,
// where a stray click would lose what was typed).
export function openDialog(build, { wide = false, label, onDismiss, backdrop = false } = {}) {
  return new Promise((resolve) => {
    const dlg = h('dialog', { class: wide ? 'wide' : '', 'aria-label': label });
    let settled = false;
    const close = (value = null) => {
      if (settled) return;
      settled = true;
      dlg.close();
      dlg.remove();
      resolve(value);
    };
    const dismiss = () => (onDismiss ? onDismiss(close) : close(null));
    dlg.addEventListener('cancel', (e) => { e.preventDefault(); dismiss(); });
    // The body fills the dialog, so only a press and release on the
    // backdrop itself target the <dialog> element.
    let downOutside = false;
    dlg.addEventListener('pointerdown', (e) => { downOutside = e.target === dlg; });
    dlg.addEventListener('click', (e) => {
      if (backdrop && downOutside && e.target === dlg) dismiss();
      downOutside = false;
    });
    dlg.append(h('div', { class: 'dialog-body' }, build(close, dismiss)));
    document.body.append(dlg);
    dlg.showModal();
    const first = dlg.querySelector('[autofocus]') || dlg.querySelector('input:not([type=hidden]), select, textarea, button.primary, button.danger');
    if (first) first.focus();
  });
}

// "Revoke token ci?" with Cancel and the named action; true when confirmed.
// Cancel has the focus, so Enter on the button that opened it and Enter
// again does nothing harmful. typeName: the action stays disabled until
// that name is typed (deleting a server, application or database).
export function confirmDialog({ title, body, action, danger = true, typeName, cancelLabel = 'Cancel' }) {
  return openDialog((close) => {
    const go = h('button', { type: 'button', class: `btn ${danger ? 'danger' : 'primary'}`, disabled: !!typeName, onclick: () => close(true) }, action);
    let typed = null;
    if (typeName) {
      typed = field({ label: `Type ${typeName} to confirm`, name: 'confirm_name', attrs: { autocomplete: 'off', spellcheck: 'false', autocapitalize: 'off' } });
      const input = typed.querySelector('input');
      input.addEventListener('input', () => { go.disabled = input.value !== typeName; });
      input.addEventListener('keydown', (e) => { if (e.key === 'Enter' && !go.disabled) { e.preventDefault(); close(true); } });
    }
    return [
      h('h2', {}, title),
      h('p', { class: 'lead' }, body),
      typed,
      h('div', { class: 'actions dialog-actions' },
        h('button', { type: 'button', class: 'btn', autofocus: true, onclick: () => close(false) }, cancelLabel),
        go),
    ];
  }, { label: title, backdrop: true }).then((v) => v === true);
}

// Rows per dashboard list page (the API allows up to 100).
export const PER_PAGE = 50;

// The page number in the address (?page=N), 1 when absent or not a number.
export function pageParam() {
  const n = Number(new URLSearchParams(location.search).get('page'));
  return Number.isInteger(n) && n >= 1 ? n : 1;
}

// The address of page n of the current page, other query parameters kept.
export function pageHref(n) {
  const q = new URLSearchParams(location.search);
  if (n === 1) q.delete('page'); else q.set('page', String(n));
  const qs = q.toString();
  return `${location.pathname}${qs ? `?${qs}` : ''}`;
}

// The list pager: "51–100 of 123" with Previous and Next. href(n) is the
// address of page n; a page past the end says so and links to the last.
export function pager({ page, perPage = PER_PAGE, total, href = pageHref }) {
  const pages = Math.max(1, Math.ceil(total / perPage));
  const from = (page - 1) * perPage + 1;
  const to = Math.min(total, page * perPage);
  let text = from === to ? `${from} of ${total}` : `${from}–${to} of ${total}`;
  if (from > total) text = `Page ${page} is past the end: ${total} in all`;
  const prevPage = Math.min(page - 1, pages);
  const link = (n, label, rel) => (n >= 1 && n <= pages && n !== page
    ? h('a', { class: 'btn small', href: href(n), rel }, label)
    : h('button', { type: 'button', class: 'btn small', disabled: true }, label));
  return h('nav', { class: 'pager', 'aria-label': 'Pages' },
    h('span', { class: 'pager-range' }, text),
    pages > 1 || from > total ? h('div', { class: 'actions' }, link(prevPage, 'Previous', 'prev'), link(page + 1, 'Next', 'next')) : null);
}

// Removes every toast: they belong to the page that showed them.
export function clearToasts() {
  const box = document.querySelector('.toasts');
  if (box) box.replaceChildren();
}

export function emptyState({ iconName = 'app', title, text, action }) {
  return h('div', { class: 'card empty' },
    h('div', { class: 'icon' }, icon(iconName)),
    h('h2', {}, title), h('p', {}, text), action || null);
}

// columns: [{label, cell(row) -> Node|string, first?}]
export function table(columns, rows, { caption } = {}) {
  return h('div', { class: 'table-wrap' },
    h('table', { class: 'responsive' },
      caption ? h('caption', { class: 'visually-hidden' }, caption) : null,
      h('thead', {}, h('tr', {}, columns.map((c) => h('th', { scope: 'col' }, c.label)))),
      h('tbody', {}, rows.map((r) => h('tr', {}, columns.map((c, i) =>
        h('td', { 'data-label': c.label, class: [i === 0 ? 'first' : '', c.num ? 'num' : ''].join(' ').trim() || null }, c.cell(r))))))));
}

export function field({ label, name, type = 'text', value = '', required = false, hint, options, attrs = {} }) {
  const id = `f-${name}-${Math.random().toString(36).slice(2, 8)}`;
  let control;
  if (type === 'select') {
    control = h('select', { class: 'input', id, name, required, ...attrs },
      options.map((o) => h('option', { value: o.value, selected: String(o.value) === String(value) }, o.label)));
  } else if (type === 'textarea') {
    control = h('textarea', { class: 'input', id, name, required, ...attrs });
    control.value = value ?? '';
  } else {
    control = h('input', { class: 'input', id, name, type, required, ...attrs });
    control.value = value ?? '';
  }
  const hintEl = hint ? h('div', { class: 'hint', id: `${id}-hint` }, hint) : null;
  if (hintEl) control.setAttribute('aria-describedby', hintEl.id);
  return h('div', { class: 'field' }, h('label', { for: id }, label), control, hintEl);
}

// Shows an API error on a form: each {field, message} under its control
// (matched by name), anything else in a banner at the top.
export function showFormErrors(form, err) {
  clearFormErrors(form);
  const rest = [];
  for (const e of err.errors || []) {
    const control = form.querySelector(`[name="${CSS.escape(e.field)}"]`);
    if (!control) { rest.push(`${e.field}: ${e.message}`); continue; }
    const msg = h('div', { class: 'field-error', id: `${control.id}-err` }, capitalize(e.message));
    control.setAttribute('aria-invalid', 'true');
    control.setAttribute('aria-describedby', [control.getAttribute('aria-describedby'), msg.id].filter(Boolean).join(' '));
    (control.closest('.field') || control.parentElement).append(msg);
  }
  if (!(err.errors || []).length || rest.length) {
    const text = rest.length ? rest.join('; ') : (err.detail || err.message || 'Something went wrong.');
    form.prepend(h('div', { class: 'form-error', role: 'alert' }, text));
  }
  const bad = form.querySelector('[aria-invalid="true"]');
  if (bad) bad.focus();
}

export function clearFormErrors(form) {
  form.querySelectorAll('.field-error, .form-error').forEach((n) => n.remove());
  form.querySelectorAll('[aria-invalid]').forEach((n) => {
    n.removeAttribute('aria-invalid');
    const d = (n.getAttribute('aria-describedby') || '').split(' ').filter((x) => x && !x.endsWith('-err'));
    if (d.length) n.setAttribute('aria-describedby', d.join(' ')); else n.removeAttribute('aria-describedby');
  });
}

export function capitalize(s) { return s ? s[0].toUpperCase() + s.slice(1) : s; }

export function pageHead(title, sub, ...actions) {
  return h('div', { class: 'page-head' },
    h('div', {}, h('h1', {}, title), sub ? h('p', {}, sub) : null),
    actions.length ? h('div', { class: 'actions' }, actions) : null);
}

export function fmtBytes(n) {
  if (n === null || n === undefined) return '—';
  const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < u.length - 1) { v /= 1024; i++; }
  return `${v.toFixed(i ? 1 : 0)} ${u[i]}`;
}
