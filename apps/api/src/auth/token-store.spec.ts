import { sha256Hex, TokenFileError, TokenStore, roleAtLeast, bearerToken } from './token-store';

describe('TokenStore', () => {
  const yaml = `- name: ci\n  role: operator\n  sha256: ${sha256Hex('s3cret')}\n- name: root\n  role: admin\n  sha256: ${sha256Hex('r00t').toUpperCase()}\n`;

  it('authenticates by the sha256 of the token, from YAML or JSON', () => {
    const store = TokenStore.fromText(yaml);
    expect(store.authenticate('s3cret')).toEqual({ name: 'ci', role: 'operator' });
    expect(store.authenticate('r00t')).toEqual({ name: 'root', role: 'admin' });
    expect(store.authenticate('S3CRET')).toBeUndefined();
    expect(store.authenticate('')).toBeUndefined();
    const json = TokenStore.fromText(
      JSON.stringify({ tokens: [{ name: 'v', role: 'viewer', sha256: sha256Hex('v') }] }),
    );
    expect(json.authenticate('v')).toEqual({ name: 'v', role: 'viewer' });
  });

  it.each([
    ['not a list', 'name: x', /list of \{name, role, sha256\}/],
    ['a bad role', `- {name: x, role: root, sha256: ${sha256Hex('x')}}`, /role/],
    ['a plain token instead of a hash', '- {name: x, role: admin, sha256: hunter2}', /64 hex digits/],
    [
      'a duplicate name',
      `- {name: x, role: admin, sha256: ${sha256Hex('a')}}\n- {name: x, role: viewer, sha256: ${sha256Hex('b')}}`,
      /appears twice/,
    ],
    ['broken YAML', '- {name: x', /not valid YAML/],
  ])('refuses %s with one line naming the problem', (_what, text, message) => {
    expect(() => TokenStore.fromText(text)).toThrow(TokenFileError);
    expect(() => TokenStore.fromText(text)).toThrow(message);
    try {
      TokenStore.fromText(text);
    } catch (err) {
      expect((err as Error).message).not.toContain('\n');
      expect((err as Error).message).not.toContain('hunter2');
    }
  });

  it('a missing file is a one-line error naming API_TOKENS_FILE', () => {
    expect(() => TokenStore.fromFile('/nonexistent/tokens.yaml')).toThrow(/^API_TOKENS_FILE: cannot read/);
  });

  it('orders roles viewer < operator < admin and parses Bearer headers', () => {
    expect(roleAtLeast('admin', 'operator')).toBe(true);
    expect(roleAtLeast('operator', 'operator')).toBe(true);
    expect(roleAtLeast('viewer', 'operator')).toBe(false);
    expect(bearerToken('Bearer abc')).toBe('abc');
    expect(bearerToken('bearer abc')).toBe('abc');
    expect(bearerToken('Basic abc')).toBeUndefined();
    expect(bearerToken(undefined)).toBeUndefined();
  });
});
