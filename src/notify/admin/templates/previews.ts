/** Previews with sample personalisation, the SMS alphabet and the formatting guide. */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { NotifyAdminDeps } from '../admin-deps.ts';
import { html, type Html } from '../../../platform/ui/html.ts';
import { sendServicePage } from '../../../platform/ui/service-layout.ts';
import { templateOf, templateVersion, type TemplateDetail } from '../../templates/templates.ts';
import {
  placeholderNames,
  renderEmailDocument,
  renderEmailHtml,
  renderEmailSubject,
  renderSms,
} from '../../template-language/index.ts';
import { emailBranding, loadBranding, logoDataUrl } from '../../settings/email-branding.ts';
import {
  emailFrame,
  EMAIL_FRAME_ROUTE,
  pageAssets,
  phonePreview,
  placeholderFields,
  placeholderValues,
  PLACEHOLDER_PREFIX,
  SMS_ALPHABET_JSON,
  smsCounter,
  smsStats,
} from './views.ts';
import { templateScope, type Params, type TemplateScope } from './scope.ts';

export async function previewRoutes(app: FastifyInstance, deps: NotifyAdminDeps): Promise<void> {
  const scope = templateScope(deps);
  previewPageRoute(app, scope);
  emailFrameRoute(app, scope);
  alphabetRoute(app);
  formattingGuideRoute(app, scope);
}

/** A template shown with sample personalisation, which the page's form fills in. */
function previewPageRoute(app: FastifyInstance, scope: TemplateScope): void {
  const { member, templatePath, loadTemplate } = scope;
  app.get<{ Params: Params; Querystring: Record<string, string | undefined> }>(
    '/services/:serviceId/templates/:templateId/preview',
    member,
    async (request, reply) => {
      const { ui, service } = request;
      const { t } = ui;
      const template = await loadTemplate(request, reply);
      if (!template) return reply;
      const names = placeholderNames(
        ...(template.type === 'email' ? [template.subject ?? '', template.content] : [template.content]),
      );
      const values = placeholderValues(names, request.query);
      const title = t('templates.preview.title', { name: template.name });
      const shown = previewOf(scope, request, template, values);
      const body = html`${pageAssets()}
<p><a href="${templatePath(service, template.id)}">${t('templates.back', { name: template.name })}</a></p>
<h1>${title}</h1>
${
  names.length > 0
    ? html`<form method="get" action="${templatePath(service, template.id, '/preview')}" class="preview-form">
  <fieldset><legend>${t('templates.preview.legend')}</legend>
  <p class="hint">${t('templates.preview.hint')}</p>
  ${placeholderFields(ui, names, values)}
  </fieldset>
  <div class="actions"><button type="submit">${t('templates.preview.submit')}</button></div>
</form>`
    : html`<p>${t('templates.preview.noPlaceholders')}</p>`
}
<h2>${t('templates.preview.heading')}</h2>
${shown}`;
      return sendServicePage(reply, ui, service, 'templates', { title, body });
    },
  );
}

/** The rendered email alone, for the preview frame: its own CSP, and framing allowed by this site only. */
function emailFrameRoute(app: FastifyInstance, scope: TemplateScope): void {
  const { db, member } = scope;
  app.get<{ Params: Params; Querystring: Record<string, string | undefined> }>(
    '/services/:serviceId/templates/:templateId/preview/email.html',
    { ...member, ...EMAIL_FRAME_ROUTE },
    async (request, reply) => {
      const { service } = request;
      const template = await templateOf(db, service.id, request.params.templateId);
      if (template?.type !== 'email') return reply.code(404).type('text/plain; charset=utf-8').send('Not found');
      let text: { subject: string | null; content: string } = template;
      const wanted = request.query.version;
      if (wanted !== undefined) {
        const version = /^\d{1,9}$/.test(wanted)
          ? await templateVersion(db, service.id, template.id, Number(wanted))
          : null;
        if (!version) return reply.code(404).type('text/plain; charset=utf-8').send('Not found');
        text = version;
      }
      const names = placeholderNames(text.subject ?? '', text.content);
      const values = placeholderValues(names, request.query);
      const branding = emailBranding(await loadBranding(db, service.id), logoDataUrl);
      const document = renderEmailDocument({
        subject: renderEmailSubject(text.subject ?? '', values),
        bodyHtml: renderEmailHtml(text.content, values),
        lang: 'en',
        branding,
      });
      return reply.type('text/html; charset=utf-8').send(document);
    },
  );
}

/** The text message alphabet for template-editor.js (the same for everyone, so cached). */
function alphabetRoute(app: FastifyInstance): void {
  app.get('/sms-alphabet.json', async (_request, reply) => {
    return reply
      .header('cache-control', 'public, max-age=3600')
      .type('application/json; charset=utf-8')
      .send(SMS_ALPHABET_JSON);
  });
}

function formattingGuideRoute(app: FastifyInstance, scope: TemplateScope): void {
  const { member, base } = scope;
  app.get<{ Params: { serviceId: string } }>(
    '/services/:serviceId/templates/formatting-guide',
    member,
    async (request, reply) => {
      const { ui, service } = request;
      const { t } = ui;
      const title = t('templates.guide.title');
      const rows = [
        'heading',
        'subheading',
        'bold',
        'bullets',
        'numbers',
        'inset',
        'link',
        'rule',
        'placeholder',
        'conditional',
        'bilingual',
      ];
      const body = html`<p><a href="${base(service)}">${t('templates.guide.back')}</a></p>
<h1>${title}</h1>
<p>${t('templates.guide.intro')}</p>
<table>
  <caption>${t('templates.guide.caption')}</caption>
  <thead><tr><th scope="col">${t('templates.guide.what')}</th><th scope="col">${t('templates.guide.type')}</th><th scope="col">${t('templates.guide.result')}</th></tr></thead>
  <tbody>${rows.map(
    (key) =>
      html`<tr><th scope="row">${t(`templates.guide.${key}.name`)}</th><td><pre class="template-source">${t(`templates.guide.${key}.example`)}</pre></td><td>${t(`templates.guide.${key}.result`)}</td></tr>`,
  )}</tbody>
</table>
<h2>${t('templates.guide.smsTitle')}</h2>
<p>${t('templates.guide.smsBody')}</p>`;
      return sendServicePage(reply, ui, service, 'templates', { title, body });
    },
  );
}

/** The email (its subject, and the email itself in a frame) or the text message (on a phone) as it would be sent. */
function previewOf(
  scope: TemplateScope,
  request: FastifyRequest,
  template: TemplateDetail,
  values: Record<string, string>,
): Html {
  const { ui, service } = request;
  const { t } = ui;
  if (template.type === 'email') {
    const query = new URLSearchParams(
      Object.entries(values).map(([k, v]) => [`${PLACEHOLDER_PREFIX}${k}`, v]),
    ).toString();
    const subject = renderEmailSubject(template.subject ?? '', values);
    return html`<dl class="summary-list"><dt>${t('templates.field.subject.label')}</dt><dd id="preview-subject">${subject}</dd></dl>
${emailFrame(ui, scope.templatePath(service, template.id, `/preview/email.html${query ? `?${query}` : ''}`), subject)}`;
  }
  const sms = renderSms(template.content, values);
  return html`${phonePreview(ui, sms.body, service.name)}${smsCounter(ui, smsStats(template.content, values))}`;
}
