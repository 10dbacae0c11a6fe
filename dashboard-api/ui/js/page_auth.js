// Log-in, sign-up, password reset, and creating a site.

import { api, setCSRF } from './api.js';
import { h, clear, field, problemsBox, busy } from './dom.js';
import { state, go, loadMe } from './state.js';

/** afterKey keeps the route a logged-out visitor asked for, to open after log-in. */
export const afterKey = 'pushpipe.after';

function credentialsForm(el, { title, action, submit, footer }) {
  const email = h('input', { type: 'email', name: 'email', autocomplete: 'username', required: true });
  const password = h('input', {
    type: 'password', name: 'password', required: true, minlength: 10,
    autocomplete: action === '/v1/auth/signup' ? 'new-password' : 'current-password',
  });
  const out = h('div', { class: 'form-out' });
  const button = h('button', { type: 'submit', class: 'primary' }, submit);
  const form = h('form', {
    class: 'card narrow', id: 'auth-form',
    onsubmit: async (ev) => {
      ev.preventDefault();
      clear(out);
      try {
        const me = await busy(button, api('POST', action, { email: email.value, password: password.value }));
        state.me = me;
        setCSRF(me.csrf_token);
        const after = sessionStorage.getItem(afterKey) || '/';
        sessionStorage.removeItem(afterKey);
        go(after);
      } catch (err) {
        clear(out, problemsBox(err));
      }
    },
  }, h('h1', {}, title), field('E-mail', email), field('Password', password), button, out, footer);
  clear(el, form);
}

/** loginPage is the log-in form. */
export function loginPage(el) {
  credentialsForm(el, {
    title: 'Log in to Pushpipe', action: '/v1/auth/login', submit: 'Log in',
    footer: h('p', {}, 'No account yet? ', h('a', { href: '#/signup' }, 'Sign up'), ' · ', h('a', { href: '#/reset' }, 'Forgot your password?')),
  });
}

/** signupPage is the sign-up form. */
export function signupPage(el) {
  credentialsForm(el, {
    title: 'Create your Pushpipe account', action: '/v1/auth/signup', submit: 'Sign up',
    footer: h('p', {}, 'Have an account? ', h('a', { href: '#/login' }, 'Log in')),
  });
}

/** resetPage asks for a reset link, or (with the link's token) sets a new password. */
export function resetPage(el, token) {
  const out = h('div', { class: 'form-out' });
  if (!token) {
    const email = h('input', { type: 'email', required: true, autocomplete: 'username' });
    const button = h('button', { type: 'submit', class: 'primary' }, 'Send me a link');
    clear(el, h('form', {
      class: 'card narrow',
      onsubmit: async (ev) => {
        ev.preventDefault();
        try {
          const r = await busy(button, api('POST', '/v1/auth/password-reset', { email: email.value }));
          clear(out, h('p', { class: 'ok' }, r.status));
        } catch (err) {
          clear(out, problemsBox(err));
        }
      },
    }, h('h1', {}, 'Reset your password'), field('E-mail', email), button, out, h('p', {}, h('a', { href: '#/login' }, 'Back to log-in'))));
    return;
  }
  const password = h('input', { type: 'password', required: true, minlength: 10, autocomplete: 'new-password' });
  const button = h('button', { type: 'submit', class: 'primary' }, 'Set password');
  clear(el, h('form', {
    class: 'card narrow',
    onsubmit: async (ev) => {
      ev.preventDefault();
      try {
        await busy(button, api('POST', '/v1/auth/password-reset/confirm', { token, password: password.value }));
        clear(out, h('p', { class: 'ok' }, 'Password changed. ', h('a', { href: '#/login' }, 'Log in')));
      } catch (err) {
        clear(out, problemsBox(err));
      }
    },
  }, h('h1', {}, 'Choose a new password'), field('New password', password, 'At least 10 characters.'), button, out));
}

/** newSitePage creates a site (the caller becomes its owner) and shows its snippet and API key once. */
export function newSitePage(el) {
  const name = h('input', { name: 'name', required: true });
  const contact = h('input', { name: 'contact', required: true, placeholder: 'mailto:ops@example.com', value: `mailto:${state.me.account.email}` });
  const origins = h('input', { name: 'allowed_origins', placeholder: 'https://shop.example https://www.shop.example' });
  const out = h('div', { class: 'form-out' });
  const button = h('button', { type: 'submit', class: 'primary' }, 'Create site');
  clear(el, h('form', {
    class: 'card', id: 'new-site-form',
    onsubmit: async (ev) => {
      ev.preventDefault();
      clear(out);
      const body = { name: name.value, contact: contact.value };
      const list = origins.value.split(/[\s,]+/).filter(Boolean);
      if (list.length) body.allowed_origins = list;
      try {
        const created = await busy(button, api('POST', '/v1/sites', body));
        await loadMe();
        const site = created.site;
        clear(el, h('section', { class: 'card' },
          h('h1', {}, `Site ${site.name} created`),
          h('p', {}, 'Put this on every page of the site:'),
          h('pre', { class: 'code' }, created.snippet.html),
          h('p', {}, 'The API key below (write scope) is shown only once: keep it now.'),
          h('pre', { class: 'code', id: 'new-api-key' }, created.api_key),
          h('p', {}, h('a', { class: 'button primary', href: `#/s/${encodeURIComponent(site.id)}/overview` }, 'Open its dashboards'))));
      } catch (err) {
        clear(out, problemsBox(err));
      }
    },
  }, h('h1', {}, 'New site'), field('Name', name), field('Contact for push services', contact, 'mailto: or https: address'),
  field('Allowed origins', origins, 'The origins whose pages send events, separated by spaces.'), button, out));
}

/** acceptPage accepts an invitation (the link of the invitation e-mail) for the logged-in account. */
export function acceptPage(el, token) {
  const out = h('div', { class: 'form-out' });
  const button = h('button', { type: 'submit', class: 'primary' }, 'Accept the invitation');
  clear(el, h('form', {
    class: 'card narrow', id: 'accept-form',
    onsubmit: async (ev) => {
      ev.preventDefault();
      try {
        const r = await busy(button, api('POST', '/v1/invitations/accept', { token }));
        await loadMe();
        go(`/s/${encodeURIComponent(r.site_id)}/overview`);
      } catch (err) {
        clear(out, problemsBox(err));
      }
    },
  }, h('h1', {}, 'Join a site'), h('p', {}, `You are logged in as ${state.me.account.email}. Accept the invitation with this account?`), button, out));
}
