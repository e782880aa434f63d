/** Email branding and the logo, which any member may see. */
import type { MultipartForm } from '../../../platform/ui/multipart.ts';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { html } from '../../../platform/ui/html.ts';
import { csrfField, radios, textInput, type FieldError } from '../../../platform/ui/layout.ts';
import type { UiContext } from '../../../platform/ui/context.ts';
import { requireService, type ServiceContext } from '../../../platform/ui/service-context.ts';
import type { NotifyAdminDeps } from '../admin-deps.ts';
import type { EmailBranding } from '../../vocabulary.ts';
import { BrandingError, emailLogo, LOGO_MAX_BYTES, setBranding } from '../../settings/branding.ts';
import { settingsScope, text, type Form } from './scope.ts';

export async function brandingRoutes(app: FastifyInstance, deps: NotifyAdminDeps): Promise<void> {
  const { db, manager, path, done, page, load } = settingsScope(deps);

  // ---- email branding -------------------------------------------------------------------------------------------

  const brandingPage = async (
    reply: FastifyReply,
    ui: UiContext,
    service: ServiceContext,
    v: { branding?: string; altEn?: string; altFr?: string; errors?: FieldError[] },
    status = 200,
  ) => {
    const { t } = ui;
    const s = await load(service);
    const options = (['none', 'gc', 'logo'] as const).map((b) => ({
      value: b,
      label: t(`settings.branding.option.${b}`),
      hint: t(`settings.branding.hint.${b}`),
    }));
    return page(
      reply,
      ui,
      service,
      t('settings.branding.title'),
      html`${
        s.logo &&
        html`<figure class="logo-preview"><img width="240" src="${path(service, '/branding/logo')}" alt="${ui.locale === 'fr' ? s.logo.altFr : s.logo.altEn}"><figcaption>${t('settings.branding.current')}</figcaption></figure>`
      }
<form method="post" action="${path(service, '/branding')}" enctype="multipart/form-data" novalidate>${csrfField(ui)}
  ${radios({ id: 'branding', name: 'branding', legend: t('settings.branding.legend'), options, value: v.branding ?? s.branding, errors: v.errors })}
  <div class="field${v.errors?.some((e) => e.field === 'logo') ? ' has-error' : ''}">
    <label for="logo">${t('settings.branding.logo')}</label>
    <span class="hint" id="logo-hint">${t('settings.branding.logoHint', { size: ui.formatNumber(LOGO_MAX_BYTES / 1024) })}</span>
    ${v.errors?.filter((e) => e.field === 'logo').map((e) => html`<span class="error-message" id="logo-error">${e.message}</span>`)}
    <input type="file" id="logo" name="logo" accept="image/png,image/jpeg" aria-describedby="logo-hint${v.errors?.some((e) => e.field === 'logo') ? ' logo-error' : ''}">
  </div>
  ${textInput({ id: 'alt_en', label: t('settings.branding.altEn'), hint: t('settings.branding.altHint'), value: v.altEn ?? s.logo?.altEn ?? '', errors: v.errors })}
  ${textInput({ id: 'alt_fr', label: t('settings.branding.altFr'), hint: t('settings.branding.altHint'), value: v.altFr ?? s.logo?.altFr ?? '', errors: v.errors })}
  <button type="submit">${t('settings.save')}</button>
</form>`,
      v.errors,
      status,
    );
  };

  app.get<{ Params: { serviceId: string } }>(
    '/services/:serviceId/settings/branding',
    { preHandler: manager },
    async (request, reply) => brandingPage(reply, request.ui, request.service, {}),
  );

  app.post<{ Params: { serviceId: string }; Body: MultipartForm | Form }>(
    '/services/:serviceId/settings/branding',
    { preHandler: manager },
    async (request, reply) => {
      const { ui, service } = request;
      const body = (request.body ?? {}) as MultipartForm;
      const branding = (['none', 'gc', 'logo'] as const).find((b) => b === body.branding);
      const altEn = text(body.alt_en);
      const altFr = text(body.alt_fr);
      if (!branding)
        return brandingPage(
          reply,
          ui,
          service,
          { altEn, altFr, errors: [{ field: 'branding', message: ui.t('settings.branding.error.choose') }] },
          400,
        );
      const file = typeof body.logo === 'object' ? body.logo : undefined;
      try {
        await setBranding(db, service.id, {
          branding: branding as EmailBranding,
          logo: file ? { bytes: file.bytes } : null,
          altEn,
          altFr,
        });
      } catch (err) {
        if (!(err instanceof BrandingError)) throw err;
        const field = (code: string) =>
          code.startsWith('logo') ? 'logo' : code === 'alt-fr-missing' ? 'alt_fr' : 'alt_en';
        const errors = err.codes.map((code) => ({
          field: field(code),
          message: ui.t(`settings.branding.error.${code}`, { size: ui.formatNumber(LOGO_MAX_BYTES / 1024) }),
        }));
        return brandingPage(reply, ui, service, { branding, altEn, altFr, errors }, 400);
      }
      return done(reply, service, 'branding');
    },
  );

  // Any member may see the logo (it appears in their emails).
  app.get<{ Params: { serviceId: string } }>(
    '/services/:serviceId/settings/branding/logo',
    { preHandler: requireService(db) },
    async (request, reply) => {
      const logo = await emailLogo(db, request.service.id);
      if (!logo) return reply.code(404).type('text/plain; charset=utf-8').send('Not found');
      return reply.header('cache-control', 'private, no-cache').type(logo.contentType).send(Buffer.from(logo.bytes));
    },
  );
}
