/**
 * `samsa dump-log --files F[,F2] [--print-data-log]` (kafka-dump-log): the batches, and with
 * --print-data-log the records, of .log segment files, with each batch's CRC checked. Reads the
 * files directly (a node's data dir: <data-dir>/<topic>-<partition>/<base offset>.log). Exits 1
 * when a batch's CRC does not match.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { dumpSegment } from '../dumpLog/format.js';
import { UsageError } from '../errors.js';

interface DumpLogOptions {
  files?: string;
  printDataLog?: boolean;
  deepIteration?: boolean;
}

export function registerDumpLog(program: Command): void {
  program
    .command('dump-log')
    .description('print the batches and records of .log segment files, checking CRCs (kafka-dump-log)')
    .option('--files <files>', 'comma-separated .log segment files')
    .option('--print-data-log', 'print each record (offset, timestamp, sizes, headers, key and payload)')
    .option('--deep-iteration', "accepted for Kafka's scripts: records are always iterated with --print-data-log")
    .action((opts: DumpLogOptions) => {
      if (!opts.files) throw new UsageError('--files is required');
      const files = opts.files
        .split(',')
        .map((f) => f.trim())
        .filter(Boolean);
      let invalid = 0;
      for (const file of files) {
        if (!file.endsWith('.log'))
          throw new UsageError(`${file}: only .log segment files can be dumped (not .index, .timeindex or snapshots)`);
        let buf: Buffer;
        try {
          buf = readFileSync(file);
        } catch (err) {
          throw new UsageError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
        }
        const { text, invalidBatches } = dumpSegment(buf, { printData: opts.printDataLog === true });
        process.stdout.write(`Dumping ${file}\n${text}`);
        invalid += invalidBatches;
      }
      if (invalid > 0) {
        process.stderr.write(`samsa: ${invalid} batch(es) failed their CRC check\n`);
        process.exitCode = 1;
      }
    });
}
