/** The send pages: one message's form, the spreadsheet upload, and the check of an uploaded list. */
import type { UiContext } from '../../../platform/ui/context.ts';
import { html, type Html } from '../../../platform/ui/html.ts';
import { csrfField, errorSummary, notice, radios, textInput, type FieldError } from '../../../platform/ui/layout.ts';
import type { ServiceContext } from '../../../platform/ui/service-context.ts';
import { servicePath } from '../../../platform/ui/service-layout.ts';
import type { Sender } from '../../settings/senders.ts';
import { MAX_SCHEDULE_HOURS } from '../../sending/send-rules.ts';
import type { TemplateDetail } from '../../templates/templates.ts';
import type { CheckedRow, HeaderReport, ListReport, RowError } from '../../jobs/recipient-list-report.ts';
import {
  emailPlainText,
  placeholderNames,
  renderEmailBody,
  renderEmailSubject,
  renderSms,
} from '../../template-language/index.ts';
import { pageAssets, placeholderFields } from '../templates/views.ts';

/** The form field (and radio group id) of the chosen reply-to address or text sender. */
export const SENDER_FIELD = 'sender';
const ROW_ERRORS_SHOWN = 50;

export const textsOf = (template: TemplateDetail) =>
  template.type === 'email' ? [template.subject ?? '', template.content] : [template.content];

export const templateLink = (ui: UiContext, service: ServiceContext, template: TemplateDetail) =>
  html`<p><a href="${servicePath(service, `/templates/${template.id}`)}">${ui.t('templates.back', { name: template.name })}</a></p>`;

/** The person's own address or number for the template's channel, if they have one. */
export const ownRecipient = (ui: UiContext, template: TemplateDetail) =>
  template.type === 'email' ? ui.account!.email : ui.account!.mobileNumber;

// ---- the sender: a reply-to address (email) or a text message sender (SMS) ----------------------------------

/** The choice, asked only when there is one to make; the default is chosen unless the person chose another. */
function senderField(
  ui: UiContext,
  template: TemplateDetail,
  senders: Sender[],
  value: string | undefined,
  errors: FieldError[] | undefined,
): Html {
  if (senders.length < 2) return html``;
  const { t } = ui;
  return radios({
    id: SENDER_FIELD,
    name: SENDER_FIELD,
    legend: t(`send.sender.legend.${template.type}`),
    // A value that is not one of them (forged, or removed meanwhile) gives way to the default.
    value: senders.some((s) => s.id === value) ? value : senders.find((s) => s.isDefault)?.id,
    errors,
    options: senders.map((s) => ({
      value: s.id,
      label: s.isDefault ? t('send.sender.default', { sender: s.value }) : s.value,
    })),
  });
}

// ---- one message --------------------------------------------------------------------------------------------

export interface SendForm {
  to: string;
  recipient: string;
  values: Record<string, string>;
  senders: Sender[];
  sender?: string;
  errors?: FieldError[];
}

export function sendOnePage(
  ui: UiContext,
  service: ServiceContext,
  template: TemplateDetail,
  form: SendForm,
): { title: string; body: Html } {
  const { t } = ui;
  const own = ownRecipient(ui, template);
  const names = placeholderNames(...textsOf(template));
  const title = t('send.one.title', { name: template.name });
  const recipientLabel = t(template.type === 'email' ? 'send.one.recipientEmail' : 'send.one.recipientSms');
  const body = html`${templateLink(ui, service, template)}
<h1>${title}</h1>
${errorSummary(ui, form.errors)}
<form method="post" action="${servicePath(service, `/send/${template.id}`)}" novalidate>
  ${csrfField(ui)}
  ${
    own
      ? radios({
          id: 'to',
          name: 'to',
          legend: t('send.one.toLegend'),
          value: form.to,
          errors: form.errors,
          options: [
            { value: 'me', label: t('send.one.toMe', { recipient: own }) },
            { value: 'other', label: t('send.one.toOther') },
          ],
        })
      : html`<input type="hidden" name="to" value="other"><p>${t('send.one.noMobile')}</p>`
  }
  ${textInput({
    id: 'recipient',
    label: recipientLabel,
    hint: own ? t('send.one.recipientHint') : undefined,
    type: template.type === 'email' ? 'email' : 'tel',
    value: form.recipient,
    autocomplete: 'off',
    errors: form.errors,
  })}
  ${senderField(ui, template, form.senders, form.sender, form.errors)}
  ${
    names.length > 0 &&
    html`<fieldset><legend>${t('send.one.personalisation')}</legend>
  ${placeholderFields(ui, names, form.values, form.errors)}
  </fieldset>`
  }
  <div class="actions"><button type="submit" id="send-button">${t('send.one.submit')}</button></div>
</form>`;
  return { title, body };
}

// ---- a spreadsheet ------------------------------------------------------------------------------------------

export const recipientColumn = (ui: UiContext, template: TemplateDetail) =>
  ui.t(template.type === 'email' ? 'send.upload.columnEmail' : 'send.upload.columnSms');

export function uploadForm(
  ui: UiContext,
  service: ServiceContext,
  template: TemplateDetail,
  errors?: FieldError[],
): Html {
  const { t } = ui;
  const names = placeholderNames(...textsOf(template));
  return html`<form method="post" action="${servicePath(service, `/send/${template.id}/upload`)}" enctype="multipart/form-data" novalidate>
  ${csrfField(ui)}
  <div class="field${errors?.some((e) => e.field === 'file') ? ' has-error' : ''}">
    <label for="file">${t('send.upload.fileLabel')}</label>
    <span class="hint" id="file-hint">${t('send.upload.fileHint')}</span>
    ${errors?.filter((e) => e.field === 'file').map((e) => html`<span class="error-message" id="file-error">${e.message}</span>`)}
    <input type="file" id="file" name="file" accept=".csv,.tsv,.txt,.xlsx" aria-describedby="file-hint${errors?.some((e) => e.field === 'file') ? ' file-error' : ''}">
  </div>
  <p>${t('send.upload.columns', { recipient: recipientColumn(ui, template) })}${names.length > 0 ? ` ${t('send.upload.placeholderColumns', { columns: names.join(', ') })}` : ''}
    <a href="${servicePath(service, `/send/${template.id}/example.csv`)}">${t('send.upload.example')}</a></p>
  <div class="actions"><button type="submit">${t('send.upload.submit')}</button></div>
</form>`;
}

export interface CheckResult {
  header: HeaderReport | null;
  report: ListReport;
  firstRows: CheckedRow[];
  remainingToday: number;
}

/** The check of a list that cannot be sent: its problems, its row errors, and the form to upload it again. */
export function checkFailedBody(
  ui: UiContext,
  service: ServiceContext,
  template: TemplateDetail,
  fileName: string,
  result: CheckResult | null,
): Html {
  const { t } = ui;
  const problems = result ? problemTexts(ui, result) : [t('send.check.unreadable')];
  const errors: FieldError[] = [{ field: 'file', message: t('send.check.fixAndUpload') }];
  return html`${pageAssets()}${templateLink(ui, service, template)}
<h1>${t('send.check.title', { file: fileName })}</h1>
<div class="error-summary" role="alert" aria-labelledby="problems-title" tabindex="-1">
  <h2 id="problems-title">${t('send.check.problemsTitle')}</h2>
  <ul>${problems.map((p) => html`<li>${p}</li>`)}</ul>
</div>
${result && result.report.rowErrors.length > 0 && rowErrorTable(ui, fileName, result.report)}
<h2>${t('send.check.uploadAgain')}</h2>
${uploadForm(ui, service, template, errors)}`;
}

/** What the page of a list ready to send was given: the person's last answers and their errors. */
export interface CheckAnswers {
  errors?: FieldError[];
  when?: string;
  at?: string;
  sender?: string;
}

/** The check of a list that can be sent: its first rows as they will be sent, the sender, and when to send. */
export function checkReadyBody(
  ui: UiContext,
  service: ServiceContext,
  template: TemplateDetail,
  upload: { id: string; file_name: string },
  result: CheckResult,
  senders: Sender[],
  opts: CheckAnswers,
): Html {
  const { t } = ui;
  const { report, firstRows, header } = result;
  const names = placeholderNames(...textsOf(template));
  return html`${pageAssets()}${templateLink(ui, service, template)}
<h1>${t('send.check.title', { file: upload.file_name })}</h1>
${errorSummary(ui, opts.errors)}
${notice(t(report.messageCount === 1 ? 'send.check.ready.one' : 'send.check.ready.other', { count: ui.formatNumber(report.rowCount), template: template.name }), 'success')}
${report.duplicateRecipients.recipients > 0 && notice(t('send.check.duplicates', { count: ui.formatNumber(report.duplicateRecipients.recipients) }), 'warning')}
<table class="preview-rows">
  <caption>${t('send.check.previewCaption', { count: firstRows.length, total: ui.formatNumber(report.rowCount) })}</caption>
  <thead><tr><th scope="col">${t('send.check.row')}</th><th scope="col">${header?.recipientColumn ?? ''}</th>${names.map((n) => html`<th scope="col">${n}</th>`)}<th scope="col">${t('send.check.message')}</th></tr></thead>
  <tbody>${firstRows.map(
    (row) =>
      html`<tr><th scope="row">${row.rowNumber}</th><td>${row.recipient}</td>${names.map((n) => html`<td>${row.personalisation[n] ?? ''}</td>`)}<td class="message-cell">${renderedRow(template, row)}</td></tr>`,
  )}</tbody>
</table>
<form method="post" action="${servicePath(service, `/send/${template.id}/upload/${upload.id}`)}" novalidate>
  ${csrfField(ui)}
  ${senderField(ui, template, senders, opts.sender, opts.errors)}
  ${whenFields(ui, opts, report.rowCount)}
</form>`;
}

/** Now or later (a whole hour up to 96 hours ahead), and the button that starts sending. */
function whenFields(ui: UiContext, opts: CheckAnswers, rowCount: number): Html {
  const { t } = ui;
  const hours = scheduleChoices(new Date());
  return html`${radios({
    id: 'when',
    name: 'when',
    legend: t('send.check.whenLegend'),
    value: opts.when ?? 'now',
    errors: opts.errors,
    options: [
      { value: 'now', label: t('send.check.now') },
      { value: 'later', label: t('send.check.later', { hours: MAX_SCHEDULE_HOURS }) },
    ],
  })}
  <div class="field">
    <label for="at">${t('send.check.atLabel')}</label>
    <span class="hint" id="at-hint">${t('send.check.atHint')}</span>
    <select id="at" name="at" aria-describedby="at-hint">
      ${hours.map((d) => html`<option value="${d.toISOString()}"${opts.at === d.toISOString() ? ' selected' : ''}>${ui.formatDateTime(d)}</option>`)}
    </select>
  </div>
  <div class="actions"><button type="submit" id="start-button">${t('send.check.submit', { count: ui.formatNumber(rowCount) })}</button></div>`;
}

/** The list's problems in the page's words, in the engine's order (row errors are in the table below). */
function problemTexts(ui: UiContext, result: CheckResult): string[] {
  const { t } = ui;
  const { report, header } = result;
  return report.problems
    .map((p) => {
      switch (p.kind) {
        case 'no_rows':
          return t(header ? 'send.problem.noRows' : 'send.problem.empty');
        case 'missing_headers':
          return t('send.problem.missingHeaders', { columns: (header?.missing ?? []).join(', ') });
        case 'duplicate_headers':
          return t('send.problem.duplicateHeaders', { columns: (header?.duplicates ?? []).join(', ') });
        case 'daily_limit':
          return t('send.problem.dailyLimit', {
            remaining: ui.formatNumber(result.remainingToday),
            count: ui.formatNumber(report.messageCount),
          });
        case 'too_many_rows':
          return t('send.problem.tooManyRows');
        case 'not_allowed':
          return [
            t('send.problem.notAllowed', { count: ui.formatNumber(report.notAllowed.count) }),
            report.notAllowed.examples.length > 0
              ? t('send.problem.notAllowedRows', { rows: report.notAllowed.examples.map((e) => e.row).join(', ') })
              : '',
          ]
            .join(' ')
            .trim();
        case 'row_errors':
        case 'message_errors':
          return t(report.rowsWithErrors === 1 ? 'send.problem.rowErrors.one' : 'send.problem.rowErrors.other', {
            count: ui.formatNumber(report.rowsWithErrors),
          });
        case 'mixed_simulated':
          return t('send.problem.mixedSimulated');
        default:
          return p.message;
      }
    })
    .filter((text, i, all) => all.indexOf(text) === i);
}

function rowErrorTable(ui: UiContext, fileName: string, report: ListReport): Html {
  const { t } = ui;
  const shown = report.rowErrors.slice(0, ROW_ERRORS_SHOWN);
  return html`<table class="row-errors">
  <caption>${t('send.check.errorsCaption', { file: fileName })}</caption>
  <thead><tr><th scope="col">${t('send.check.row')}</th><th scope="col">${t('send.check.column')}</th><th scope="col">${t('send.check.problem')}</th></tr></thead>
  <tbody>${shown.map(
    (e) =>
      html`<tr><th scope="row">${e.row}</th><td>${e.column ?? t('send.check.wholeMessage')}</td><td>${cellMessage(ui, e)}</td></tr>`,
  )}</tbody>
</table>
${report.rowErrorCount > shown.length && html`<p>${t('send.check.moreErrors', { count: ui.formatNumber(report.rowErrorCount - shown.length) })}</p>`}`;
}

/** How one row's message will read: the SMS text, or the email's subject and its first lines. */
function renderedRow(template: TemplateDetail, row: CheckedRow): Html {
  if (row.errors.length > 0) return html``;
  if (template.type === 'sms') return html`${renderSms(template.content, row.personalisation).body}`;
  const subject = renderEmailSubject(template.subject ?? '', row.personalisation);
  const text = emailPlainText(renderEmailBody(template.content, row.personalisation));
  return html`<strong>${subject}</strong><br>${text.length > 200 ? `${text.slice(0, 200)}…` : text}`;
}

/** Whole hours from the next one to 96 hours ahead, for the schedule picker. */
function scheduleChoices(now: Date): Date[] {
  const first = new Date(now);
  first.setUTCMinutes(0, 0, 0);
  const choices: Date[] = [];
  for (let h = 1; h <= MAX_SCHEDULE_HOURS; h++) {
    const at = new Date(first.getTime() + h * 3_600_000);
    if (at.getTime() - now.getTime() <= MAX_SCHEDULE_HOURS * 3_600_000) choices.push(at);
  }
  return choices;
}

/** A cell's or a row's problem in the page's language, from the engine's code and numbers. */
function cellMessage(ui: UiContext, error: RowError): string {
  const params = Object.fromEntries(Object.entries(error.params ?? {}).map(([name, n]) => [name, ui.formatNumber(n)]));
  return ui.t(`send.cell.${error.code}`, params);
}
