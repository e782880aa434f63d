import { describe, expect, it } from 'vitest';
import { escapeHtml, html, raw } from '../../src/platform/ui/html.ts';

describe('html tagged template', () => {
  it('escapes every interpolated value', () => {
    const name = `<script>alert("x")</script>&'\``;
    expect(String(html`<p title="${name}">${name}</p>`)).toBe(
      '<p title="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;&#96;">&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;&#96;</p>',
    );
  });

  it('inserts nested html and raw() fragments as they are, and escapes strings inside arrays', () => {
    const items = ['<a>', 'b'].map((s) => html`<li>${s}</li>`);
    expect(String(html`<ul>${items}</ul>${raw('<hr>')}`)).toBe('<ul><li>&lt;a&gt;</li><li>b</li></ul><hr>');
    expect(String(html`${['<x>', 1]}`)).toBe('&lt;x&gt;1');
  });

  it('renders nothing for null, undefined and false, and numbers as text', () => {
    expect(String(html`[${null}${undefined}${false}${0}${true}]`)).toBe('[0true]');
  });

  it('escapes the characters that matter in text and attributes', () => {
    expect(escapeHtml(`a&b<c>d"e'f`)).toBe('a&amp;b&lt;c&gt;d&quot;e&#39;f');
  });
});
