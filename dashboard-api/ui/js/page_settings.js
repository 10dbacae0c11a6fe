// Settings: the site (origins, IP anonymisation, retention, contact), the
// delivery settings, the SDK snippet, and for owners the API keys, members
// and audit log.

import { api, sitePath, query } from './api.js';
import { h, clear, problemsBox, table, field, busy } from './dom.js';
import { state, loadMe } from './state.js';

function formCard(id, title, fields, submit, onSubmit) {
  const out = h('div', { class: 'form-out' });
  const button = h('button', { type: 'submit', class: 'primary' }, submit);
  return h('form', {
    class: 'card', id,
    onsubmit: async (ev) => {
      ev.preventDefault();
      clear(out);
      try {
        const msg = await busy(button, onSubmit());
        clear(out, h('p', { class: 'ok' }, msg || 'Saved.'));
      } catch (err) {
        clear(out, problemsBox(err));
      }
    },
  }, h('h2', {}, title), fields, button, out);
}

function siteForm(site, s, owner) {
  const name = h('input', { name: 'name', value: s.name, disabled: !owner });
  const origins = h('textarea', { name: 'allowed_origins', rows: 3, value: s.allowed_origins.join('\n'), disabled: !owner });
  const anon = h('input', { type: 'checkbox', name: 'anonymize_ip', checked: s.anonymize_ip, disabled: !owner });
  const retention = h('input', { type: 'number', name: 'retention_days', min: 1, value: s.retention_days, disabled: !owner });
  const contact = h('input', { name: 'contact', value: s.contact, disabled: !owner });
  return formCard('site-form', 'Site', [field('Name', name), field('Allowed origins (one a line)', origins),
    h('label', { class: 'check' }, anon, ' Anonymise IP addresses'), field('Keep events for (days)', retention),
    field('Contact for push services', contact), h('p', { class: 'muted' }, `Site key ${s.site_key} · VAPID public key `, h('code', {}, s.vapid_public_key))], 'Save site', async () => {
    await api('PUT', sitePath(site), {
      name: name.value, allowed_origins: origins.value.split(/\s+/).filter(Boolean), anonymize_ip: anon.checked,
      retention_days: +retention.value, contact: contact.value,
    });
    await loadMe();
  });
}

function deliveryForm(site, st) {
  const inputs = {
    freq_cap_count: h('input', { type: 'number', min: 0, value: st.freq_cap_count }),
    freq_cap_window: h('input', { value: st.freq_cap_window, placeholder: '1d' }),
    quiet_start: h('input', { type: 'time', value: st.quiet_start }),
    quiet_end: h('input', { type: 'time', value: st.quiet_end }),
    quiet_mode: h('select', {}, ['hold', 'drop'].map((m) => h('option', { value: m, selected: st.quiet_mode === m }, m))),
    default_timezone: h('input', { value: st.default_timezone, list: 'tz-list-settings' }),
    attribution_window: h('input', { value: st.attribution_window, placeholder: '1d' }),
    send_rate_per_minute: h('input', { type: 'number', min: 0, value: st.send_rate_per_minute }),
  };
  const labels = {
    freq_cap_count: 'Pushes per subscriber at most (0: no cap)', freq_cap_window: 'per window', quiet_start: 'Quiet hours from',
    quiet_end: 'to', quiet_mode: 'During quiet hours', default_timezone: 'Default timezone', attribution_window: 'Attribution window',
    send_rate_per_minute: 'Pushes per minute for the site at most (0: no limit)',
  };
  let zones = [];
  try {
    zones = Intl.supportedValuesOf('timeZone');
  } catch { /* an old browser: no suggestions */ }
  return formCard('delivery-form', 'Delivery', [Object.keys(inputs).map((k) => field(labels[k], inputs[k])),
    h('datalist', { id: 'tz-list-settings' }, zones.map((z) => h('option', { value: z })))], 'Save delivery settings', async () => {
    const body = {}; // only what changed: a field left alone keeps its value
    for (const [k, el] of Object.entries(inputs)) {
      const v = el.type === 'number' ? +el.value : el.value;
      if (v !== st[k]) body[k] = v;
    }
    Object.assign(st, await api('PUT', sitePath(site, '/settings'), body));
  });
}

async function keysCard(site) {
  const card = h('section', { class: 'card', id: 'keys' }, h('h2', {}, 'API keys'));
  const draw = async () => {
    const { keys } = await api('GET', sitePath(site, '/keys'));
    const name = h('input', { name: 'key-name', required: true, placeholder: 'reporting' });
    const scope = h('select', { name: 'scope' }, ['read', 'write'].map((s) => h('option', { value: s }, s)));
    const out = h('div', { class: 'form-out' });
    clear(card, h('h2', {}, 'API keys'),
      table(keys.map((k) => ({ ...k, revoked_at: k.revoked_at || '' })), { columns: ['name', 'prefix', 'scope', 'created_at', 'revoked_at'], empty: 'No API keys.' }),
      h('div', { class: 'buttons' }, keys.filter((k) => !k.revoked_at).map((k) => h('button', {
        type: 'button', class: 'danger',
        onclick: async (ev) => {
          if (!confirm(`Revoke the key ${k.name}?`)) return;
          try {
            await busy(ev.target, api('DELETE', sitePath(site, `/keys/${encodeURIComponent(k.id)}`)));
            await draw();
          } catch (err) {
            clear(out, problemsBox(err));
          }
        },
      }, `Revoke ${k.name}`))),
      h('form', {
        class: 'row',
        onsubmit: async (ev) => {
          ev.preventDefault();
          try {
            const r = await api('POST', sitePath(site, '/keys'), { name: name.value, scope: scope.value });
            await draw();
            card.append(h('p', { class: 'ok' }, 'The new key, shown only this once: ', h('code', { class: 'secret' }, r.secret)));
          } catch (err) {
            clear(out, problemsBox(err));
          }
        },
      }, field('Name', name), field('Scope', scope), h('button', { type: 'submit' }, 'Create key')), out);
  };
  await draw();
  return card;
}

async function membersCard(site) {
  const card = h('section', { class: 'card', id: 'members' });
  const draw = async () => {
    const { members, invitations } = await api('GET', sitePath(site, '/members'));
    const email = h('input', { type: 'email', name: 'invite-email', required: true });
    const role = h('select', { name: 'role' }, ['viewer', 'editor', 'owner'].map((r) => h('option', { value: r }, r)));
    const out = h('div', { class: 'form-out' });
    const roleSelect = (m) => h('select', {
      'aria-label': `Role of ${m.email}`,
      onchange: async (ev) => {
        try {
          await api('PUT', sitePath(site, `/members/${encodeURIComponent(m.account_id)}`), { role: ev.target.value });
          await draw();
        } catch (err) {
          clear(out, problemsBox(err));
        }
      },
    }, ['viewer', 'editor', 'owner'].map((r) => h('option', { value: r, selected: m.role === r }, r)));
    clear(card, h('h2', {}, 'Members'),
      h('ul', { class: 'members' }, members.map((m) => h('li', {}, m.email, ' ', roleSelect(m), ' ', h('button', {
        type: 'button', class: 'danger',
        onclick: async () => {
          try {
            await api('DELETE', sitePath(site, `/members/${encodeURIComponent(m.account_id)}`));
            await draw();
          } catch (err) {
            clear(out, problemsBox(err));
          }
        },
      }, 'Remove')))),
      invitations.length ? h('div', {}, h('h3', {}, 'Open invitations'), table(invitations, { columns: ['email', 'role', 'expires_at'] })) : null,
      h('form', {
        class: 'row',
        onsubmit: async (ev) => {
          ev.preventDefault();
          try {
            const r = await api('POST', sitePath(site, '/invitations'), { email: email.value, role: role.value });
            await draw();
            card.append(h('p', { class: 'ok' }, 'Send this link to the invitee: ', h('code', {}, r.accept_url)));
          } catch (err) {
            clear(out, problemsBox(err));
          }
        },
      }, field('Invite by e-mail', email), field('Role', role), h('button', { type: 'submit' }, 'Invite')), out);
  };
  await draw();
  return card;
}

async function auditCard(site) {
  const card = h('section', { class: 'card', id: 'audit' }, h('h2', {}, 'Audit log'));
  const entries = [];
  const more = async (cursor) => {
    const r = await api('GET', sitePath(site, '/audit') + query({ limit: 50, cursor }));
    entries.push(...r.entries);
    clear(card, h('h2', {}, 'Audit log'), table(entries, { columns: ['created_at', 'actor', 'action', 'target'], empty: 'No changes yet.' }),
      r.next_cursor ? h('button', { type: 'button', onclick: () => more(r.next_cursor) }, 'Older entries') : null);
  };
  await more();
  return card;
}

/** settingsPage is the settings of site. */
export async function settingsPage(el, site) {
  const role = (state.me.sites.find((s) => s.id === site) || {}).role;
  const owner = role === 'owner';
  const [s, st, snippet] = await Promise.all([api('GET', sitePath(site)), api('GET', sitePath(site, '/settings')), api('GET', sitePath(site, '/snippet'))]);
  const cards = [siteForm(site, s, owner), deliveryForm(site, st),
    h('section', { class: 'card', id: 'snippet' }, h('h2', {}, 'SDK snippet'), h('p', {}, 'Put this on every page of the site:'), h('pre', { class: 'code' }, snippet.html))];
  clear(el, h('div', { class: 'page-head' }, h('h1', {}, 'Settings')), h('div', { class: 'grid' }, cards));
  if (owner) {
    const grid = el.querySelector('.grid');
    for (const make of [keysCard, membersCard, auditCard]) {
      try {
        grid.append(await make(site));
      } catch (err) {
        grid.append(h('section', { class: 'card' }, problemsBox(err)));
      }
    }
  }
}
