// Notify's email formatting: a small markdown subset rendered to HTML with inline styles (email clients
// drop <style> blocks). The subset: `#` headings (h2) and `##` subheadings (h3), paragraphs with every
// newline kept as a line break, bullet (`*`, `-`, `•`) and numbered lists, links and bare http(s) URLs,
// inset text (lines starting `^`), horizontal rules, **bold** and _italic_ (as GC Notify), and bilingual
// `[[fr]]…[[/fr]]` / `[[en]]…[[/en]]` blocks and `[[rtl]]…[[/rtl]]` (GC Notify).
//
// Everything else degrades: raw HTML is shown as text, `>` quotes, `` `code` `` and `~~strike~~` stay
// literal, code blocks become plain paragraphs, images and tables are dropped (as Notify drops them).

import MarkdownIt from 'markdown-it';
import type { StateBlock, StateCore, Token } from 'markdown-it';

import { niceTypography } from './typography.ts';

const TEXT = 'font-size: 19px; line-height: 25px; color: #0b0c0c;';

export const EMAIL_STYLES = {
  paragraph: `margin: 0 0 20px 0; ${TEXT}`,
  heading: 'margin: 0 0 20px 0; padding: 0; font-size: 27px; line-height: 35px; font-weight: bold; color: #0b0c0c;',
  subheading: 'margin: 0 0 15px 0; padding: 0; font-size: 24px; line-height: 30px; font-weight: bold; color: #0b0c0c;',
  listTable: 'padding: 0 0 20px 0;',
  nestedListTable: 'padding: 0;',
  listCell: 'font-family: Helvetica, Arial, sans-serif;',
  bulletList: 'margin: 0 0 0 20px; padding: 0; list-style-type: disc;',
  numberedList: 'margin: 0 0 0 20px; padding: 0; list-style-type: decimal;',
  listItem: `margin: 5px 0; padding: 0 0 0 5px; ${TEXT}`,
  inset: `margin: 0 0 20px 0; border-left: 10px solid #b1b4b6; padding: 15px 0 0.1px 15px; ${TEXT}`,
  rule: 'border: 0; height: 1px; background: #b1b4b6; margin: 30px 0 30px 0;',
  link: 'word-wrap: break-word; color: #1d70b8;',
} as const;

const md = new MarkdownIt('default', { html: false, xhtmlOut: true, breaks: true, linkify: false, typographer: false });
md.disable([
  'blockquote', // `^` is Notify's inset marker; `>` stays text
  'html_block',
  'html_inline',
  'autolink', // `<https://…>`; bare URLs are linked by our own rule below
  'backticks',
  'strikethrough',
  'linkify',
  'replacements',
  'smartquotes',
]);

// Attributes and code text are escaped as markdown-it escapes the rest of the document (& < > " only), so that
// one email is escaped one way; personalisation was escaped before parsing (personalisation.ts).
const escapeMarkup = md.utils.escapeHtml;

// ---------------------------------------------------------------------------------------------------------
// Inset text: a block starting with `^`. Following non-blank lines belong to it, and so does a later `^`
// paragraph after blank lines (Notify renders `^ a\n\n^ b` as one inset with two paragraphs).

const CARET = 0x5e;

/** Position just after the `^` marker (and one space) on this line, or -1 when the line has none. */
function afterInsetMarker(state: StateBlock, line: number): number {
  if (state.sCount[line]! - state.blkIndent >= 4) return -1;
  const start = state.bMarks[line]! + state.tShift[line]!;
  if (start >= state.eMarks[line]! || state.src.charCodeAt(start) !== CARET) return -1;
  return state.src.charCodeAt(start + 1) === 0x20 && start + 1 < state.eMarks[line]! ? start + 2 : start + 1;
}

function insetRule(state: StateBlock, startLine: number, endLine: number, silent: boolean): boolean {
  if (afterInsetMarker(state, startLine) < 0) return false;
  if (silent) return true;

  let end = startLine + 1;
  while (end < endLine) {
    if (!state.isEmpty(end)) {
      end++;
      continue;
    }
    let next = end;
    while (next < endLine && state.isEmpty(next)) next++;
    if (next < endLine && afterInsetMarker(state, next) >= 0) {
      end = next + 1;
      continue;
    }
    break;
  }

  // Parse the lines as if the markers were not there, then put the line offsets back.
  const saved: Array<[number, number, number, number]> = [];
  for (let line = startLine; line < end; line++) {
    saved.push([state.bMarks[line]!, state.tShift[line]!, state.sCount[line]!, state.bsCount[line]!]);
    const contentStart = afterInsetMarker(state, line);
    if (contentStart < 0) continue;
    let firstNonSpace = contentStart;
    while (firstNonSpace < state.eMarks[line]! && /[ \t]/.test(state.src[firstNonSpace]!)) firstNonSpace++;
    state.bMarks[line] = contentStart;
    state.tShift[line] = firstNonSpace - contentStart;
    state.sCount[line] = firstNonSpace - contentStart;
    state.bsCount[line] = 0;
  }
  const { parentType, blkIndent, lineMax } = state;
  state.parentType = 'blockquote';
  state.blkIndent = 0;
  state.lineMax = end;

  const open = state.push('inset_open', 'blockquote', 1);
  open.markup = '^';
  open.map = [startLine, end];
  state.md.block.tokenize(state, startLine, end);
  state.push('inset_close', 'blockquote', -1).markup = '^';

  state.parentType = parentType;
  state.blkIndent = blkIndent;
  state.lineMax = lineMax;
  saved.forEach(([bMark, tShift, sCount, bsCount], index) => {
    state.bMarks[startLine + index] = bMark;
    state.tShift[startLine + index] = tShift;
    state.sCount[startLine + index] = sCount;
    state.bsCount[startLine + index] = bsCount;
  });
  state.line = end;
  return true;
}

md.block.ruler.before('blockquote', 'inset', insetRule, { alt: ['paragraph', 'reference', 'blockquote', 'list'] });

// ---------------------------------------------------------------------------------------------------------
// Core rules: cut the token stream down to the subset, link bare URLs, then typography.

function isBlankInline(token: Token | undefined): boolean {
  if (token?.type !== 'inline') return false;
  return (token.children ?? []).every(
    (child) =>
      child.type === 'softbreak' || child.type === 'hardbreak' || (child.type === 'text' && !child.content.trim()),
  );
}

function restrictToSubset(state: StateCore): void {
  const kept: Token[] = [];
  const tokens = state.tokens;
  for (let index = 0; index < tokens.length; index++) {
    const token = tokens[index]!;
    if (token.type === 'table_open') {
      let depth = 1;
      while (depth > 0 && ++index < tokens.length) {
        if (tokens[index]!.type === 'table_open') depth++;
        else if (tokens[index]!.type === 'table_close') depth--;
      }
      continue;
    }
    if (token.type === 'inline' && token.children) {
      token.children = token.children.filter((child) => child.type !== 'image');
    }
    if (token.type === 'heading_open' || token.type === 'heading_close') {
      // `#` is the message's heading (h2: the subject is the h1), `##` a subheading; deeper levels are text.
      if (token.tag === 'h1') token.tag = 'h2';
      else if (token.tag === 'h2') token.tag = 'h3';
      else {
        token.type = token.type === 'heading_open' ? 'paragraph_open' : 'paragraph_close';
        token.tag = 'p';
      }
    }
    kept.push(token);
  }

  // Drop paragraphs and headings left empty (an image on its own line, say).
  const result: Token[] = [];
  for (let index = 0; index < kept.length; index++) {
    const token = kept[index]!;
    const isOpen = token.type === 'paragraph_open' || token.type === 'heading_open';
    if (isOpen && !token.hidden && isBlankInline(kept[index + 1]) && kept[index + 2]?.nesting === -1) {
      index += 2;
      continue;
    }
    result.push(token);
  }

  // Lists inside list items lose the bottom padding of the wrapper table.
  let itemDepth = 0;
  for (const token of result) {
    if (token.type === 'list_item_open') itemDepth++;
    else if (token.type === 'list_item_close') itemDepth--;
    else if ((token.type === 'bullet_list_open' || token.type === 'ordered_list_open') && itemDepth > 0) {
      token.meta = { ...token.meta, nested: true };
    }
  }
  state.tokens = result;
}

const BARE_URL = /https?:\/\/[^\s<>]+/gi;

/** Trailing punctuation is not part of a link: `see https://x.org/a.` or `(https://x.org/a_(b))`. */
function trimUrl(url: string): string {
  let result = url;
  for (;;) {
    const last = result[result.length - 1];
    if (last === '.' || last === ',' || last === ':' || last === '"' || last === "'") {
      result = result.slice(0, -1);
    } else if (last === ')' || last === ']') {
      const opening = last === ')' ? '(' : '[';
      const opened = result.split(opening).length - 1;
      const closed = result.split(last).length - 1;
      if (opened >= closed) return result;
      result = result.slice(0, -1);
    } else {
      return result;
    }
  }
}

function textToken(state: StateCore, content: string, level: number): Token {
  const token = new state.Token('text', '', 0);
  token.content = content;
  token.level = level;
  return token;
}

function linkBareUrls(state: StateCore, token: Token): Token[] {
  const text = token.content;
  const result: Token[] = [];
  let consumed = 0;
  for (const match of text.matchAll(BARE_URL)) {
    const url = trimUrl(match[0]);
    if (!/^https?:\/\/[^/?#]/i.test(url)) continue;
    const href = state.md.normalizeLink(url);
    if (!state.md.validateLink(href)) continue;
    const start = match.index;
    if (start > consumed) result.push(textToken(state, text.slice(consumed, start), token.level));
    const open = new state.Token('link_open', 'a', 1);
    open.attrs = [['href', href]];
    open.markup = 'linkify';
    open.info = 'auto';
    open.level = token.level;
    const close = new state.Token('link_close', 'a', -1);
    close.markup = 'linkify';
    close.info = 'auto';
    close.level = token.level;
    result.push(open, textToken(state, state.md.normalizeLinkText(url), token.level + 1), close);
    consumed = start + url.length;
  }
  if (consumed === 0) return [token];
  if (consumed < text.length) result.push(textToken(state, text.slice(consumed), token.level));
  return result;
}

function linkBareUrlsRule(state: StateCore): void {
  for (const block of state.tokens) {
    if (block.type !== 'inline' || !block.children) continue;
    const children: Token[] = [];
    let linkDepth = 0;
    for (const child of block.children) {
      if (child.type === 'link_open') linkDepth++;
      else if (child.type === 'link_close') linkDepth--;
      if (child.type === 'text' && linkDepth === 0 && /https?:\/\//i.test(child.content)) {
        children.push(...linkBareUrls(state, child));
      } else {
        children.push(child);
      }
    }
    block.children = children;
  }
}

function typographyRule(state: StateCore): void {
  // Like SmartyPants over HTML, the last character of the previous run of text carries across tags.
  let previous = '';
  for (const block of state.tokens) {
    if (block.type !== 'inline' || !block.children) continue;
    let linkDepth = 0;
    for (const child of block.children) {
      if (child.type === 'link_open') linkDepth++;
      else if (child.type === 'link_close') linkDepth--;
      if (child.type !== 'text' || child.content === '') continue;
      const original = child.content;
      child.content = niceTypography(original, previous, linkDepth > 0);
      previous = original[original.length - 1]!;
    }
  }
}

md.core.ruler.push('envoi_subset', restrictToSubset);
md.core.ruler.push('envoi_bare_urls', linkBareUrlsRule);
md.core.ruler.push('envoi_typography', typographyRule);

// ---------------------------------------------------------------------------------------------------------
// Rendering with inline styles.

const rules = md.renderer.rules;

rules.paragraph_open = (tokens, index) => (tokens[index]!.hidden ? '' : `<p style="${EMAIL_STYLES.paragraph}">`);
rules.paragraph_close = (tokens, index) => (tokens[index]!.hidden ? '' : '</p>\n');

rules.heading_open = (tokens, index) => {
  const tag = tokens[index]!.tag;
  return `<${tag} style="${tag === 'h2' ? EMAIL_STYLES.heading : EMAIL_STYLES.subheading}">`;
};
rules.heading_close = (tokens, index) => `</${tokens[index]!.tag}>\n`;

function listOpen(tokens: Token[], index: number): string {
  const token = tokens[index]!;
  const ordered = token.type === 'ordered_list_open';
  const tableStyle = token.meta?.nested ? EMAIL_STYLES.nestedListTable : EMAIL_STYLES.listTable;
  const start = ordered ? token.attrGet('start') : null;
  const startAttribute = start !== null && Number(start) !== 1 ? ` start="${escapeMarkup(String(start))}"` : '';
  const list = ordered
    ? `<ol${startAttribute} style="${EMAIL_STYLES.numberedList}">`
    : `<ul style="${EMAIL_STYLES.bulletList}">`;
  return `<table role="presentation" style="${tableStyle}"><tr><td style="${EMAIL_STYLES.listCell}">${list}\n`;
}

rules.bullet_list_open = listOpen;
rules.ordered_list_open = listOpen;
rules.bullet_list_close = () => '</ul></td></tr></table>\n';
rules.ordered_list_close = () => '</ol></td></tr></table>\n';
rules.list_item_open = () => `<li style="${EMAIL_STYLES.listItem}">`;
rules.list_item_close = () => '</li>\n';

rules.inset_open = () => `<blockquote style="${EMAIL_STYLES.inset}">\n`;
rules.inset_close = () => '</blockquote>\n';

rules.hr = () => `<hr style="${EMAIL_STYLES.rule}" />\n`;

rules.link_open = (tokens, index) => {
  const token = tokens[index]!;
  const href = String(token.attrGet('href') ?? '');
  const title = token.attrGet('title');
  const titleAttribute = title ? ` title="${escapeMarkup(String(title))}"` : '';
  return `<a style="${EMAIL_STYLES.link}" href="${escapeMarkup(href)}"${titleAttribute}>`;
};

/** Code blocks are not part of the subset: their text is shown as an ordinary paragraph. */
const codeAsParagraph = (tokens: Token[], index: number): string => {
  const content = tokens[index]!.content.replace(/\n+$/, '');
  if (!content.trim()) return '';
  return `<p style="${EMAIL_STYLES.paragraph}">${escapeMarkup(content).split('\n').join('<br />\n')}</p>\n`;
};
rules.code_block = codeAsParagraph;
rules.fence = codeAsParagraph;

// ---------------------------------------------------------------------------------------------------------
// Source preparation.

const FENCE = /^ {0,3}(`{3,}|~{3,})/;

/**
 * `•` is a bullet in Notify (it is not in markdown); `+` is not (it is in markdown), so a line starting
 * `+ ` stays text. Lines inside fenced blocks are left alone.
 */
function prepareListMarkers(text: string): string {
  let fence: string | null = null;
  return text
    .split('\n')
    .map((line) => {
      const fenceMatch = FENCE.exec(line);
      if (fenceMatch) {
        const marker = fenceMatch[1]!;
        if (fence === null) fence = marker;
        else if (marker[0] === fence[0] && marker.length >= fence.length) fence = null;
        return line;
      }
      if (fence !== null) return line;
      return line.replace(/^([ \t]*)•[ \t]*(?=\S)/, '$1* ').replace(/^([ \t]*)\+(?=[ \t]|$)/, '$1\\+');
    })
    .join('\n');
}

function renderMarkdown(text: string): string {
  return md.render(prepareListMarkers(text)).trim();
}

// ---------------------------------------------------------------------------------------------------------
// Bilingual and right-to-left blocks (GC Notify): `[[fr]]…[[/fr]]` → <div lang="fr-ca">, `[[en]]` →
// <div lang="en-ca">, `[[rtl]]` → <div dir="rtl">. Tags that are not properly paired stay as text.

const BLOCK_TAG = /\[\[(\/?)(fr|en|rtl)\]\]/g;

type BlockName = 'fr' | 'en' | 'rtl';
type Segment = { text: string } | { block: BlockName; children: Segment[] };

function parseBlocks(text: string): Segment[] | null {
  const root: Segment[] = [];
  const stack: Array<{ block: BlockName; children: Segment[] }> = [];
  let current = root;
  let consumed = 0;
  for (const match of text.matchAll(BLOCK_TAG)) {
    if (match.index > consumed) current.push({ text: text.slice(consumed, match.index) });
    consumed = match.index + match[0].length;
    const name = match[2] as BlockName;
    if (match[1] === '') {
      const block = { block: name, children: [] as Segment[] };
      current.push(block);
      stack.push(block);
      current = block.children;
    } else {
      if (stack.length === 0 || stack[stack.length - 1]!.block !== name) return null;
      stack.pop();
      current = stack.length === 0 ? root : stack[stack.length - 1]!.children;
    }
  }
  if (stack.length > 0) return null;
  if (consumed < text.length) root.push({ text: text.slice(consumed) });
  return root;
}

const BLOCK_ATTRIBUTES: Record<BlockName, string> = { fr: 'lang="fr-ca"', en: 'lang="en-ca"', rtl: 'dir="rtl"' };

function renderSegments(segments: Segment[]): string {
  return segments
    .map((segment) =>
      'text' in segment
        ? renderMarkdown(segment.text)
        : `<div ${BLOCK_ATTRIBUTES[segment.block]}>\n${renderSegments(segment.children)}\n</div>`,
    )
    .filter((html) => html !== '')
    .join('\n');
}

/** Renders markdown (placeholders already filled in, values already HTML-escaped) to an HTML fragment. */
export function renderEmailMarkdown(text: string): string {
  const normalised = text.replace(/\r\n?/g, '\n').replace(/\u2028/g, '');
  const segments = parseBlocks(normalised);
  return segments ? renderSegments(segments) : renderMarkdown(normalised);
}
