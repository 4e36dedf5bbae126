import { describe, expect, it } from 'vitest';
import { DEFAULT_REDACT, originForm, redactUrl } from './redact.js';

describe('redactUrl', () => {
  it.each([
    ['/a?token=abc', '/a?token=REDACTED'],
    ['/a?access_token=abc&page=2', '/a?access_token=REDACTED&page=2'],
    ['/a?apiKey=1&API-KEY=2&x-api-key=3', '/a?apiKey=REDACTED&API-KEY=REDACTED&x-api-key=REDACTED'],
    [
      '/a?client_secret=s&Password=p&authorization=Bearer%20x',
      '/a?client_secret=REDACTED&Password=REDACTED&authorization=REDACTED',
    ],
    ['/a?pass%77ord=p', '/a?pass%77ord=REDACTED'],
    ['/a?q=hello%20world&sort=-time', '/a?q=hello%20world&sort=-time'],
    ['/a?token', '/a?token=REDACTED'],
    ['/a?x=1#token=frag', '/a?x=1'],
    ['/plain/path', '/plain/path'],
    ['/a?a=%E0%A4%A&token=1', '/a?a=%E0%A4%A&token=REDACTED'],
  ])('%s → %s', (url, expected) => {
    expect(redactUrl(url, DEFAULT_REDACT)).toBe(expected);
  });

  it('takes its own list of words', () => {
    expect(redactUrl('/a?sig=1&token=2', ['sig'])).toBe('/a?sig=REDACTED&token=2');
  });

  // regression: QA of the request middleware — words were compared only as given.
  it('normalises the words it is given as it does parameter names', () => {
    expect(redactUrl('/a?api_key=1&X-Token=2&x=3', ['Token', 'API-Key'])).toBe(
      '/a?api_key=REDACTED&X-Token=REDACTED&x=3',
    );
    expect(redactUrl('/a?token=1&x=2', ['', '-'])).toBe('/a?token=1&x=2');
  });

  // regression: QA of the request middleware — an absolute-form target kept its password.
  it('drops the user name and password of an absolute URL', () => {
    expect(redactUrl('http://user:s3cret@host:8080/r?token=1&x=2#f', DEFAULT_REDACT)).toBe(
      'http://host:8080/r?token=REDACTED&x=2',
    );
    expect(redactUrl('HTTPS://a:b@c@host?key=1', DEFAULT_REDACT)).toBe('HTTPS://host?key=REDACTED');
    expect(redactUrl('/login?next=http://u:p@x/y', DEFAULT_REDACT)).toBe(
      '/login?next=http://u:p@x/y',
    );
  });

  it('keeps at most 2,048 characters', () => {
    expect(redactUrl(`/a?x=${'y'.repeat(5000)}`, DEFAULT_REDACT)).toHaveLength(2048);
  });
});

describe('originForm', () => {
  it.each([
    ['http://user:s3cret@host/r?x=1', '/r?x=1'],
    ['https://host:8080', '/'],
    ['http://host?x=1', '/?x=1'],
    ['/r?next=http://u:p@x/y', '/r?next=http://u:p@x/y'],
    ['*', '*'],
  ])('%s → %s', (target, expected) => {
    expect(originForm(target)).toBe(expected);
  });
});
