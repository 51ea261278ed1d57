import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSpecRef, MAX_SPEC_FILE_BYTES, SpecRefError } from './spec-ref';

describe('loadSpecRef (job specRef: file:<path>)', () => {
  let root: string;
  let allowed: string;
  let outside: string;

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'cronbundle-specref-'));
    allowed = join(root, 'specs');
    outside = join(root, 'elsewhere');
    mkdirSync(allowed);
    mkdirSync(outside);
    writeFileSync(join(allowed, 'host.yaml'), 'apiVersion: troubleshoot.sh/v1beta2\nkind: SupportBundle\n');
    writeFileSync(join(outside, 'secret.yaml'), 'not yours');
    symlinkSync(join(outside, 'secret.yaml'), join(allowed, 'escape.yaml'));
    writeFileSync(join(allowed, 'huge.yaml'), Buffer.alloc(MAX_SPEC_FILE_BYTES + 1, 'a'));
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  const load = (ref: string, allowedPaths = [allowed]) => loadSpecRef(ref, { allowedPaths });

  it('reads a file below an allowed root', async () => {
    await expect(load(`file:${join(allowed, 'host.yaml')}`)).resolves.toContain('kind: SupportBundle');
  });

  it('refuses files outside the roots, also through a symlink, and when no root is configured', async () => {
    await expect(load(`file:${join(outside, 'secret.yaml')}`)).rejects.toThrow(/outside COLLECT_ALLOWED_PATHS/);
    await expect(load(`file:${join(allowed, 'escape.yaml')}`)).rejects.toThrow(/outside COLLECT_ALLOWED_PATHS/);
    await expect(load(`file:${join(allowed, '..', 'elsewhere', 'secret.yaml')}`)).rejects.toThrow(
      /outside COLLECT_ALLOWED_PATHS/,
    );
    await expect(load(`file:${join(allowed, 'host.yaml')}`, [])).rejects.toThrow(/\(none configured\)/);
  });

  it('names the reference for missing, relative, oversized, directory and unknown references', async () => {
    await expect(load(`file:${join(allowed, 'nope.yaml')}`)).rejects.toThrow(SpecRefError);
    await expect(load(`file:${join(allowed, 'nope.yaml')}`)).rejects.toThrow(/not found/);
    await expect(load('file:specs/host.yaml')).rejects.toThrow(/must be absolute/);
    await expect(load(`file:${join(allowed, 'huge.yaml')}`)).rejects.toThrow(/larger than/);
    await expect(load(`file:${allowed}`)).rejects.toThrow(/not a regular file/);
    await expect(load('stored:abc')).rejects.toThrow(/unsupported reference/);
  });
});
