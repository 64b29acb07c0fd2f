// Shared by the UI's modules: the state, the API client, DOM helpers, the session views.

export const $ = (selector, root = document) => root.querySelector(selector);
export const $$ = (selector, root = document) => [...root.querySelectorAll(selector)];

export const state = {
  session: null, // {username, role, csrf_token}
  backends: [],
  schemas: [],
  apis: [],
  revisions: [],
  services: new Map(), // schema name -> services [{name, methods}]
  apps: [],
};

// ---------- the API client ----------

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.message || `HTTP ${status}`);
    this.status = status;
    this.body = body || {};
  }
}

export async function api(method, path, body, headers = {}) {
  const init = { method, headers: { ...headers }, credentials: 'same-origin' };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  if (method !== 'GET' && state.session) init.headers['X-CSRF-Token'] = state.session.csrf_token;
  const response = await fetch(path, init);
  const text = await response.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = { message: text }; }
  if (!response.ok) {
    if (response.status === 401 && path !== '/api/session') showLogin('Your session has ended: log in again.');
    throw new ApiError(response.status, data);
  }
  return data;
}

export const canWrite = () => state.session && state.session.role !== 'viewer';

// ---------- small helpers ----------

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else if (key === 'class') node.className = value;
    else if (key === 'text') node.textContent = value;
    else node.setAttribute(key, value === true ? '' : value);
  }
  for (const child of children.flat()) {
    if (child !== undefined && child !== null && child !== false) node.append(child);
  }
  return node;
}

export function say(message, bad = false) {
  const status = $('#status');
  status.textContent = message;
  status.classList.toggle('bad', bad);
}

/** Shows a refusal next to its form: the message and each `{field, problem}`; marks matching inputs. */
export function showErrors(form, error) {
  const box = form.classList.contains('errors') ? form : $('.errors', form);
  clearErrors(form);
  const body = error instanceof ApiError ? error.body : { message: String(error?.message || error) };
  const details = Array.isArray(body.details) ? body.details : [];
  box.append(el('strong', { text: body.message || 'The request failed.' }));
  if (body.code) box.append(' ', el('span', { class: 'mono', text: `(${body.code})` }));
  if (details.length) {
    box.append(el('ul', {}, details.map((d) =>
      el('li', {}, d.field ? el('code', { text: d.field }) : '', d.field ? ': ' : '', d.problem || ''))));
  }
  for (const d of details) {
    const top = String(d.field || '').split(/[.[]/)[0];
    const input = top && form.elements?.namedItem?.(top);
    if (input && input.setAttribute) input.setAttribute('aria-invalid', 'true');
  }
}

export function clearErrors(form) {
  const box = form.classList.contains('errors') ? form : $('.errors', form);
  box.replaceChildren();
  $$('[aria-invalid]', form).forEach((input) => input.removeAttribute('aria-invalid'));
}

/** Runs a form's action with its submit button disabled; errors land next to the form. */
export async function submitting(form, action) {
  const buttons = $$('button[type=submit]', form);
  buttons.forEach((b) => { b.disabled = true; });
  clearErrors(form);
  try {
    await action();
  } catch (error) {
    showErrors(form, error);
    say('');
  } finally {
    buttons.forEach((b) => { b.disabled = false; });
  }
}

export function when(text) {
  if (!text) return '';
  const date = new Date(text);
  return Number.isNaN(date.getTime()) ? text : date.toLocaleString();
}

// ---------- session ----------

export function showLogin(message) {
  state.session = null;
  $('#login-view').hidden = false;
  $('#dashboard').hidden = true;
  $('#whoami').hidden = true;
  if (message) say(message, true);
  $('#login-password').focus();
}

export function showDashboard() {
  const { username, role } = state.session;
  $('#login-view').hidden = true;
  $('#dashboard').hidden = false;
  $('#whoami').hidden = false;
  $('#whoami-text').textContent = `${username} (${role})`;
  document.body.classList.toggle('viewer', !canWrite());
  $('#viewer-note').hidden = canWrite();
  $$('.write input, .write select, .write textarea, .write button').forEach((c) => { c.disabled = !canWrite(); });
}

export async function copy(text, button) {
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    const area = el('textarea', {}, text);
    document.body.append(area);
    area.select();
    document.execCommand('copy');
    area.remove();
  }
  const label = button.textContent;
  button.textContent = 'Copied';
  setTimeout(() => { button.textContent = label; }, 1200);
}

