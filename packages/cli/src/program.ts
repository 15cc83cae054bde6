/**
 * The `samsa` program's shell, shared by main.ts (every command, each loaded when it runs) and
 * nodeMain.ts (`samsa node` alone, the bundle's node.cjs): the name, --version, --verbose and one
 * `samsa: ...` line with exit code 2 for every usage error.
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { fail } from './errors.js';

/** The CLI package's version (Kafka's tools answer --version with theirs). */
export const VERSION = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

export function newProgram(): Command {
  return (
    new Command()
      .name('samsa')
      .description('Samsa: a replicated commit log in the tradition of Apache Kafka')
      .version(VERSION, '--version', 'print the version and exit')
      .option('--verbose', 'print stack traces on errors')
      // Every usage error is one `samsa: ...` line (the same shape as every other error), exit code 2.
      .configureOutput({
        outputError: (message, write) =>
          write(
            `samsa: ${message
              .replace(/^error: /, '')
              .trim()
              .replace(/\s*\n\s*/g, ' ')} (see --help)\n`,
          ),
      })
      .exitOverride()
  );
}

/** Parses argv and runs the command; errors end the process as described above. */
export async function runProgram(program: Command, argv: readonly string[]): Promise<void> {
  const verbose = argv.includes('--verbose');
  process.on('unhandledRejection', (err) => fail(err, verbose));
  try {
    await program.parseAsync(argv as string[]);
  } catch (err) {
    if (err instanceof CommanderError) {
      // Commander has already printed its one line (unknown flag, missing argument) or the help.
      const informational = ['commander.helpDisplayed', 'commander.help', 'commander.version'].includes(err.code);
      process.exit(informational ? err.exitCode : 2);
    }
    fail(err, verbose);
  }
}
