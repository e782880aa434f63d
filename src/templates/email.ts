// Email rendering: the plain body and subject Notify returns in API responses, the HTML body, the full
// HTML document and the text/plain alternative.

import { renderEmailMarkdown } from './email-markdown.ts';
import { escapeHtml, fillPlaceholders, type Personalisation } from './personalisation.ts';
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

export interface EmailDocument {
  subject: string;
  /** From `renderEmailHtml`. */
  bodyHtml: string;
  lang?: 'en' | 'fr';
}

const FONT = 'font-family: Helvetica, Arial, sans-serif;';

/** A complete HTML email: one centred column on a light background, readable without CSS support. */
export function renderEmailDocument({ subject, bodyHtml, lang = 'en' }: EmailDocument): string {
  const title = escapeHtml(subject);
  const language = escapeHtml(lang);
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
<tr>
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
