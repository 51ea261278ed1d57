import { readFile } from 'node:fs/promises';
import { parseSpec, SpecError, type NormalizedSpec, type SpecIssue } from '@cronbundle/collect';

/** troubleshoot's exit code for spec problems (an unreadable or invalid spec). */
export const EXIT_SPEC_PROBLEM = 2;

/** A spec file that cannot be used: `lines` say why, one problem per line. */
export class SpecFileError extends Error {
  constructor(
    readonly file: string,
    readonly lines: string[],
  ) {
    super(`${file}: ${lines.join('; ')}`);
    this.name = 'SpecFileError';
  }
}

export function issueLine(issue: SpecIssue): string {
  const where = [issue.document !== undefined ? `document ${issue.document}` : '', issue.path]
    .filter(Boolean)
    .join(': ');
  return where ? `${where}: ${issue.message}` : issue.message;
}

/** Read and parse a troubleshoot spec file (YAML documents or JSON). */
export async function loadSpecFile(file: string): Promise<NormalizedSpec> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new SpecFileError(file, [
      code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : `cannot read (${code ?? 'error'})`,
    ]);
  }
  try {
    return parseSpec(text).spec;
  } catch (err) {
    if (err instanceof SpecError) throw new SpecFileError(file, err.errors.map(issueLine));
    throw err;
  }
}

/** Print a SpecFileError as `<command>: <file>: <problem>` lines and set the exit code. */
export function reportSpecFileError(command: string, err: SpecFileError, write: (line: string) => void): void {
  if (err.lines.length === 1) write(`cronbundle ${command}: ${err.file}: ${err.lines[0]}`);
  else {
    write(`cronbundle ${command}: ${err.file}: invalid spec (${err.lines.length} problems)`);
    for (const line of err.lines) write(`  ${line}`);
  }
}
