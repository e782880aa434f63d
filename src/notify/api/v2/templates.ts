/** /v2/template and /v2/templates: read a template (or one of its versions), list them, preview one. */
import type { FastifyInstance } from 'fastify';
import { checkPersonalisationSize, checkPreviewSize } from './bounds.ts';
import { badRequest, notFound } from './errors.ts';
import { presentTemplate } from './presenters.ts';
import { getTemplateRequest, getTemplatesRequest, postTemplatePreviewRequest } from './schemas.ts';
import type { V2Context } from './request.ts';
import { callerOf, parseJsonBody } from './request.ts';
import { findLiveTemplates, findTemplateVersionRecord } from '../../repositories/templates.ts';
import { toTemplate, type TemplateRecord } from '../../sending/service-directory.ts';
import {
  missingPersonalisation,
  renderEmailBody,
  renderEmailHtml,
  renderEmailSubject,
  renderSms,
} from '../../template-language/index.ts';
import type { TemplateType } from '../../vocabulary.ts';

export function templateRoutes(app: FastifyInstance, ctx: V2Context) {
  const validateGet = ctx.compile<{ id: string; version?: number | null }>(getTemplateRequest);
  const validateList = ctx.compile<{ type?: TemplateType }>(getTemplatesRequest);
  const validatePreview = ctx.compile<{ id: string; personalisation?: Record<string, unknown> }>(
    postTemplatePreviewRequest,
  );

  async function findTemplate(serviceId: string, id: string, version: number | null): Promise<TemplateRecord> {
    if (!version) {
      const template = await ctx.directory.template(serviceId, id);
      if (!template || template.hidden) throw notFound();
      return template;
    }
    const row = await findTemplateVersionRecord(ctx.db, serviceId, id, version);
    if (!row || row.hidden) throw notFound();
    return toTemplate(row);
  }

  app.get('/v2/template/:id', async (request) => {
    const caller = callerOf(request);
    const { id } = validateGet(request.params);
    return presentTemplate(await findTemplate(caller.service.id, ctx.uuid(id), null));
  });

  app.get('/v2/template/:id/version/:version', async (request) => {
    const caller = callerOf(request);
    const params = request.params as { id: string; version: string };
    const version = /^\d+$/.test(params.version) ? Number(params.version) : params.version;
    const { id } = validateGet({ id: params.id, version });
    return presentTemplate(await findTemplate(caller.service.id, ctx.uuid(id), version as number));
  });

  app.get('/v2/templates', async (request) => {
    const caller = callerOf(request);
    const { type } = validateList(request.query);
    const rows = await findLiveTemplates(ctx.db, caller.service.id, type);
    return { templates: rows.map((r) => presentTemplate(toTemplate(r))) };
  });

  app.post('/v2/template/:id/preview', async (request) => {
    const caller = callerOf(request);
    const json = request.body === undefined || request.body === '' ? {} : parseJsonBody(request);
    const { id, personalisation = {} } = validatePreview({
      ...(json as object),
      id: (request.params as { id: string }).id,
    });
    checkPersonalisationSize(personalisation);
    const template = await findTemplate(caller.service.id, ctx.uuid(id), null);
    const texts = template.type === 'email' ? [template.subject ?? '', template.content] : [template.content];
    const missing = missingPersonalisation(texts, personalisation);
    if (missing.length > 0) throw badRequest(`Missing personalisation: ${missing.join(', ')}`);
    const isEmail = template.type === 'email';
    // The plain body is cheap to fill in; its HTML is not, so its size is checked first.
    const body = isEmail
      ? renderEmailBody(template.content, personalisation)
      : renderSms(template.content, personalisation).body;
    checkPreviewSize(body);
    return {
      id: template.id,
      type: template.type,
      version: template.version,
      body,
      html: isEmail ? renderEmailHtml(template.content, personalisation) : null,
      subject: isEmail ? renderEmailSubject(template.subject ?? '', personalisation) : null,
      postage: null,
    };
  });
}
