import { Command } from 'commander';
import { EXIT_SPEC_PROBLEM, loadSpecFile, reportSpecFileError, SpecFileError } from './spec-file';

/** `cronbundle validate [FILE...] [--spec FILE]`: parse troubleshoot specs, collect nothing. */
export function validateCommand(): Command {
  return new Command('validate')
    .description('check troubleshoot specs (YAML or JSON) without collecting; exits 2 when one is invalid')
    .argument('[files...]', 'spec files')
    .option('--spec <file>', 'a spec file (same as a positional FILE)')
    .action(async (files: string[], opts: { spec?: string }) => {
      const all = [...(opts.spec ? [opts.spec] : []), ...files];
      if (all.length === 0) {
        process.stderr.write('cronbundle validate: give a spec file: cronbundle validate --spec FILE\n');
        process.exitCode = EXIT_SPEC_PROBLEM;
        return;
      }
      let bad = 0;
      for (const file of all) {
        try {
          const spec = await loadSpecFile(file);
          const counts = [
            `${spec.hostCollectors.length} host collectors`,
            `${spec.collectors.length} collectors`,
            `${spec.hostAnalyzers.length + spec.analyzers.length} analyzers`,
            `${spec.redactors.length} redactors`,
          ];
          process.stdout.write(`${file}: valid (${counts.join(', ')}${spec.external ? ', external' : ''})\n`);
        } catch (err) {
          if (!(err instanceof SpecFileError)) throw err;
          bad++;
          reportSpecFileError('validate', err, (line) => process.stderr.write(`${line}\n`));
        }
      }
      if (bad > 0) process.exitCode = EXIT_SPEC_PROBLEM;
    });
}
