// Email rendering: the plain body and subject Notify returns in API responses, the HTML body, the full
// HTML document and the text/plain alternative.

import { renderEmailMarkdown } from './email-markdown.ts';
import { escapeKeepingEntities, fillPlaceholders, type Personalisation } from './personalisation.ts';
import { niceTypography } from './typography.ts';
import { normaliseWhitespace, stripWhitespace } from './whitespace.ts';

/** The body as the API returns it: placeholders filled in (no escaping), trimmed; `\r\n` is kept. */
export function renderEmailBody(content: string, personalisation: Personalisation | null | undefined): string {
  return stripWhitespace(fillPlaceholders(content, personalisation, { listStyle: 'markdown' }));
}

/** The subject: placeholders filled in, curly quotes and en dashes, whitespace collapsed to single spaces. */
export function renderEmailSubject(subject: string, personalisation: Personalisation | null | undefined): string {
  return normaliseWhitespace(niceTypography(fillPlaceholders(subject, personalisation)));
}

/** The HTML body fragment. Values are HTML-escaped before the markdown is read; the template's own HTML shows as text. */
export function renderEmailHtml(content: string, personalisation: Personalisation | null | undefined): string {
  return renderEmailMarkdown(fillPlaceholders(content, personalisation, { escapeHtml: true, listStyle: 'markdown' }));
}

/**
 * The header a service chose for its emails: its logo or the Government of Canada signature, an image shown from
 * `src`, which the caller gives: `cid:…` in a sent email (the image travels as an inline part), a `data:` URL in a
 * preview. `width` and `height` are the size to show it at (a logo's own pixels); the header scales them down to fit.
 */
export type HeaderBranding =
  | { kind: 'none' }
  | { kind: 'logo'; src: string; altEn: string; altFr: string; width: number; height: number };

export interface EmailDocument {
  subject: string;
  /** From `renderEmailHtml`. */
  bodyHtml: string;
  lang?: 'en' | 'fr';
  branding?: HeaderBranding;
}

const FONT = 'font-family: Helvetica, Arial, sans-serif;';

/** A complete HTML email: one centred column on a light background, readable without CSS support. */
export function renderEmailDocument({ subject, bodyHtml, lang = 'en', branding }: EmailDocument): string {
  const title = escapeKeepingEntities(subject);
  const language = escapeKeepingEntities(lang);
  const header = emailHeader(branding, lang);
  return `<!DOCTYPE html>
<html lang="${language}" dir="ltr">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="x-apple-disable-message-reformatting">
<meta name="format-detection" content="telephone=no, date=no, address=no, email=no">
<title>${title}</title>
</head>
<body style="margin: 0; padding: 0; background-color: #f3f2f1; ${FONT}">
<div role="article" aria-roledescription="email" aria-label="${title}" lang="${language}" style="background-color: #f3f2f1;">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="border-collapse: collapse; background-color: #f3f2f1;">
<tr>
<td align="center" style="padding: 24px 12px;">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="border-collapse: collapse; max-width: 600px; background-color: #ffffff;">
${
  header
    ? `<tr>
<td style="padding: 24px 24px 20px 24px; border-bottom: 1px solid #b1b4b6; text-align: left;">
${header}
</td>
</tr>
`
    : ''
}<tr>
<td style="padding: 30px 24px 10px 24px; text-align: left; ${FONT} font-size: 19px; line-height: 25px; color: #0b0c0c;">
${bodyHtml}
</td>
</tr>
</table>
</td>
</tr>
</table>
</div>
</body>
</html>
`;
}

/** The box a logo is scaled down into, in CSS pixels: wide logos are common, tall ones would crowd the message. */
const LOGO_MAX_WIDTH = 300;
const LOGO_MAX_HEIGHT = 80;

/**
 * The inside of the header row for a branding, '' for none: an image, with width and height for clients that
 * ignore CSS. Its alt text gives both languages, the email's first: an email is often bilingual and its reader's
 * language is not known.
 */
export function emailHeader(branding: HeaderBranding | undefined, lang: 'en' | 'fr' = 'en'): string {
  if (!branding || branding.kind === 'none') return '';
  const { width, height } = fitLogo(branding.width, branding.height);
  const alts = lang === 'fr' ? [branding.altFr, branding.altEn] : [branding.altEn, branding.altFr];
  const alt = [...new Set(alts.map((a) => a.trim()).filter(Boolean))].join(' / ');
  return `<img src="${attribute(branding.src)}" width="${width}" height="${height}" alt="${attribute(alt)}" style="display: block; width: ${width}px; max-width: 100%; height: auto; border: 0; outline: none; text-decoration: none; ${FONT} font-size: 16px; line-height: 20px; color: #0b0c0c;">`;
}

function fitLogo(width: number, height: number): { width: number; height: number } {
  if (!(width > 0 && height > 0)) return { width: LOGO_MAX_WIDTH, height: LOGO_MAX_HEIGHT };
  const scale = Math.min(1, LOGO_MAX_WIDTH / width, LOGO_MAX_HEIGHT / height);
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
}

/** For attribute values that are plain text (alt text, URLs): every special character escaped, entities too. */
function attribute(value: string): string {
  return value.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );
}

const BLOCK_TAG_LINE = /^[ \t]*\[\[\/?(?:fr|en|rtl)\]\][ \t]*(?:\n|$)/gm;
const BLOCK_TAG = /\[\[\/?(?:fr|en|rtl)\]\]/g;
const INSET_MARKER = /^([ \t]*)\^[ \t]?/gm;
const MARKDOWN_LINK = /(?<!\\)\[([^[\]\n]+)\]\(([^()\s]+)\)/g;
const BACKSLASH_ESCAPE = /\\([!-/:-@[-`{-~])/g;

/**
 * The text/plain alternative, from the rendered body (`renderEmailBody`): inset and bilingual markers are
 * removed, `[text](url)` becomes `text: url`, backslash escapes (from sanitised values) are undone, and runs
 * of blank lines are collapsed.
 */
export function emailPlainText(body: string): string {
  const text = body
    .replace(/\r\n?/g, '\n')
    .replace(BLOCK_TAG_LINE, '')
    .replace(BLOCK_TAG, '')
    .replace(INSET_MARKER, '$1')
    .replace(MARKDOWN_LINK, '$1: $2')
    .replace(BACKSLASH_ESCAPE, '$1')
    .replace(/\n{3,}/g, '\n\n');
  return stripWhitespace(text);
}
