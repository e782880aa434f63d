import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

import { emailBranding, imageSize, logoDataUrl } from '../settings/email-branding.ts';
import {
  emailHeader,
  emailPlainText,
  renderEmailBody,
  renderEmailDocument,
  renderEmailHtml,
  renderEmailSubject,
} from './email.ts';

/** The HTML without style attributes and newlines between tags, to compare structure. */
function bare(html: string): string {
  return html
    .replace(/ style="[^"]*"/g, '')
    .replace(/>\n+</g, '><')
    .replace(/\n/g, '');
}

const html = (content: string, personalisation: Record<string, unknown> = {}) =>
  bare(renderEmailHtml(content, personalisation));

describe('renderEmailBody', () => {
  it('keeps CRLF line endings, as the Node client test expects', () => {
    expect(
      renderEmailBody('Hello ((name))\r\n\r\nFunctional Tests make our world a better place', { name: 'Foo' }),
    ).toBe('Hello Foo\r\n\r\nFunctional Tests make our world a better place');
  });

  it('does not escape HTML in values or content', () => {
    expect(renderEmailBody('<b>((x))</b>', { x: '<i>&</i>' })).toBe('<b><i>&</i></b>');
  });

  it('strips whitespace from both ends only', () => {
    expect(renderEmailBody('  \r\n  ((x))  keep  inner  \r\n\t ', { x: 'a' })).toBe('a  keep  inner');
  });

  it('writes list values as a markdown list', () => {
    expect(renderEmailBody('You need:((docs))', { docs: ['passport', 'photo'] })).toBe(
      'You need:\n\n* passport\n* photo',
    );
  });

  it('applies conditional placeholders and leaves missing ones as written', () => {
    expect(renderEmailBody('((a??Shown.)) ((b??Hidden.)) ((c))', { a: 'yes', b: 'no' })).toBe('Shown.  ((c))');
  });

  it('makes no typographic changes', () => {
    expect(renderEmailBody(`"It's" - fine , ok`, {})).toBe(`"It's" - fine , ok`);
  });
});

describe('renderEmailSubject', () => {
  it('substitutes placeholders', () => {
    expect(renderEmailSubject('Your ((Service Name)) reference', { service_name: 'Passport' })).toBe(
      'Your Passport reference',
    );
  });

  it('uses curly quotes and apostrophes', () => {
    expect(renderEmailSubject(`"Hello," she said`, {})).toBe('“Hello,” she said');
    expect(renderEmailSubject(`It's the 'final' notice`, {})).toBe('It’s the ‘final’ notice');
    expect(renderEmailSubject(`He said "'quoted' words"`, {})).toBe('He said “‘quoted’ words”');
  });

  it('applies typography to values too', () => {
    expect(renderEmailSubject('Re: ((title))', { title: `"Bob's" claim` })).toBe('Re: “Bob’s” claim');
  });

  it('keeps straight apostrophes in email addresses', () => {
    expect(renderEmailSubject(`Write to o'brien@example.com or 'us'`, {})).toBe("Write to o'brien@example.com or ‘us’");
  });

  it('turns a hyphen or dash between spaces into an en dash', () => {
    expect(renderEmailSubject('Booking - confirmed', {})).toBe('Booking – confirmed');
    expect(renderEmailSubject('a -- b --- c — d', {})).toBe('a – b – c – d');
    expect(renderEmailSubject('well-known 2020-2021', {})).toBe('well-known 2020-2021');
  });

  it('does not make ellipses or em dashes from dots and double hyphens without spaces', () => {
    expect(renderEmailSubject('Wait... a--b', {})).toBe('Wait... a--b');
  });

  it('removes spaces before commas and full stops', () => {
    expect(renderEmailSubject('Total ((n)) , paid .', { n: 5 })).toBe('Total 5, paid.');
  });

  it('collapses all whitespace, including newlines, and trims', () => {
    expect(renderEmailSubject('  Your\t\tappointment\r\n on\u00a0((day))\u200b  ', { day: 'Monday' })).toBe(
      'Your appointment on Monday',
    );
  });

  it('writes list values as prose', () => {
    expect(renderEmailSubject('Bring ((items))', { items: ['ID', 'photo', 'pen'] })).toBe('Bring ID, photo and pen');
  });

  it('returns text, not HTML', () => {
    expect(renderEmailSubject('((a)) & ((b))', { a: '<b>', b: 'c' })).toBe('<b> & c');
  });
});

describe('renderEmailHtml', () => {
  describe('markdown subset', () => {
    it('makes paragraphs, with each newline a line break', () => {
      expect(html('First line\nsecond line\n\nNew paragraph')).toBe(
        '<p>First line<br />second line</p><p>New paragraph</p>',
      );
    });

    it('treats CRLF like LF', () => {
      expect(html('a\r\nb\r\n\r\nc')).toBe('<p>a<br />b</p><p>c</p>');
    });

    it('renders # as h2 and ## as h3; deeper headings are paragraphs', () => {
      expect(html('# Heading\n\n## Subheading\n\n### Not a heading\n\n###### Nor this')).toBe(
        '<h2>Heading</h2><h3>Subheading</h3><p>Not a heading</p><p>Nor this</p>',
      );
    });

    it('renders bullet lists from *, - and •', () => {
      const expected = '<table role="presentation"><tr><td><ul><li>one</li><li>two</li></ul></td></tr></table>';
      expect(html('* one\n* two')).toBe(expected);
      expect(html('- one\n- two')).toBe(expected);
      expect(html('• one\n• two')).toBe(expected);
      expect(html('•one\n•two')).toBe(expected);
    });

    it('does not make a list from +', () => {
      expect(html('+ one\n+ two')).toBe('<p>+ one<br />+ two</p>');
    });

    it('renders numbered lists, keeping a first number other than 1', () => {
      expect(html('1. one\n2. two')).toBe(
        '<table role="presentation"><tr><td><ol><li>one</li><li>two</li></ol></td></tr></table>',
      );
      expect(html('3. three\n4. four')).toContain('<ol start="3">');
    });

    it('renders nested lists without the outer padding', () => {
      const rendered = renderEmailHtml('* one\n  * inner', {});
      expect(bare(rendered)).toBe(
        '<table role="presentation"><tr><td><ul><li>one' +
          '<table role="presentation"><tr><td><ul><li>inner</li></ul></td></tr></table>' +
          '</li></ul></td></tr></table>',
      );
      const tableStyles = [...rendered.matchAll(/<table role="presentation" style="([^"]*)"/g)].map((m) => m[1]);
      expect(tableStyles[0]).toContain('padding: 0 0 20px 0');
      expect(tableStyles[1]).toBe('padding: 0;');
    });

    it('renders inset text from lines starting ^', () => {
      expect(html('^ Inset line\n^ continued\n\nAfter')).toBe(
        '<blockquote><p>Inset line<br />continued</p></blockquote><p>After</p>',
      );
    });

    it('keeps inset paragraphs separated by blank lines in one inset', () => {
      expect(html('^ First\n\n^ Second')).toBe('<blockquote><p>First</p><p>Second</p></blockquote>');
    });

    it('includes lazy continuation lines in an inset, and ends it at a blank line', () => {
      expect(html('^ Inset\nlazy\n\nOutside')).toBe('<blockquote><p>Inset<br />lazy</p></blockquote><p>Outside</p>');
    });

    it('lets an inset follow a paragraph line directly', () => {
      expect(html('Before\n^ Inset')).toBe('<p>Before</p><blockquote><p>Inset</p></blockquote>');
    });

    it('renders horizontal rules from ***, --- and ___', () => {
      for (const rule of ['***', '---', '___', '* * *']) {
        expect(html(`Above\n\n${rule}\n\nBelow`)).toBe('<p>Above</p><hr /><p>Below</p>');
      }
    });

    it('renders links with their title', () => {
      expect(html('[GOV.UK](https://www.gov.uk "Home")')).toBe(
        '<p><a href="https://www.gov.uk" title="Home">GOV.UK</a></p>',
      );
    });

    it('links bare http and https URLs, leaving trailing punctuation outside', () => {
      expect(html('See https://www.gov.uk/help. Or http://example.com/a?b=1&c=2, ok')).toBe(
        '<p>See <a href="https://www.gov.uk/help">https://www.gov.uk/help</a>. ' +
          'Or <a href="http://example.com/a?b=1&amp;c=2">http://example.com/a?b=1&amp;c=2</a>, ok</p>',
      );
    });

    it('keeps balanced brackets in a bare URL and drops unbalanced ones', () => {
      expect(html('(see https://en.wikipedia.org/wiki/Fish_(food))')).toBe(
        '<p>(see <a href="https://en.wikipedia.org/wiki/Fish_(food)">https://en.wikipedia.org/wiki/Fish_(food)</a>)</p>',
      );
    });

    it('does not link bare domains or email addresses', () => {
      expect(html('www.gov.uk and help@example.com')).toBe('<p>www.gov.uk and help@example.com</p>');
    });

    it('does not link a URL twice inside a markdown link', () => {
      expect(html('[https://a.example](https://b.example)')).toBe(
        '<p><a href="https://b.example">https://a.example</a></p>',
      );
    });

    it('renders bold and italic, as GC Notify does', () => {
      expect(html('**bold** and _italic_ and *also*')).toBe(
        '<p><strong>bold</strong> and <em>italic</em> and <em>also</em></p>',
      );
    });

    it('gives every element inline styles, for email clients', () => {
      const rendered = renderEmailHtml('# H\n\n## S\n\nText [l](https://x.org)\n\n* a\n\n1. b\n\n^ i\n\n---', {});
      for (const tag of ['h2', 'h3', 'p', 'a', 'ul', 'ol', 'li', 'blockquote', 'hr', 'table', 'td']) {
        const tags = [...rendered.matchAll(new RegExp(`<${tag}[ >]`, 'g'))];
        expect(tags.length, tag).toBeGreaterThan(0);
        expect(rendered, tag).not.toMatch(new RegExp(`<${tag}(?![^>]*style=")[ >]`));
      }
    });
  });

  describe('markdown outside the subset', () => {
    it('drops images', () => {
      expect(html('Before\n\n![alt text](https://tracker.example/pixel.gif)\n\nAfter')).toBe(
        '<p>Before</p><p>After</p>',
      );
      expect(html('Inline ![x](https://t.example/p.gif) image')).toBe('<p>Inline  image</p>');
    });

    it('drops tables', () => {
      const rendered = html('Before\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\nAfter');
      expect(rendered).toBe('<p>Before</p><p>After</p>');
    });

    it('shows fenced and indented code as ordinary paragraphs', () => {
      expect(html('```js\nlet a = 1;\n<b>x</b>\n```')).toBe('<p>let a = 1;<br />&lt;b&gt;x&lt;/b&gt;</p>');
      expect(html('Para\n\n    indented\n    text')).toBe('<p>Para</p><p>indented<br />text</p>');
    });

    it('keeps backticks, tildes and > quotes as text', () => {
      expect(html('`code` and ~~strike~~')).toBe('<p>`code` and ~~strike~~</p>');
      expect(html('> not a quote')).toBe('<p>&gt; not a quote</p>');
    });

    it('escapes raw HTML in the template', () => {
      const rendered = renderEmailHtml(
        '<script>alert(1)</script>\n\n<b onclick="x()">bold</b> <https://x.example>',
        {},
      );
      expect(rendered).not.toMatch(/<script|<b[ >]/);
      expect(rendered).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
      expect(rendered).toContain('&lt;b onclick=');
    });

    it('needs a space after # for a heading', () => {
      expect(html('#notaheading')).toBe('<p>#notaheading</p>');
    });
  });

  describe('values', () => {
    it('are HTML-escaped', () => {
      const rendered = renderEmailHtml('Hello ((name))', { name: '<script>alert("x")</script><img src=x onerror=y>' });
      expect(rendered).not.toMatch(/<script|<img/);
      expect(bare(rendered)).toBe('<p>Hello &lt;script&gt;alert(“x”)&lt;/script&gt;&lt;img src=x onerror=y&gt;</p>');
    });

    it('cannot break out of a link URL', () => {
      const rendered = renderEmailHtml('[Pay](https://pay.example/?ref=((ref)))', { ref: '1"onmouseover="alert(1)' });
      expect(bare(rendered)).toBe('<p><a href="https://pay.example/?ref=1%22onmouseover=%22alert(1)">Pay</a></p>');
      // With a space the link is no longer valid markdown: only the bare URL before the quote is linked.
      const spaced = renderEmailHtml('[Pay](https://pay.example/?ref=((ref)))', { ref: '1" onmouseover="alert(1)' });
      expect(spaced).not.toMatch(/<a [^>]*onmouseover/);
      expect(bare(spaced)).toContain('<a href="https://pay.example/?ref=1">https://pay.example/?ref=1</a>');
    });

    it('cannot make a javascript: link', () => {
      const rendered = renderEmailHtml('[Click](((url)))', { url: 'javascript:alert(1)' });
      expect(rendered).not.toContain('<a');
      expect(bare(rendered)).toBe('<p>[Click](javascript:alert(1))</p>');
    });

    it('show ampersands and entities as the sender wrote them', () => {
      expect(html('((a))', { a: 'AT&T &amp; Co &lt;3' })).toBe('<p>AT&amp;T &amp; Co &lt;3</p>');
    });

    it('render list values as lists', () => {
      expect(html('You need:((docs))', { docs: ['passport', '<b>photo</b>'] })).toBe(
        '<p>You need:</p><table role="presentation"><tr><td><ul><li>passport</li><li>&lt;b&gt;photo&lt;/b&gt;</li></ul></td></tr></table>',
      );
    });

    it('are read as markdown (sanitise_content_for is how a caller prevents this)', () => {
      expect(html('((v))', { v: '[link](https://example.com)' })).toBe('<p><a href="https://example.com">link</a></p>');
    });
  });

  describe('typography', () => {
    it('curls quotes in text but not in links', () => {
      expect(html(`"Quoted" and it's [the 'link'](https://x.example)`)).toBe(
        `<p>“Quoted” and it’s <a href="https://x.example">the 'link'</a></p>`,
      );
    });

    it('uses the previous text to decide a lone quote after a link', () => {
      expect(html(`"[x](https://x.example)"`)).toBe('<p>“<a href="https://x.example">x</a>”</p>');
    });

    it('makes en dashes and removes space before punctuation', () => {
      expect(html('Monday - Friday , 9am .')).toBe('<p>Monday – Friday, 9am.</p>');
    });

    it('keeps straight apostrophes in email addresses', () => {
      expect(html(`Email o'neil@example.com, it's quick`)).toBe(`<p>Email o'neil@example.com, it’s quick</p>`);
    });
  });

  describe('bilingual blocks', () => {
    it('wraps [[fr]] and [[en]] blocks in divs with lang attributes', () => {
      expect(html('[[en]]\nHello ((name))\n[[/en]]\n\n[[fr]]\nBonjour ((name))\n[[/fr]]', { name: 'Ana' })).toBe(
        '<div lang="en-ca"><p>Hello Ana</p></div><div lang="fr-ca"><p>Bonjour Ana</p></div>',
      );
    });

    it('renders markdown inside a block', () => {
      expect(html('[[fr]]\n# Titre\n\n* un\n* deux\n[[/fr]]')).toBe(
        '<div lang="fr-ca"><h2>Titre</h2><table role="presentation"><tr><td><ul><li>un</li><li>deux</li></ul></td></tr></table></div>',
      );
    });

    it('works with tags on the same line as text', () => {
      expect(html('Intro [[fr]]Bonjour[[/fr]] end')).toBe(
        '<p>Intro</p><div lang="fr-ca"><p>Bonjour</p></div><p>end</p>',
      );
    });

    it('supports nesting and right-to-left blocks', () => {
      expect(html('[[en]]\nA\n[[rtl]]\nB\n[[/rtl]]\n[[/en]]')).toBe(
        '<div lang="en-ca"><p>A</p><div dir="rtl"><p>B</p></div></div>',
      );
    });

    it('leaves unpaired or crossed tags as text', () => {
      expect(html('[[fr]]\nBonjour')).toBe('<p>[[fr]]<br />Bonjour</p>');
      expect(html('[[fr]] a [[en]] b [[/fr]] c [[/en]]')).toBe('<p>[[fr]] a [[en]] b [[/fr]] c [[/en]]</p>');
    });
  });
});

describe('renderEmailDocument', () => {
  const documentHtml = renderEmailDocument({
    subject: 'Your <reference> & “code”',
    bodyHtml: '<p style="x">Body</p>',
    lang: 'fr',
  });

  it('is a complete HTML document in the given language', () => {
    expect(documentHtml.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(documentHtml).toMatch(/<html lang="fr"[^>]*>/);
    expect(documentHtml).toContain('<meta charset="utf-8">');
    expect(documentHtml).toContain('<meta name="viewport" content="width=device-width, initial-scale=1">');
    expect(documentHtml.trimEnd().endsWith('</html>')).toBe(true);
  });

  it('uses the escaped subject as the title', () => {
    expect(documentHtml).toContain('<title>Your &lt;reference&gt; &amp; “code”</title>');
    expect(documentHtml).not.toContain('<reference>');
  });

  it('contains the body unchanged, in a layout marked as presentation', () => {
    expect(documentHtml).toContain('<p style="x">Body</p>');
    const layoutTables = documentHtml.match(/<table[^>]*>/g) ?? [];
    expect(layoutTables.length).toBeGreaterThan(0);
    for (const table of layoutTables) expect(table).toContain('role="presentation"');
  });

  it('defaults to English', () => {
    expect(renderEmailDocument({ subject: 's', bodyHtml: '' })).toMatch(/<html lang="en"/);
  });
});

describe('email branding', () => {
  const logo = {
    kind: 'logo',
    src: 'cid:logo@envoi',
    altEn: 'Passport Canada',
    altFr: 'Passeport Canada',
    width: 480,
    height: 120,
  } as const;
  const img = (header: string) => header.match(/<img [^>]*>/)?.[0] ?? '';
  const attr = (tag: string, name: string) => tag.match(new RegExp(` ${name}="([^"]*)"`))?.[1];

  it('adds no header for none, or when no branding is given', () => {
    const plain = renderEmailDocument({ subject: 's', bodyHtml: '<p>Body</p>' });
    expect(renderEmailDocument({ subject: 's', bodyHtml: '<p>Body</p>', branding: { kind: 'none' } })).toBe(plain);
    expect(emailHeader({ kind: 'none' })).toBe('');
    expect(emailHeader(undefined)).toBe('');
    expect(plain).not.toContain('<img');
  });

  it('shows the Government of Canada signature as the official image, English first in an English email', () => {
    const header = emailHeader(emailBranding({ kind: 'gc' }, logoDataUrl, 'en'), 'en');
    const tag = img(header);
    expect(header).toBe(tag);
    expect(attr(tag, 'alt')).toBe('Government of Canada / Gouvernement du Canada');
    // Shown at 300 × 29 from a file with twice the pixels, sharp on high-density screens.
    expect([attr(tag, 'width'), attr(tag, 'height')]).toEqual(['300', '29']);
    const bytes = Buffer.from(attr(tag, 'src')!.replace(/^data:image\/png;base64,/, ''), 'base64');
    expect(bytes.equals(readFileSync(new URL('./assets/gc-signature-en.png', import.meta.url)))).toBe(true);
    expect(imageSize(bytes)).toEqual({ width: 600, height: 58 });
  });

  it('puts French first in a French email, image and alt text', () => {
    const tag = img(emailHeader(emailBranding({ kind: 'gc' }, logoDataUrl, 'fr'), 'fr'));
    expect(attr(tag, 'alt')).toBe('Gouvernement du Canada / Government of Canada');
    const bytes = Buffer.from(attr(tag, 'src')!.replace(/^data:image\/png;base64,/, ''), 'base64');
    expect(bytes.equals(readFileSync(new URL('./assets/gc-signature-fr.png', import.meta.url)))).toBe(true);
  });

  it('shows a logo from the source the caller gives, with its size and its alt text in both languages', () => {
    const tag = img(emailHeader(logo, 'en'));
    expect(attr(tag, 'src')).toBe('cid:logo@envoi');
    expect(attr(tag, 'alt')).toBe('Passport Canada / Passeport Canada');
    // Scaled into 300 × 80, keeping its proportions.
    expect([attr(tag, 'width'), attr(tag, 'height')]).toEqual(['300', '75']);
    expect(attr(tag, 'style')).toContain('display: block');
    expect(attr(img(emailHeader(logo, 'fr')), 'alt')).toBe('Passeport Canada / Passport Canada');
    expect(attr(img(emailHeader({ ...logo, src: 'data:image/png;base64,AAAA' })), 'src')).toBe(
      'data:image/png;base64,AAAA',
    );
  });

  it('sizes logos to fit, never enlarging a small one', () => {
    const size = (width: number, height: number) => {
      const tag = img(emailHeader({ ...logo, width, height }));
      return [Number(attr(tag, 'width')), Number(attr(tag, 'height'))];
    };
    expect(size(100, 40)).toEqual([100, 40]);
    expect(size(100, 400)).toEqual([20, 80]);
    expect(size(3000, 100)).toEqual([300, 10]);
    // A file whose size could not be read still gets a bounded box.
    expect(size(0, 0)).toEqual([300, 80]);
  });

  it('says an alt text once when both languages are the same', () => {
    expect(attr(img(emailHeader({ ...logo, altEn: 'CRA-ARC', altFr: ' CRA-ARC ' })), 'alt')).toBe('CRA-ARC');
  });

  it('escapes the alt text and the source completely, entities included', () => {
    const header = emailHeader({ ...logo, src: 'cid:a"b', altEn: 'Tom & "Jerry" <b>\'s</b>', altFr: 'AT&amp;T' });
    const tag = img(header);
    expect(attr(tag, 'alt')).toBe('Tom &amp; &quot;Jerry&quot; &lt;b&gt;&#39;s&lt;/b&gt; / AT&amp;amp;T');
    expect(attr(tag, 'src')).toBe('cid:a&quot;b');
    expect(header).not.toContain('<b>');
  });

  it('places the header above the body, inside the same column', () => {
    const document = renderEmailDocument({ subject: 's', bodyHtml: '<p>Body</p>', branding: logo });
    expect(document.indexOf('<img')).toBeGreaterThan(document.indexOf('max-width: 600px'));
    expect(document.indexOf('<img')).toBeLessThan(document.indexOf('<p>Body</p>'));
    for (const table of document.match(/<table[^>]*>/g) ?? []) expect(table).toContain('role="presentation"');
  });
});

describe('emailPlainText', () => {
  it('removes inset markers', () => {
    expect(emailPlainText('Before\n\n^ Inset line\n^continued\n\nAfter')).toBe(
      'Before\n\nInset line\ncontinued\n\nAfter',
    );
  });

  it('removes bilingual markers, and the lines that held only a marker', () => {
    expect(emailPlainText('[[en]]\nHello\n[[/en]]\n\n[[fr]]\nBonjour\n[[/fr]]')).toBe('Hello\n\nBonjour');
    expect(emailPlainText('Intro [[fr]]Bonjour[[/fr]] end')).toBe('Intro Bonjour end');
  });

  it('writes links as text followed by the URL', () => {
    expect(emailPlainText('Read [the guide](https://x.example/guide) now')).toBe(
      'Read the guide: https://x.example/guide now',
    );
  });

  it('undoes the backslash escapes of sanitised values', () => {
    expect(emailPlainText('User, \\[click here\\]\\(\\) id 1\\-2\\-3')).toBe('User, [click here]() id 1-2-3');
  });

  it('uses LF line endings, collapses blank lines and trims', () => {
    expect(emailPlainText('\r\nA\r\n\r\n\r\n\r\nB\r\n')).toBe('A\n\nB');
  });

  it('turns a rendered body into readable text', () => {
    const body = renderEmailBody('[[en]]\r\nHi ((name))\r\n[[/en]]\r\n\r\n^ Note\r\n\r\n[Start](https://x.example)', {
      name: 'Ana',
    });
    expect(emailPlainText(body)).toBe('Hi Ana\n\nNote\n\nStart: https://x.example');
  });
});
