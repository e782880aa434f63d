/**
 * View pieces the template and sending pages share: the text message counter (characters, parts, characters a
 * phone cannot show), a message shown as on a phone, the email preview frame, and one form field per
 * placeholder. The counter is computed here, on the server; template-editor.js recomputes it as people type.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { UiContext } from '../../../platform/ui/context.ts';
import { html, type Html } from '../../../platform/ui/html.ts';
import { csrfField, errorSummary, radios, textInput, type FieldError } from '../../../platform/ui/layout.ts';
import type { ServiceContext } from '../../../platform/ui/service-context.ts';
import { servicePath } from '../../../platform/ui/service-layout.ts';
import type { Folder, TemplateDetail, TemplateFields } from '../../templates/templates.ts';
import type { TemplateCategory, TemplateType } from '../../vocabulary.ts';
import { TEMPLATE_CATEGORIES } from '../../templates/templates.ts';
import { encodeForSms, renderSms, smsEncoding, SMS_CHARACTER_LIMIT } from '../../template-language/index.ts';
import { GSM_EXTENDED_CHARACTERS } from '../../template-language/sms-encoding.ts';

import { ASSET_VERSION } from '../../../platform/ui/assets.ts';
/** Form fields holding placeholder values are named `p.<placeholder>`. */
export const PLACEHOLDER_PREFIX = 'p.';

export interface SmsStats {
  characters: number;
  fragments: number;
  tooLong: boolean;
  /** Characters that make the message Unicode (fewer characters per part). */
  unicode: string[];
  /** Characters a phone cannot show, sent as a look-alike (or `?`). */
  replaced: string[];
}

/** The text message as written (placeholders counted as written, as GC Notify does), measured as it will be sent. */
export function smsStats(content: string, personalisation: Record<string, unknown> = {}): SmsStats {
  const sms = renderSms(content, personalisation);
  const unicode = new Set<string>();
  const replaced = new Set<string>();
  for (const character of content) {
    if (/\s/.test(character) || smsEncoding(character) === 'gsm') continue;
    if (encodeForSms(character) === character) unicode.add(character);
    else replaced.add(character);
  }
  return {
    characters: sms.characterCount,
    fragments: sms.fragmentCount,
    tooLong: sms.characterCount > SMS_CHARACTER_LIMIT,
    unicode: [...unicode],
    replaced: [...replaced],
  };
}

/**
 * The counter under a text message field (or on a preview). `forField` names the textarea the script keeps it in
 * step with; the live region is polite, so screen readers hear the count once typing pauses.
 */
export function smsCounter(ui: UiContext, stats: SmsStats, forField?: string): Html {
  const { t } = ui;
  const count = t(stats.fragments === 1 ? 'templates.sms.count.one' : 'templates.sms.count.other', {
    characters: ui.formatNumber(stats.characters),
    fragments: ui.formatNumber(stats.fragments),
  });
  // The script's words: the same sentences, with their {parameters} left for it to fill in.
  const words = forField
    ? html` data-counter-for="${forField}" data-one="${t('templates.sms.count.one')}" data-other="${t('templates.sms.count.other')}" data-too-long="${t('templates.sms.tooLong')}" data-unicode="${t('templates.sms.unicode')}" data-replaced="${t('templates.sms.replaced')}"`
    : '';
  return html`<div class="sms-counter" id="${forField ? `${forField}-counter` : 'sms-counter'}"${words} aria-live="polite">
  <p class="sms-count">${count}</p>
  ${stats.tooLong && html`<p class="sms-warning">${t('templates.sms.tooLong', { limit: ui.formatNumber(SMS_CHARACTER_LIMIT) })}</p>`}
  ${stats.unicode.length > 0 && html`<p class="sms-warning">${t('templates.sms.unicode', { characters: stats.unicode.join(' ') })}</p>`}
  ${stats.replaced.length > 0 && html`<p class="sms-warning">${t('templates.sms.replaced', { characters: stats.replaced.join(' ') })}</p>`}
</div>`;
}

/** What the script needs to count as the server does: the GSM alphabet, and what other characters become. */
export const SMS_ALPHABET_JSON: string = (() => {
  let gsm = '';
  let kept = '';
  const downgrade: Record<string, string> = {};
  const ranges: Array<[number, number]> = [
    [0x20, 0x2fff],
    [0xfb00, 0xfeff],
    [0x11ab0, 0x11abf],
  ];
  for (const [from, to] of ranges) {
    for (let code = from; code <= to; code++) {
      if (code >= 0xd800 && code <= 0xdfff) continue;
      const character = String.fromCodePoint(code);
      if (smsEncoding(character) === 'gsm') gsm += character;
      else if (encodeForSms(character) === character) kept += character;
      // The script takes any other character to be `?`.
      else if (encodeForSms(character) !== '?') downgrade[character] = encodeForSms(character);
    }
  }
  return JSON.stringify({
    gsm: `${gsm}\n\r`,
    extended: GSM_EXTENDED_CHARACTERS,
    kept,
    downgrade,
    limit: SMS_CHARACTER_LIMIT,
  });
})();

/** A text message as a phone shows it: the sender's name above a bubble. */
export function phonePreview(ui: UiContext, body: string, sender: string): Html {
  return html`<figure class="phone">
  <figcaption class="visually-hidden">${ui.t('templates.preview.phoneCaption')}</figcaption>
  <p class="phone-sender">${sender}</p>
  <div class="sms-bubble">${lines(body)}</div>
</figure>`;
}

export function lines(text: string): Html {
  return html`${text.split(/\r?\n/).map((line, i) => html`${i > 0 && html`<br>`}${line}`)}`;
}

/** The rendered email in a sandboxed frame (no scripts, its own origin), served by the preview route. */
export function emailFrame(ui: UiContext, src: string, subject: string): Html {
  return html`<iframe class="email-frame" src="${src}" sandbox title="${ui.t('templates.preview.frameTitle', { subject })}"></iframe>`;
}

/** Placeholder values from a form or query: `p.<name>` fields, for the template's placeholders only. */
export function placeholderValues(
  names: readonly string[],
  source: Record<string, unknown> | undefined,
): Record<string, string> {
  const values: Record<string, string> = {};
  for (const name of names) {
    const value = source?.[`${PLACEHOLDER_PREFIX}${name}`];
    if (typeof value === 'string') values[name] = value;
  }
  return values;
}

export function placeholderFieldId(index: number): string {
  return `placeholder-${index + 1}`;
}

/** One text field per placeholder, labelled with the placeholder's name. */
export function placeholderFields(
  _ui: UiContext,
  names: readonly string[],
  values: Record<string, string>,
  errors: readonly FieldError[] = [],
): Html {
  return html`${names.map((name, i) => {
    const id = placeholderFieldId(i);
    const error = errors.find((e) => e.field === id);
    return html`<div class="field${error ? ' has-error' : ''}">
  <label for="${id}">${name}</label>
  ${error && html`<span class="error-message" id="${id}-error">${error.message}</span>`}
  <input id="${id}" name="${PLACEHOLDER_PREFIX}${name}" type="text" value="${values[name] ?? ''}"${error ? html` aria-invalid="true" aria-describedby="${id}-error"` : ''}>
</div>`;
  })}`;
}

export function typeLabel(ui: UiContext, type: TemplateType): string {
  return ui.t(`templates.type.${type}`);
}

export function categoryLabel(ui: UiContext, category: TemplateCategory): string {
  return ui.t(`templates.category.${category}`);
}

/** The stylesheet and script of these pages (the layout's head holds only the shared ones). */
export function pageAssets(): Html {
  return html`<link rel="stylesheet" href="/assets/${ASSET_VERSION}/templates.css"><script src="/assets/${ASSET_VERSION}/template-editor.js" defer></script>`;
}

/** The email frames' own policy: the email's inline styles and images, no scripts, framed by this site only. */
export const EMAIL_FRAME_POLICY =
  "default-src 'none'; style-src 'unsafe-inline'; img-src https: data:; base-uri 'none'; form-action 'none'; frame-ancestors 'self'";

/**
 * Route options of an email frame: its policy replaces the pages' one (set by the admin plugin's onSend hook,
 * which runs before a route's own), so that this site may frame it, and nothing else.
 */
export const EMAIL_FRAME_ROUTE = {
  onSend: async (_request: FastifyRequest, reply: FastifyReply, payload: unknown) => {
    if (reply.statusCode === 200) {
      reply.header('content-security-policy', EMAIL_FRAME_POLICY);
      reply.header('x-frame-options', 'SAMEORIGIN');
    }
    return payload;
  },
};

/** Where a folder or template sits: the top level, then each folder down to it. */
export function breadcrumbs(ui: UiContext, service: ServiceContext, path: Folder[], includeLast = false): Html {
  const { t } = ui;
  const base = servicePath(service, '/templates');
  const shown = includeLast ? path : path.slice(0, -1);
  return html`<nav class="breadcrumbs" aria-label="${t('templates.breadcrumbs')}"><ol>
  <li><a href="${base}">${t('templates.list.title')}</a></li>
  ${shown.map((f) => html`<li><a href="${base}/folders/${f.id}">${f.name}</a></li>`)}
</ol></nav>`;
}

// ---- the editor ---------------------------------------------------------------------------------------------

export interface EditorOptions {
  mode: 'create' | 'edit';
  type: TemplateType;
  template?: TemplateDetail;
  fields: TemplateFields;
  folderId: string | null;
  errors?: FieldError[];
}

export function editorTitle(ui: UiContext, opts: EditorOptions): string {
  const { t } = ui;
  return opts.mode === 'edit'
    ? t('templates.edit.title', { name: opts.template!.name })
    : t(opts.type === 'email' ? 'templates.new.titleEmail' : 'templates.new.titleSms');
}

/** The template editor: name, subject (email), content with its counter (text message), category and folder. */
export function editorBody(
  ui: UiContext,
  service: ServiceContext,
  opts: EditorOptions,
  folders: Array<{ id: string; label: string }>,
): Html {
  const { t } = ui;
  const base = (s: ServiceContext) => servicePath(s, '/templates');
  const templatePath = (s: ServiceContext, id: string, rest = '') => `${base(s)}/${id}${rest}`;
  const title = editorTitle(ui, opts);
  const action = opts.mode === 'edit' ? templatePath(service, opts.template!.id, '/edit') : `${base(service)}/new`;
  const contentError = opts.errors?.find((e) => e.field === 'content');
  const contentHint = t(
    opts.type === 'email' ? 'templates.field.content.hintEmail' : 'templates.field.content.hintSms',
  );
  return html`${pageAssets()}
<h1>${title}</h1>
${errorSummary(ui, opts.errors)}
<form method="post" action="${action}" novalidate>
  ${csrfField(ui)}
  ${opts.mode === 'create' && html`<input type="hidden" name="type" value="${opts.type}">`}
  ${textInput({ id: 'name', label: t('templates.field.name.label'), hint: t('templates.field.name.hint'), value: opts.fields.name, errors: opts.errors })}
  ${opts.type === 'email' && textInput({ id: 'subject', label: t('templates.field.subject.label'), value: opts.fields.subject ?? '', errors: opts.errors })}
  <div class="field${contentError ? ' has-error' : ''}">
    <label for="content">${t('templates.field.content.label')}</label>
    <span class="hint" id="content-hint">${contentHint}
      ${opts.type === 'email' && html` <a href="${base(service)}/formatting-guide">${t('templates.guide.link')}</a>`}</span>
    ${contentError && html`<span class="error-message" id="content-error">${contentError.message}</span>`}
    <textarea id="content" name="content" rows="${opts.type === 'email' ? 14 : 6}" aria-describedby="content-hint${opts.type === 'sms' ? ' content-counter' : ''}${contentError ? ' content-error' : ''}"${contentError ? html` aria-invalid="true"` : ''}${opts.type === 'sms' ? html` data-sms-alphabet="/sms-alphabet.json"` : ''}>
${opts.fields.content}</textarea>
    ${opts.type === 'sms' && smsCounter(ui, smsStats(opts.fields.content), 'content')}
  </div>
  ${radios({
    id: 'category',
    name: 'category',
    legend: t('templates.field.category.legend'),
    value: opts.fields.category,
    errors: opts.errors,
    options: TEMPLATE_CATEGORIES.map((c) => ({
      value: c,
      label: categoryLabel(ui, c),
      hint: t(`templates.category.${c}.hint`),
    })),
  })}
  <div class="field">
    <label for="folder">${t('templates.field.folder.label')}</label>
    <select id="folder" name="folder">
      <option value="">${t('templates.field.folder.top')}</option>
      ${folders.map((f) => html`<option value="${f.id}"${f.id === opts.folderId ? ' selected' : ''}>${f.label}</option>`)}
    </select>
  </div>
  <div class="actions"><button type="submit">${t('templates.field.save')}</button>
  <a href="${opts.template ? templatePath(service, opts.template.id) : base(service)}">${t('common.cancel')}</a></div>
</form>`;
}

/** The first step of a new template: which kind (a GET form, so it works without JavaScript). */
export function templateTypeBody(
  ui: UiContext,
  service: ServiceContext,
  folder: Folder | null,
  errors: FieldError[],
): Html {
  const { t } = ui;
  const title = t('templates.new.title');
  return html`<h1>${title}</h1>
${errorSummary(ui, errors)}
<form method="get" action="${servicePath(service, '/templates')}/new" novalidate>
  ${folder && html`<input type="hidden" name="folder" value="${folder.id}">`}
  <input type="hidden" name="chosen" value="1">
  ${radios({
    id: 'type',
    name: 'type',
    legend: t('templates.new.typeLegend'),
    errors,
    options: [
      { value: 'email', label: t('templates.type.email'), hint: t('templates.new.emailHint') },
      { value: 'sms', label: t('templates.type.sms'), hint: t('templates.new.smsHint') },
    ],
  })}
  <div class="actions"><button type="submit">${t('templates.new.continue')}</button></div>
</form>`;
}

// ---- one template -------------------------------------------------------------------------------------------

export function templateSummary(
  ui: UiContext,
  template: {
    type: TemplateType;
    category: TemplateCategory;
    version: number;
    updatedAt: Date | null;
    createdAt: Date;
  },
): Html {
  const { t } = ui;
  return html`<dl class="summary-list">
  <dt>${t('templates.show.type')}</dt><dd>${typeLabel(ui, template.type)}</dd>
  <dt>${t('templates.show.category')}</dt><dd>${categoryLabel(ui, template.category)}<span class="hint">${t(`templates.category.${template.category}.hint`)}</span></dd>
  <dt>${t('templates.show.version')}</dt><dd>${t('templates.show.versionValue', { version: template.version, date: ui.formatDateTime(template.updatedAt ?? template.createdAt) })}</dd>
</dl>`;
}

/** The message of a template (or one version of it) as recipients see it, placeholders left as written. */
export function templateBody(
  ui: UiContext,
  service: ServiceContext,
  template: { id: string; type: TemplateType },
  text: { subject: string | null; content: string; version: number | null },
): Html {
  const { t } = ui;
  if (template.type === 'sms') {
    return html`<h2>${t('templates.show.message')}</h2>
${phonePreview(ui, renderSms(text.content, {}).body, service.name)}
${smsCounter(ui, smsStats(text.content))}`;
  }
  const src = `${servicePath(service, '/templates')}/${template.id}/preview/email.html${text.version ? `?version=${text.version}` : ''}`;
  return html`<h2>${t('templates.show.message')}</h2>
<dl class="summary-list"><dt>${t('templates.field.subject.label')}</dt><dd>${text.subject ?? ''}</dd></dl>
${emailFrame(ui, src, text.subject ?? '')}`;
}
