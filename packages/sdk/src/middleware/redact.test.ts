import { describe, expect, it } from 'vitest';
import { DEFAULT_REDACT, redactUrl } from './redact.js';

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

  it('keeps at most 2,048 characters', () => {
    expect(redactUrl(`/a?x=${'y'.repeat(5000)}`, DEFAULT_REDACT)).toHaveLength(2048);
  });
});
