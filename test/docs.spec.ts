import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CONFIG_VARIABLES } from '@cronbundle/config';

const readme = readFileSync(join(__dirname, '..', 'README.md'), 'utf8');

describe('README', () => {
  it('documents exactly the environment variables the code reads, once each', () => {
    const section = readme.slice(readme.indexOf('## Configuration'), readme.indexOf('## Development'));
    const documented = [...section.matchAll(/^\| `([A-Z0-9_]+)` +\|/gm)].map((m) => m[1]);
    expect([...documented].sort()).toEqual(Object.keys(CONFIG_VARIABLES).sort());
    expect(new Set(documented).size).toBe(documented.length);
  });

  it('starts with what it is, then exactly two commands: start and test', () => {
    const quickStart = readme.slice(readme.indexOf('## Quick start'));
    const block = /```sh\n([\s\S]*?)```/.exec(quickStart)?.[1] ?? '';
    const commands = block
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => l.split('#')[0].trim());
    expect(commands).toEqual(['npm start', 'npm test']);
    expect(readme.indexOf('support bundles')).toBeLessThan(readme.indexOf('## Quick start'));
  });
});
