import { describe, expect, it } from 'vitest';

import { renderEmailHtml } from './email.ts';
import { sanitisePersonalisation, sanitiseText } from './sanitise.ts';

describe('sanitiseText', () => {
  it('removes a markdown link target and escapes the brackets (Node client test)', () => {
    expect(sanitiseText('User, [click here](https://evil.link)')).toBe('User, \\[click here\\]\\(\\)');
  });

  it('escapes every hyphen of a UUID (Python client test)', () => {
    expect(sanitiseText('5c0e9ab1-1b6a-4f9a-8f0e-1d2c3b4a5f60')).toBe('5c0e9ab1\\-1b6a\\-4f9a\\-8f0e\\-1d2c3b4a5f60');
  });

  it('escapes each markdown character with a backslash', () => {
    expect(sanitiseText('`*_(){}[]<>#+-.!|\\')).toBe('\\`\\*\\_\\(\\)\\{\\}\\[\\]\\<\\>\\#\\+\\-\\.\\!\\|\\\\');
  });

  it('leaves other characters alone', () => {
    expect(sanitiseText('Hello, Ana: 100% sure? "yes" & \'no\' ~ ^ @ $ ; = /')).toBe(
      'Hello, Ana: 100% sure? "yes" & \'no\' ~ ^ @ $ ; = /',
    );
  });

  it('removes URLs with a scheme, path, query or fragment', () => {
    expect(sanitiseText('Go to https://evil.example.com/login?next=/ now')).toBe('Go to  now');
    expect(sanitiseText('or http://a.b.co.uk#top.')).toBe('or ');
    expect(sanitiseText('or www.evil.com/path here')).toBe('or  here');
  });

  it('breaks up an accidental link with a space after each dot', () => {
    expect(sanitiseText('see example.com today')).toBe('see example\\. com today');
    expect(sanitiseText('sub.domain-name.org')).toBe('sub\\. domain\\-name\\. org');
  });

  it('does not treat an email address as a link', () => {
    expect(sanitiseText('mail first.last@example.com')).toBe('mail first\\.last@example\\.com');
  });

  it('handles hyphenated hosts, and links after long hyphenated text', () => {
    expect(sanitiseText('my-site.example.org')).toBe('my\\-site\\. example\\. org');
    const long = 'x-'.repeat(5_000);
    expect(sanitiseText(`${long} https://evil.example/p and example.com`)).toBe(
      `${long.replace(/-/g, '\\-')}  and example\\. com`,
    );
  });

  it('ignores text that only looks dotted', () => {
    expect(sanitiseText('version 1.2.3')).toBe('version 1\\.2\\.3');
  });
});

describe('sanitisePersonalisation', () => {
  it('sanitises only the listed keys, matched ignoring case, spaces, _ and -', () => {
    const { personalisation } = sanitisePersonalisation({ 'First Name': 'a-b', last_name: 'c-d', other: 'e-f' }, [
      'first_name',
      'LAST-NAME',
    ]);
    expect(personalisation).toEqual({ 'First Name': 'a\\-b', last_name: 'c\\-d', other: 'e-f' });
  });

  it('reports changed values under the key as sent', () => {
    const { report } = sanitisePersonalisation({ User_Name: 'User, [click here](https://evil.link)' }, ['username']);
    expect(report).toEqual({
      User_Name: { unsanitised: 'User, [click here](https://evil.link)', sanitised: 'User, \\[click here\\]\\(\\)' },
    });
  });

  it('leaves unchanged values out of the report', () => {
    const { personalisation, report } = sanitisePersonalisation({ name: 'Ana Lopez', code: 'A1' }, ['name', 'code']);
    expect(personalisation).toEqual({ name: 'Ana Lopez', code: 'A1' });
    expect(report).toEqual({});
  });

  it('does nothing without keys', () => {
    for (const keys of [null, undefined, []]) {
      const result = sanitisePersonalisation({ name: '[x](https://evil.link)' }, keys);
      expect(result).toEqual({ personalisation: { name: '[x](https://evil.link)' }, report: {} });
    }
  });

  it('ignores listed keys that are not in the personalisation', () => {
    expect(sanitisePersonalisation({ a: 'x.y' }, ['missing'])).toEqual({ personalisation: { a: 'x.y' }, report: {} });
  });

  it('leaves numbers, booleans and null untouched', () => {
    const input = { n: -1.5, b: true, z: null };
    expect(sanitisePersonalisation(input, ['n', 'b', 'z'])).toEqual({ personalisation: input, report: {} });
  });

  it('sanitises the strings of a list value', () => {
    const { personalisation, report } = sanitisePersonalisation({ items: ['ab.cd', 2, '[x](https://e.vil)'] }, [
      'items',
    ]);
    expect(personalisation.items).toEqual(['ab\\. cd', 2, '\\[x\\]\\(\\)']);
    expect(JSON.parse(report.items!.unsanitised)).toEqual(['ab.cd', 2, '[x](https://e.vil)']);
  });

  it('does not modify the object it is given', () => {
    const input = { name: 'a-b' };
    sanitisePersonalisation(input, ['name']);
    expect(input).toEqual({ name: 'a-b' });
  });

  it('keeps a __proto__ key as an ordinary key', () => {
    const input = JSON.parse('{"__proto__": {"polluted": "yes"}, "name": "x"}') as Record<string, unknown>;
    const { personalisation } = sanitisePersonalisation(input, ['name']);
    expect(Object.keys(personalisation)).toEqual(['__proto__', 'name']);
    expect((personalisation as { polluted?: string }).polluted).toBeUndefined();
  });

  it('makes a hostile value render as plain text in the email', () => {
    const { personalisation } = sanitisePersonalisation(
      { name: '# Urgent\n* [Verify your account](https://evil.link)' },
      ['name'],
    );
    const html = renderEmailHtml('Hello ((name))', personalisation);
    expect(html).not.toMatch(/<a |<h2|<li/);
    expect(html).toContain('# Urgent');
    expect(html).toContain('* [Verify your account]()');
  });
});
