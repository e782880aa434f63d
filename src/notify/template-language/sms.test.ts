import { describe, expect, it } from 'vitest';

import { encodeForSms, smsEncoding, smsFragmentCount } from './sms-encoding.ts';
import { renderSms, SMS_CHARACTER_LIMIT, smsTooLong } from './sms.ts';

describe('renderSms', () => {
  it('gives the body the Node client test expects (CRLF becomes LF)', () => {
    const sms = renderSms('Hello ((name))\r\n\r\nFunctional Tests make our world a better place', { name: 'Foo' });
    expect(sms.body).toBe('Hello Foo\n\nFunctional Tests make our world a better place');
    expect(sms.characterCount).toBe(sms.body.length);
    expect(sms.fragmentCount).toBe(1);
    expect(sms.encoding).toBe('gsm');
  });

  it('removes spaces and tabs before commas and full stops', () => {
    expect(renderSms('Hello ((name)) , your code is ((code)) .', { name: 'Ana', code: '123' }).body).toBe(
      'Hello Ana, your code is 123.',
    );
  });

  it('removes whitespace before punctuation that comes from a value', () => {
    expect(renderSms('((greeting)), friend', { greeting: 'Hi   ' }).body).toBe('Hi, friend');
  });

  it('collapses whitespace within each line and trims every line', () => {
    expect(renderSms('  Lots   of\t\tspace  \n   here\u00a0\u00a0too  ', {}).body).toBe('Lots of space\nhere too');
  });

  it('removes zero-width characters', () => {
    expect(renderSms('GOV.\u200bUK is\u2060 here\ufeff', {}).body).toBe('GOV.UK is here');
  });

  it('turns every kind of line break into \\n', () => {
    expect(renderSms('a\r\nb\rc\u2028d\u2029e\vf', {}).body).toBe('a\nb\nc\nd\ne\nf');
  });

  it('keeps at most one blank line', () => {
    expect(renderSms('a\n\n\n\n\nb\n \n \n \nc', {}).body).toBe('a\n\nb\n\nc');
  });

  it('trims the whole message', () => {
    expect(renderSms('\n\n  ((x))  \n\n', { x: 'hi' }).body).toBe('hi');
  });

  it('writes list values as prose, not markdown', () => {
    expect(renderSms('Bring ((items)).', { items: ['ID', 'a photo', 'a pen'] }).body).toBe(
      'Bring ID, a photo and a pen.',
    );
  });

  it('applies conditional placeholders', () => {
    expect(renderSms('Hi.((late?? You are late.))', { late: 'yes' }).body).toBe('Hi. You are late.');
    expect(renderSms('Hi.((late?? You are late.))', { late: 'no' }).body).toBe('Hi.');
  });

  it('leaves placeholders without a value in the body', () => {
    expect(renderSms('Hi ((name))', {}).body).toBe('Hi ((name))');
  });

  it('downgrades characters that are not GSM, after substitution', () => {
    const sms = renderSms('((q)) – it’s … ok', { q: '“Quote”' });
    expect(sms.body).toBe('"Quote" - it\'s ... ok');
    expect(sms.encoding).toBe('gsm');
  });

  it('counts characters of the body that is sent', () => {
    const sms = renderSms('Wait…', {});
    expect(sms.body).toBe('Wait...');
    expect(sms.characterCount).toBe(7);
  });

  it('keeps Welsh letters, which make the message unicode', () => {
    const sms = renderSms('Croeso i’r ŵyl, ((name))', { name: 'Siôn' });
    expect(sms.body).toBe("Croeso i'r ŵyl, Siôn");
    expect(sms.encoding).toBe('unicode');
  });

  it('keeps French letters, which make the message unicode when outside GSM', () => {
    expect(renderSms('Crème brûlée, ça va? Œuvre', {})).toMatchObject({
      body: 'Crème brûlée, ça va? Œuvre',
      encoding: 'unicode',
    });
    // é, è and à are in GSM: a message with only those stays GSM.
    expect(renderSms('Café à la crème', {}).encoding).toBe('gsm');
  });

  it('counts a 160-character message as one fragment and 161 as two', () => {
    expect(renderSms('a'.repeat(160), {}).fragmentCount).toBe(1);
    expect(renderSms('a'.repeat(161), {}).fragmentCount).toBe(2);
  });
});

describe('encodeForSms', () => {
  it('keeps the whole GSM alphabet and its extension table', () => {
    const gsm = '@£$¥èéùìòÇØøÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCZÄÖÑÜ§¿abcz äöñüà^{}\\[~]|€';
    expect(encodeForSms(gsm)).toBe(gsm);
  });

  it('drops accents the alphabet lacks, down to a letter it has', () => {
    expect(encodeForSms('Ångström Čapek São Łukasz ǖ ệ Ș')).toBe('Ångström Capek Sao Lukasz ü e S');
  });

  it('keeps Welsh and French letters', () => {
    expect(encodeForSms('ú ó ŵ ŷ ẁ Ê ç œ Ÿ')).toBe('ú ó ŵ ŷ ẁ Ê ç œ Ÿ');
  });

  it('replaces dashes, curly quotes and ellipses with plain ones', () => {
    expect(encodeForSms('a–b—c ‘d’ “e” f…')).toBe('a-b-c \'d\' "e" f...');
  });

  it('replaces characters with no GSM equivalent with ?', () => {
    expect(encodeForSms('😀 ✉ Привет 你好 한국 ﬁ')).toBe('? ? ?????? ?? ?? ?');
  });

  it('keeps Canadian Aboriginal syllabics (Inuktitut, Cree, Ojibwe)', () => {
    expect(encodeForSms('ᐃᓄᒃᑎᑐᑦ ᓀᐦᐃᔭᐍᐏᐣ 𑪶')).toBe('ᐃᓄᒃᑎᑐᑦ ᓀᐦᐃᔭᐍᐏᐣ 𑪶');
  });
});

describe('smsEncoding', () => {
  it('is gsm when every character is in the GSM alphabet or extension table', () => {
    expect(smsEncoding('Hello {world} €5 [ok] ~^|\\')).toBe('gsm');
  });

  it('is unicode when any character is outside it', () => {
    expect(smsEncoding('Helô')).toBe('unicode');
    expect(smsEncoding('ᐃ')).toBe('unicode');
  });
});

describe('smsFragmentCount', () => {
  const gsm = (n: number) => 'a'.repeat(n);
  const unicode = (n: number) => 'ŵ'.repeat(n);

  it.each([
    [1, 1],
    [160, 1],
    [161, 2],
    [306, 2],
    [307, 3],
    [459, 3],
    [460, 4],
    [612, 4],
    [613, 5],
  ])('GSM: %i characters make %i fragments', (length, fragments) => {
    expect(smsFragmentCount(gsm(length))).toBe(fragments);
  });

  it.each([
    [1, 1],
    [70, 1],
    [71, 2],
    [134, 2],
    [135, 3],
    [201, 3],
    [202, 4],
  ])('unicode: %i characters make %i fragments', (length, fragments) => {
    expect(smsFragmentCount(unicode(length))).toBe(fragments);
  });

  it('counts each extension-table character as two', () => {
    expect(smsFragmentCount('€'.repeat(80))).toBe(1);
    expect(smsFragmentCount('€'.repeat(81))).toBe(2);
    expect(smsFragmentCount(`${'a'.repeat(158)}[`)).toBe(1);
    expect(smsFragmentCount(`${'a'.repeat(159)}[`)).toBe(2);
    expect(smsFragmentCount('{'.repeat(153))).toBe(2); // 306 septets
    expect(smsFragmentCount(`${'{'.repeat(153)}a`)).toBe(3);
  });

  it('does not double extension characters in a unicode message', () => {
    expect(smsFragmentCount(`ŵ${'€'.repeat(69)}`)).toBe(1);
    expect(smsFragmentCount(`ŵ${'€'.repeat(70)}`)).toBe(2);
  });

  it('counts a character outside the Basic Multilingual Plane as two UTF-16 units', () => {
    expect(smsFragmentCount('𑪶'.repeat(35))).toBe(1);
    expect(smsFragmentCount('𑪶'.repeat(36))).toBe(2);
  });

  it('is zero for an empty message', () => {
    expect(smsFragmentCount('')).toBe(0);
  });

  it('agrees with renderSms on rendered bodies', () => {
    expect(renderSms('ŵ'.repeat(71), {}).fragmentCount).toBe(2);
    expect(renderSms('{'.repeat(81), {}).fragmentCount).toBe(2);
    expect(renderSms('{'.repeat(81), {}).characterCount).toBe(81);
  });
});

describe('message length limit', () => {
  it('is 612 characters', () => {
    expect(SMS_CHARACTER_LIMIT).toBe(612);
  });

  it('allows 612 characters and refuses 613', () => {
    expect(smsTooLong(renderSms('a'.repeat(612), {}).characterCount)).toBe(false);
    expect(smsTooLong(renderSms('a'.repeat(613), {}).characterCount)).toBe(true);
  });

  it('measures the message after personalisation and whitespace normalisation', () => {
    const sms = renderSms('((text))   \n\n\n\n', { text: 'b'.repeat(612) });
    expect(sms.characterCount).toBe(612);
    expect(smsTooLong(sms.characterCount)).toBe(false);
  });
});
