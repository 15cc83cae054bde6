/**
 * The mechanics shared by the offset index and the time index: fixed-size big-endian entries in a
 * file beside the segment, mirrored in memory.
 *
 * Kafka mmaps its index files; Node cannot, so the entries live in a Buffer that doubles as it
 * grows. New entries go to memory only and reach the file on persist() (segment roll, flush,
 * close). That is safe because an index is only trusted below the recovery point, and flush()
 * persists and fsyncs indexes before it advances the recovery point; everything above it is
 * rebuilt from the .log on recovery. An inactive segment's index may be unloaded (dropped from
 * memory) and is read back from its file on the next lookup.
 */
import { closeSync, fstatSync, fsyncSync, ftruncateSync, openSync } from 'node:fs';
import { OPEN_RW_CREATE, fsyncAsync, readFully, writeFully } from './files.js';

const INITIAL_CAPACITY_ENTRIES = 32;

export abstract class IndexFile {
  readonly path: string;
  protected readonly entrySize: number;
  private fd: number;
  /** In-memory entries (capacity may exceed count); null while unloaded. */
  protected buf: Buffer | null = null;
  protected count: number;
  /** Entries [0, persisted) are in the file. */
  private persisted: number;
  /** Size of the file when it was opened (for sanity checks). */
  protected readonly fileBytes: number;

  protected constructor(path: string, entrySize: number, truncate: boolean) {
    this.path = path;
    this.entrySize = entrySize;
    this.fd = openSync(path, OPEN_RW_CREATE);
    if (truncate) ftruncateSync(this.fd, 0);
    const fileSize = fstatSync(this.fd).size;
    // A trailing partial entry is ignored here; sanityCheck() reports it.
    this.count = Math.floor(fileSize / entrySize);
    this.persisted = this.count;
    this.fileBytes = fileSize;
  }

  get entries(): number {
    return this.count;
  }

  get isLoaded(): boolean {
    return this.buf !== null;
  }

  /** The entries in memory, reading them from the file on first use. */
  protected loaded(): Buffer {
    if (this.buf) return this.buf;
    const buf = Buffer.allocUnsafe(Math.max(INITIAL_CAPACITY_ENTRIES, this.count) * this.entrySize);
    const want = this.persisted * this.entrySize;
    const got = readFully(this.fd, buf, 0, want, 0);
    if (got < want) {
      this.count = this.persisted = Math.floor(got / this.entrySize);
    }
    this.buf = buf;
    return buf;
  }

  /** Byte offset of a new entry slot in memory (growing the buffer when full). */
  protected reserveSlot(): number {
    let buf = this.loaded();
    const at = this.count * this.entrySize;
    if (at + this.entrySize > buf.length) {
      const bigger = Buffer.allocUnsafe(buf.length * 2);
      buf.copy(bigger, 0, 0, at);
      this.buf = buf = bigger;
    }
    this.count++;
    return at;
  }

  /** The bytes of entry `i`: a view of memory when loaded, else read from the file into `scratch`. */
  protected readEntryBytes(i: number, scratch: Buffer): Buffer {
    if (this.buf) return this.buf.subarray(i * this.entrySize, (i + 1) * this.entrySize);
    readFully(this.fd, scratch, 0, this.entrySize, i * this.entrySize);
    return scratch;
  }

  /** Keeps only the first `n` entries, in memory and in the file. */
  truncateEntries(n: number): void {
    if (n >= this.count) return;
    this.count = n;
    if (this.persisted > n) {
      ftruncateSync(this.fd, n * this.entrySize);
      this.persisted = n;
    }
  }

  /** Drops every entry (before a rebuild). */
  reset(): void {
    this.count = 0;
    this.persisted = 0;
    ftruncateSync(this.fd, 0);
    if (!this.buf) this.buf = Buffer.allocUnsafe(INITIAL_CAPACITY_ENTRIES * this.entrySize);
  }

  /** Writes entries that are only in memory to the file (page cache; fsync() makes them durable). */
  persist(): void {
    if (this.persisted >= this.count || !this.buf) return;
    const from = this.persisted * this.entrySize;
    writeFully(this.fd, this.buf, from, this.count * this.entrySize - from, from);
    this.persisted = this.count;
  }

  /** Drops the in-memory copy once everything is in the file. */
  unload(): void {
    this.persist();
    this.buf = null;
  }

  fsync(): Promise<void> {
    return fsyncAsync(this.fd);
  }

  fsyncSync(): void {
    fsyncSync(this.fd);
  }

  close(): void {
    closeSync(this.fd);
  }

  /** Cheap checks that need no full load: whole entries only. Returns a reason, or undefined when sane. */
  sanityCheck(): string | undefined {
    if (this.fileBytes % this.entrySize !== 0) {
      return `${this.path} is ${this.fileBytes} bytes, not a multiple of its ${this.entrySize}-byte entries`;
    }
    return undefined;
  }
}
