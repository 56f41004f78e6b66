// The organisation (Identity service): its profile, and its members and invitations — search, invite, resend, roles —
// kept current by the live user_* events. What the signed-in user may change follows their role as Identity has it now
// (GET /api/auth/me, read again when a role changes): members read, admins manage members and admins, owners everyone.
import { useState } from 'preact/hooks';
import { api } from '../api.js';
import { useLiveEvents } from '../live.js';
import { session } from '../session.js';
import { Field, FormProblem, Loading, ProblemText, html, useForm, useLoad, when } from '../ui.js';

export function Organization() {
  const me = useLoad(() => api('/api/auth/me'));
  useLiveEvents(['user_role_changed'], me.reload);
  const role = me.data?.role;
  const manages = role === 'owner' || role === 'admin';
  return html`
    <h1>Organisation</h1>
    <${Profile} editable=${manages} />
    ${manages && html`<${Billing} />`}
    <${Members} role=${role} />`;
}

// The roles someone with this role may give, or change someone from: only owners make or touch owners.
const grantable = role => (role === 'owner' ? ['member', 'admin', 'owner'] : role === 'admin' ? ['member', 'admin'] : []);

// Stripe's billing portal for the organisation (invoices, payment methods); Stripe returns to /settings/billing.
function Billing() {
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const open = async () => {
    setBusy(true);
    setError(null);
    try {
      location.assign((await api('/api/organization/billing')).url);
    } catch (problem) {
      setError(problem);
      setBusy(false);
    }
  };
  return html`
    <section aria-labelledby="org-billing">
      <h2 id="org-billing">Billing</h2>
      <button type="button" class="secondary" disabled=${busy} onClick=${open}>${busy ? 'Opening…' : 'Open the billing portal'}</button>
      <${ProblemText} error=${error} />
    </section>`;
}

function Profile({ editable }) {
  const profile = useLoad(() => api('/api/organization/profile'));
  const shown = profile.data;
  return html`
    <section aria-labelledby="org-profile">
      <h2 id="org-profile">Profile</h2>
      <${ProblemText} error=${profile.error} />
      ${shown === undefined ? html`<${Loading} />` : editable ? html`<${ProfileForm} profile=${shown} />` : html`
        <p class="hint">${shown.memberCount} ${shown.memberCount === 1 ? 'member' : 'members'} · since ${when(shown.createdAt)}</p>
        <dl>
          <dt>Organisation name</dt><dd>${shown.name}</dd>
          ${shown.contactEmail && html`<dt>Contact e-mail</dt><dd>${shown.contactEmail}</dd>`}
          ${shown.website && html`<dt>Website</dt><dd>${shown.website}</dd>`}
        </dl>`}
    </section>`;
}

function ProfileForm({ profile }) {
  const [saved, setSaved] = useState(false);
  const form = useForm({ name: profile.name, contactEmail: profile.contactEmail ?? '', website: profile.website ?? '' }, async values => {
    setSaved(false);
    await api('/api/organization/profile', { method: 'PATCH', body: values });
    setSaved(true);
  });
  return html`
    <p class="hint">${profile.memberCount} ${profile.memberCount === 1 ? 'member' : 'members'} · since ${when(profile.createdAt)}</p>
    <form onSubmit=${form.onSubmit} novalidate>
      <${FormProblem} problem=${form.problem} fields=${['name', 'contactEmail', 'website']} />
      <div class="inline-fields">
        <${Field} label="Organisation name" ...${form.bind('name')} />
        <${Field} label="Contact e-mail" type="email" ...${form.bind('contactEmail')} />
        <${Field} label="Website" type="url" placeholder="https://" ...${form.bind('website')} />
      </div>
      <button type="submit" disabled=${form.busy}>Save profile</button>
      ${saved && html` <span role="status">Saved.</span>`}
    </form>`;
}

const PageSize = 20;

function Members({ role }) {
  const [search, setSearch] = useState('');
  const [page, setPage] = useState(1);
  const members = useLoad(() => api(`/api/users?search=${encodeURIComponent(search)}&limit=${PageSize}&offset=${(page - 1) * PageSize}`), [search, page]);
  useLiveEvents(['user_'], members.reload);
  const form = useForm({ email: '', role: 'member' }, async (values, setValues) => {
    await api('/api/users/invite', { method: 'POST', body: values });
    setValues({ email: '', role: values.role });
    members.reload();
  });
  const pages = members.data ? Math.max(1, Math.ceil(members.data.total / members.data.limit)) : 1;
  return html`
    <section aria-labelledby="members">
      <h2 id="members">Members</h2>
      ${grantable(role).length > 0 && html`
        <form class="inline" onSubmit=${form.onSubmit} novalidate aria-label="Invite someone">
          <${FormProblem} problem=${form.problem} fields=${['email', 'role']} />
          <${Field} label="Invite by e-mail" type="email" required ...${form.bind('email')} />
          <${Field} label="Role" as="select" ...${form.bind('role')}>
            ${grantable(role).map(r => html`<option value=${r}>${r}</option>`)}
          </${Field}>
          <button type="submit" disabled=${form.busy}>Send invitation</button>
        </form>`}
      <div class="field search">
        <label for="member-search">Search members</label>
        <input id="member-search" type="search" value=${search} onInput=${e => { setSearch(e.currentTarget.value); setPage(1); }} />
      </div>
      <${ProblemText} error=${members.error} />
      ${members.data === undefined ? html`<${Loading} />` : html`
        <div class="table-wrap">
          <table>
            <thead><tr><th scope="col">Person</th><th scope="col">Role</th><th scope="col">Status</th><th scope="col">Since</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
            <tbody>${members.data.data.map(m => html`<${MemberRow} key=${m.id} member=${m} role=${role} onChanged=${members.reload} />`)}</tbody>
          </table>
        </div>
        ${pages > 1 && html`
          <p class="pager">
            <button type="button" class="secondary" disabled=${page <= 1} onClick=${() => setPage(p => p - 1)}>Previous</button>
            Page ${page} of ${pages}
            <button type="button" class="secondary" disabled=${page >= pages} onClick=${() => setPage(p => p + 1)}>Next</button>
          </p>`}`}
    </section>`;
}

function MemberRow({ member, role, onChanged }) {
  const [error, setError] = useState(null);
  const [note, setNote] = useState(null);
  const me = member.id === session.current?.user.id;
  const act = async (path, body) => {
    setError(null);
    try {
      await api(path, { method: 'POST', body });
      onChanged();
      return true;
    } catch (problem) {
      setError(problem);
      return false;
    }
  };
  const invited = member.status !== 'active';
  // Someone I may manage: admins manage members and admins, owners everyone; nobody changes their own role here.
  const manageable = grantable(role).includes(member.role);
  return html`
    <tr>
      <td>${member.name ?? ''} <span class="hint">${member.email}</span>${me && html` <span class="badge">you</span>`}</td>
      <td>
        ${invited || me || !manageable ? member.role : html`
          <label class="visually-hidden" for=${`role-${member.id}`}>Role of ${member.email}</label>
          <select id=${`role-${member.id}`} value=${member.role}
            onChange=${async e => (await act(`/api/users/${member.id}/role`, { role: e.currentTarget.value })) && setNote('Role changed.')}>
            ${grantable(role).map(r => html`<option value=${r}>${r}</option>`)}
          </select>`}
      </td>
      <td><span class=${`status ${member.status === 'active' ? 'active' : 'pending'}`}>${member.status}</span></td>
      <td>${when(member.since)}</td>
      <td class="actions">
        ${invited && member.status !== 'closed' && manageable && html`<button type="button" class="secondary" aria-label=${`Resend the invitation to ${member.email}`}
          onClick=${async () => (await act(`/api/users/${member.id}/resend-invite`)) && setNote('Sent again.')}>Resend</button>`}
        ${note && html` <span role="status">${note}</span>`}
        <${ProblemText} error=${error} />
      </td>
    </tr>`;
}
