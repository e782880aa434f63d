/**
 * Security keys (WebAuthn) in the web UI: the list of one's keys, adding one (name and password, then the browser's
 * ceremony), removing one (password again), and the second step of signing in with a key. The ceremony itself
 * needs JavaScript (assets/security-key.js, no inline script): the page holds the options and the words, the script
 * asks the browser and posts its answer, or why there is none, in an ordinary form. Without JavaScript the page
 * says so and names the way out.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { html, type Html } from '../ui/html.ts';
import { csrfField, errorSummary, formPage, notice, sendPage, textInput, type FieldError } from '../ui/layout.ts';
import { requireUser } from '../ui/guards.ts';
import { safeNext, setSessionCookie, SESSION_COOKIE, type UiContext } from '../ui/context.ts';
import type { AdminDeps } from '../ui/admin-deps.ts';
import { confirmPassword, SECOND_STEP_PATH, signInPage } from './accounts.ts';
import { ASSET_VERSION } from '../../notify/admin/template-views.ts';
import type { Account } from '../accounts/accounts.ts';
import {
  beginRegistration,
  beginSignIn,
  findSecurityKey,
  finishRegistration,
  finishSignIn,
  KEY_NAME_MAX,
  listSecurityKeys,
  MAX_KEYS,
  removeSecurityKey,
  takeChallenge,
  type Ceremony,
  type RelyingParty,
  type SecurityKey,
} from '../accounts/security-keys.ts';

type Form = Record<string, string | undefined>;

/** What the script reports when the browser gave no answer (the DOMException's name, sorted). */
type BrowserOutcome = 'cancelled' | 'already-registered' | 'failed';
type CeremonyError = BrowserOutcome | 'sign-in-cancelled' | 'unknown-key' | 'expired';

const ERROR_KEYS: Record<CeremonyError, string> = {
  cancelled: 'securityKeys.error.cancelled',
  'sign-in-cancelled': 'securityKeys.error.signInCancelled',
  'already-registered': 'securityKeys.error.alreadyRegistered',
  failed: 'securityKeys.error.failed',
  'unknown-key': 'securityKeys.error.unknownKey',
  expired: 'securityKeys.error.expired',
};

function browserOutcome(value: string | undefined): BrowserOutcome | null {
  if (!value) return null;
  return value === 'cancelled' || value === 'already-registered' ? value : 'failed';
}

export async function securityKeyRoutes(app: FastifyInstance, deps: AdminDeps): Promise<void> {
  const { accounts } = deps;
  const db = deps.services.database.db;
  const meta = (request: FastifyRequest) => ({ ip: request.ip, userAgent: request.headers['user-agent'] ?? null });

  /** The site as the browser sees it: ENVOI_PUBLIC_URL, else the request's own origin. */
  function relyingParty(request: FastifyRequest): RelyingParty {
    let origin: URL;
    try {
      origin = new URL(deps.siteRoot(request));
    } catch {
      throw Object.assign(new Error('the request names no usable host'), { statusCode: 400 });
    }
    return { id: origin.hostname, origin: origin.origin, name: 'Envoi' };
  }

  const tooMany = (request: FastifyRequest, reply: FastifyReply) => {
    const { t } = request.ui;
    return sendPage(
      reply,
      request.ui,
      { title: t('tooMany.title'), body: html`<h1>${t('tooMany.title')}</h1><p>${t('tooMany.body')}</p>` },
      429,
    );
  };

  // ---- your keys ---------------------------------------------------------------------------------------------

  app.get<{ Querystring: { notice?: string } }>(
    '/account/security-keys',
    { preHandler: requireUser },
    async (request, reply) => {
      const { ui } = request;
      const keys = await listSecurityKeys(db, ui.account!.id);
      if (keys.length === 0) return reply.redirect('/account/security-keys/new', 303);
      const shown = ['added', 'removed'].find((n) => n === request.query.notice);
      return keysPage(reply, ui, keys, shown);
    },
  );

  app.get('/account/security-keys/new', { preHandler: requireUser }, async (request, reply) =>
    newKeyPage(reply, request.ui, {}),
  );

  app.post<{ Body: Form }>('/account/security-keys/new', { preHandler: requireUser }, async (request, reply) => {
    const { ui } = request;
    const account = ui.account!;
    if (!deps.attempts.allow(`ip:${request.ip}`)) return tooMany(request, reply);
    const name = (request.body.name ?? '').trim();
    const keys = await listSecurityKeys(db, account.id);
    const errors: FieldError[] = [];
    if (!name) errors.push({ field: 'name', message: ui.t('securityKeys.name.missing') });
    else if ([...name].length > KEY_NAME_MAX)
      errors.push({ field: 'name', message: ui.t('securityKeys.name.tooLong', { max: KEY_NAME_MAX }) });
    else if (keys.some((k) => k.name.toLowerCase() === name.toLowerCase()))
      errors.push({ field: 'name', message: ui.t('securityKeys.name.taken') });
    else if (keys.length >= MAX_KEYS)
      errors.push({ field: 'name', message: ui.t('securityKeys.name.tooMany', { max: MAX_KEYS }) });
    const password = await confirmPassword(accounts, request, reply, request.body.password ?? '');
    if (password && !Array.isArray(password)) return password;
    if (password) errors.push(...password);
    if (errors.length) return newKeyPage(reply, ui, { name, errors }, 400);
    return registrationPage(
      reply,
      ui,
      await beginRegistration(db, { account, sessionId: ui.session!.id, name, rp: relyingParty(request) }),
      name,
    );
  });

  app.post<{ Body: Form }>('/account/security-keys/register', { preHandler: requireUser }, async (request, reply) => {
    const { ui } = request;
    const account = ui.account!;
    const sessionId = ui.session!.id;
    const rp = relyingParty(request);
    const challengeId = request.body.challenge ?? '';
    const expired = () =>
      newKeyPage(
        reply,
        ui,
        { errors: [{ field: 'password', message: ui.t('securityKeys.error.expiredRegister') }] },
        400,
      );
    const again = async (name: string, error: CeremonyError) =>
      registrationPage(reply, ui, await beginRegistration(db, { account, sessionId, name, rp }), name, error, 400);

    const outcome = browserOutcome(request.body.outcome);
    if (outcome) {
      const taken = await takeChallenge(db, { account, sessionId, challengeId, purpose: 'register' });
      return taken ? again(taken.keyName ?? '', outcome) : expired();
    }
    const result = await finishRegistration(db, {
      account,
      sessionId,
      challengeId,
      response: request.body.response ?? '',
      rp,
      ip: request.ip,
    });
    if (result.kind === 'expired') return expired();
    if (result.kind !== 'added') return again(result.name, result.kind);
    if (account.authType !== 'security_key')
      await accounts.setAuthType(account.id, 'security_key', account.id, request.ip);
    return reply.redirect('/account/security-keys?notice=added', 303);
  });

  app.get<{ Params: { id: string } }>(
    '/account/security-keys/:id/remove',
    { preHandler: requireUser },
    async (request, reply) => {
      const { ui } = request;
      const key = await findSecurityKey(db, ui.account!.id, request.params.id);
      if (!key) return reply.redirect('/account/security-keys', 303);
      const only = (await listSecurityKeys(db, ui.account!.id)).length === 1;
      return removePage(reply, ui, key, { only });
    },
  );

  app.post<{ Params: { id: string }; Body: Form }>(
    '/account/security-keys/:id/remove',
    { preHandler: requireUser },
    async (request, reply) => {
      const { ui } = request;
      const account = ui.account!;
      if (!deps.attempts.allow(`ip:${request.ip}`)) return tooMany(request, reply);
      const key = await findSecurityKey(db, account.id, request.params.id);
      if (!key) return reply.redirect('/account/security-keys', 303);
      const password = await confirmPassword(accounts, request, reply, request.body.password ?? '');
      if (password && !Array.isArray(password)) return password;
      if (password) return removePage(reply, ui, key, { errors: password }, 400);
      const result = await removeSecurityKey(db, {
        userId: account.id,
        keyId: key.id,
        actorId: account.id,
        ip: request.ip,
      });
      if (result.kind === 'last') return removePage(reply, ui, key, { only: true }, 400);
      return reply.redirect(`/account/security-keys${result.kind === 'removed' ? '?notice=removed' : ''}`, 303);
    },
  );

  // ---- signing in with a key ---------------------------------------------------------------------------------

  /** The pre-session of someone whose second step is a security key (others go to their own second step). */
  function pending(request: FastifyRequest, reply: FastifyReply): { id: string; account: Account } | FastifyReply {
    const session = request.ui.session?.stage === 'second-factor' ? request.ui.session : null;
    if (!session) return reply.redirect('/sign-in?notice=session-expired', 303);
    if (session.account.authType !== 'security_key')
      return reply.redirect(SECOND_STEP_PATH[session.account.authType], 303);
    return session;
  }

  async function signInCeremonyPage(
    request: FastifyRequest,
    reply: FastifyReply,
    session: { id: string; account: Account },
    next: string | undefined,
    error?: CeremonyError,
  ) {
    const ceremony = await beginSignIn(db, {
      account: session.account,
      sessionId: session.id,
      rp: relyingParty(request),
    });
    return signInKeyPage(reply, request.ui, ceremony, next, error, error ? 400 : 200);
  }

  app.get<{ Querystring: { next?: string } }>('/sign-in/security-key', async (request, reply) => {
    const session = pending(request, reply);
    if (!('account' in session)) return session;
    return signInCeremonyPage(request, reply, session, request.query.next);
  });

  app.post<{ Body: Form }>('/sign-in/security-key', async (request, reply) => {
    const session = pending(request, reply);
    if (!('account' in session)) return session;
    const { ui } = request;
    const { account } = session;
    if (!deps.attempts.allow(`ip:${request.ip}`)) return tooMany(request, reply);
    const next = request.body.next;
    const challengeId = request.body.challenge ?? '';

    if (browserOutcome(request.body.outcome)) {
      // Nothing was signed, so nothing counts towards the lockout.
      const taken = await takeChallenge(db, { account, sessionId: session.id, challengeId, purpose: 'sign-in' });
      return signInCeremonyPage(
        request,
        reply,
        session,
        next,
        !taken ? 'expired' : request.body.outcome === 'cancelled' ? 'sign-in-cancelled' : 'failed',
      );
    }
    const result = await finishSignIn(db, {
      account,
      sessionId: session.id,
      challengeId,
      response: request.body.response ?? '',
      rp: relyingParty(request),
    });
    if (result.kind === 'ok') {
      const token = await accounts.completeSignIn(session.id, account, meta(request), 'security_key', {
        securityKeyName: result.key.name,
      });
      setSessionCookie(reply, ui, token);
      return reply.redirect(safeNext(next), 303);
    }
    if (result.kind === 'expired') return signInCeremonyPage(request, reply, session, next, 'expired');
    const lockedUntil = await accounts.recordFailure(account.id, request.ip, 'second-factor-failed');
    if (lockedUntil) {
      reply.clearCookie(SESSION_COOKIE, { path: '/' });
      return signInPage(
        reply,
        { ...ui, session: null },
        {
          email: account.email,
          errors: [{ field: 'email', message: ui.t('signIn.locked', { time: ui.formatDateTime(lockedUntil) }) }],
        },
        400,
      );
    }
    return signInCeremonyPage(request, reply, session, next, result.kind);
  });
}

// ---- views ---------------------------------------------------------------------------------------------------

function keysPage(reply: FastifyReply, ui: UiContext, keys: SecurityKey[], shown: string | undefined) {
  const { t } = ui;
  return sendPage(reply, ui, {
    title: t('securityKeys.title'),
    body: html`${shown && notice(html`<p>${t(`securityKeys.notice.${shown}`)}</p>`, 'success')}
<h1>${t('securityKeys.title')}</h1>
<p>${t('securityKeys.intro')}</p>
<table class="security-keys">
  <caption class="visually-hidden">${t('securityKeys.title')}</caption>
  <thead><tr><th scope="col">${t('securityKeys.column.name')}</th><th scope="col">${t('securityKeys.column.added')}</th><th scope="col">${t('securityKeys.column.lastUsed')}</th><th scope="col"><span class="visually-hidden">${t('securityKeys.column.actions')}</span></th></tr></thead>
  <tbody>${keys.map(
    (k) => html`<tr>
    <td>${k.name}</td>
    <td>${ui.formatDateTime(k.createdAt)}</td>
    <td>${k.lastUsedAt ? ui.formatDateTime(k.lastUsedAt) : t('securityKeys.neverUsed')}</td>
    <td><a href="/account/security-keys/${k.id}/remove">${t('securityKeys.remove')}<span class="visually-hidden"> ${k.name}</span></a></td>
  </tr>`,
  )}</tbody>
</table>
${keys.length < 2 && html`<p>${t('securityKeys.spare')}</p>`}
<p><a class="button" href="/account/security-keys/new">${t('securityKeys.add')}</a></p>
<p><a href="/account">${t('securityKeys.back')}</a></p>`,
  });
}

/** Said wherever a ceremony would run: a security key cannot be used without JavaScript. */
function needsJavaScript(ui: UiContext, key: string): Html {
  return html`<noscript>${notice(html`<p>${ui.t(key)}</p>`, 'warning')}</noscript>`;
}

function newKeyPage(reply: FastifyReply, ui: UiContext, v: { name?: string; errors?: FieldError[] }, status = 200) {
  const { t } = ui;
  const switching = ui.account!.authType !== 'security_key';
  const page = formPage(ui, {
    title: t('securityKeys.new.title'),
    errors: v.errors,
    intro: html`<p>${t('securityKeys.new.intro')}</p>
${switching && html`<p>${t('securityKeys.new.switch')}</p>`}
${needsJavaScript(ui, 'securityKeys.needsJs.account')}`,
    action: '/account/security-keys/new',
    fields: html`${textInput({ id: 'name', label: t('securityKeys.name.label'), hint: t('securityKeys.name.hint', { max: KEY_NAME_MAX }), value: v.name, autocomplete: 'off', errors: v.errors })}
  ${textInput({ id: 'password', label: t('securityKeys.password.label'), hint: t('securityKeys.password.hint'), type: 'password', autocomplete: 'current-password', errors: v.errors })}`,
    submit: t('securityKeys.new.submit'),
    cancel: switching ? '/account/two-step' : '/account/security-keys',
  });
  return sendPage(reply, ui, page, status);
}

interface CeremonyView {
  title: string;
  intro: string;
  action: string;
  /** create: adding a key; get: signing in. */
  kind: 'create' | 'get';
  ceremony: Ceremony<object>;
  button: string;
  needsJs: string;
  hidden?: Html;
  error?: CeremonyError;
  after: Html;
}

/**
 * The page where the browser talks to the key. The form stays hidden until the script shows it; the script puts
 * the browser's answer (or what went wrong) in it and sends it.
 */
function ceremonyPage(reply: FastifyReply, ui: UiContext, v: CeremonyView, status: number) {
  const { t } = ui;
  const errors: FieldError[] | undefined = v.error
    ? [{ field: 'security-key', message: t(ERROR_KEYS[v.error]) }]
    : undefined;
  return sendPage(
    reply,
    ui,
    {
      title: v.title,
      errors,
      body: html`${errorSummary(ui, errors)}
<h1>${v.title}</h1>
<p>${v.intro}</p>
${needsJavaScript(ui, v.needsJs)}
<div id="security-key-unsupported" hidden>${notice(html`<p>${t('securityKeys.unsupported')}</p>`, 'warning')}</div>
<form id="security-key-form" method="post" action="${v.action}" data-ceremony="${v.kind}" data-options="${JSON.stringify(v.ceremony.options)}" hidden novalidate>
  ${csrfField(ui)}${v.hidden}
  <input type="hidden" name="challenge" value="${v.ceremony.challengeId}">
  <input type="hidden" name="response" value="">
  <input type="hidden" name="outcome" value="">
  <div class="field${errors ? ' has-error' : ''}">
    ${errors && html`<span class="error-message" id="security-key-error">${errors[0]!.message}</span>`}
    <p class="hint" id="security-key-hint">${t('securityKeys.touch')}</p>
    <button type="submit" id="security-key" aria-describedby="security-key-hint${errors ? ' security-key-error' : ''}">${v.button}</button>
  </div>
</form>
${v.after}
<script src="/assets/${ASSET_VERSION}/security-key.js" defer></script>`,
    },
    status,
  );
}

function registrationPage(
  reply: FastifyReply,
  ui: UiContext,
  ceremony: Ceremony<object>,
  name: string,
  error?: CeremonyError,
  status = 200,
) {
  const { t } = ui;
  const back = ui.account!.authType === 'security_key' ? '/account/security-keys' : '/account/two-step';
  return ceremonyPage(
    reply,
    ui,
    {
      title: t('securityKeys.register.title', { name }),
      intro: t('securityKeys.register.intro'),
      action: '/account/security-keys/register',
      kind: 'create',
      ceremony,
      button: t('securityKeys.register.button'),
      needsJs: 'securityKeys.needsJs.account',
      error,
      after: html`<p><a href="${back}">${t('common.cancel')}</a></p>`,
    },
    status,
  );
}

function signInKeyPage(
  reply: FastifyReply,
  ui: UiContext,
  ceremony: Ceremony<object> | null,
  next: string | undefined,
  error: CeremonyError | undefined,
  status: number,
) {
  const { t } = ui;
  if (!ceremony) {
    return sendPage(reply, ui, {
      title: t('securityKeys.signIn.title'),
      body: html`<h1>${t('securityKeys.signIn.title')}</h1><p>${t('securityKeys.signIn.noKeys')}</p>`,
    });
  }
  return ceremonyPage(
    reply,
    ui,
    {
      title: t('securityKeys.signIn.title'),
      intro: t('securityKeys.signIn.intro'),
      action: '/sign-in/security-key',
      kind: 'get',
      ceremony,
      button: t('securityKeys.signIn.button'),
      needsJs: 'securityKeys.needsJs.signIn',
      hidden: next ? html`<input type="hidden" name="next" value="${safeNext(next)}">` : undefined,
      error,
      after: html`<p>${t('securityKeys.signIn.lost')}</p>`,
    },
    status,
  );
}

function removePage(
  reply: FastifyReply,
  ui: UiContext,
  key: SecurityKey,
  v: { only?: boolean; errors?: FieldError[] },
  status = 200,
) {
  const { t } = ui;
  const title = t('securityKeys.removeKey.title', { name: key.name });
  return sendPage(
    reply,
    ui,
    {
      title,
      errors: v.errors,
      body: v.only
        ? html`<h1>${title}</h1>
${notice(html`<p>${t('securityKeys.removeKey.only')}</p>`, 'warning')}
<ul>
  <li><a href="/account/security-keys/new">${t('securityKeys.add')}</a></li>
  <li><a href="/account/two-step">${t('securityKeys.removeKey.otherWay')}</a></li>
  <li><a href="/account/security-keys">${t('securityKeys.removeKey.keep')}</a></li>
</ul>`
        : html`${errorSummary(ui, v.errors)}
<h1>${title}</h1>
<p>${t('securityKeys.removeKey.warning')}</p>
<form method="post" action="/account/security-keys/${key.id}/remove" novalidate>
  ${csrfField(ui)}
  ${textInput({ id: 'password', label: t('securityKeys.password.label'), hint: t('securityKeys.password.hint'), type: 'password', autocomplete: 'current-password', errors: v.errors })}
  <div class="actions"><button type="submit" class="danger">${t('securityKeys.removeKey.submit')}</button> <a href="/account/security-keys">${t('common.cancel')}</a></div>
</form>`,
    },
    status,
  );
}
