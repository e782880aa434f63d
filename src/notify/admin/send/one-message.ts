/** `/services/:id/send/:templateId`: one message, to yourself or to someone else, accepted by the send rules. */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { NotifyAdminDeps } from '../admin-deps.ts';
import { sendServicePage, servicePath } from '../../../platform/ui/service-layout.ts';
import { acceptNotification } from '../../sending/send-rules.ts';
import { SendRefused } from '../../sending/refusals.ts';
import type { TemplateDetail } from '../../templates/templates.ts';
import { refusalField, refusalText } from '../refusal-words.ts';
import { readOneMessage } from './forms.ts';
import { type Form, type Params, sendScope } from './scope.ts';
import { SENDER_FIELD, type SendForm, sendOnePage } from './views.ts';

export async function oneMessageRoutes(app: FastifyInstance, deps: NotifyAdminDeps): Promise<void> {
  const { services, directory, sender, situation, notFound, sendableTemplate, sendersFor } = sendScope(deps);

  const page = (request: FastifyRequest, reply: FastifyReply, template: TemplateDetail, form: SendForm, status = 200) =>
    sendServicePage(
      reply,
      request.ui,
      request.service,
      'templates',
      { ...sendOnePage(request.ui, request.service, template, form), errors: form.errors },
      status,
    );

  app.get<{ Params: Params }>('/services/:serviceId/send/:templateId', sender, async (request, reply) => {
    const template = await sendableTemplate(request, reply);
    if (!template) return reply;
    return page(request, reply, template, {
      to: 'me',
      recipient: '',
      values: {},
      senders: await sendersFor(request.service, template),
    });
  });

  app.post<{ Params: Params; Body: Form }>('/services/:serviceId/send/:templateId', sender, async (request, reply) => {
    const { ui, service } = request;
    const template = await sendableTemplate(request, reply);
    if (!template) return reply;
    const senders = await sendersFor(service, template);
    const message = readOneMessage(ui, template, senders, request.body, service.active);
    const { form, errors } = message;
    if (errors.length) return page(request, reply, template, { ...form, errors }, 400);

    const record = await directory.service(service.id);
    if (!record) return notFound(request, reply);
    try {
      const accepted = await acceptNotification(
        services.send,
        { service: record, keyId: null, keyType: 'normal', createdById: ui.account!.id },
        {
          type: template.type,
          recipient: message.recipient,
          templateId: template.id,
          personalisation: message.personalisation,
          reference: null,
          scheduledFor: null,
          replyToId: message.senderId,
          oneClickUnsubscribeUrl: null,
          sanitiseContentFor: null,
        },
      );
      return reply.redirect(servicePath(service, `/notifications/${accepted.id}?notice=sent`), 303);
    } catch (err) {
      if (!(err instanceof SendRefused)) throw err;
      const text = refusalText(err.refusal, situation(template, record.messageLimits), ui);
      const about = refusalField(err.refusal);
      const field = about === 'sender' ? SENDER_FIELD : about === 'recipient' ? 'recipient' : 'send-button';
      return page(request, reply, template, { ...form, errors: [{ field, message: text }] }, 400);
    }
  });
}
