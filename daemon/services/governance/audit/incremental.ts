import type { AuditEngine, DocumentAudit } from './engine';
import { contentState, readFileState, type FileState } from './refGraph';

/** Root documents whose last audit is kept for reuse; the least recently used go first. */
export const MAX_CACHED_AUDITS = 1000;

interface CachedAudit {
  /** State of the root's text when it was audited. */
  state: FileState;
  audit: DocumentAudit;
}

export interface IncrementalResult {
  /** One audit per input, in input order. */
  audits: DocumentAudit[];
  /** Roots audited afresh in this run. */
  audited: string[];
  /** Roots whose previous findings were reused: neither they nor any file their `$ref`s reach changed. */
  reused: string[];
}

/**
 * Audits root documents, reusing a root's previous findings while its text and the state of every
 * file its `$ref`s reach are unchanged. An audit depends only on those inputs, so the result equals a
 * full audit; after one file changes, only it and the roots that `$ref` it (transitively) are audited.
 */
export class IncrementalAuditor {
  private readonly cache = new Map<string, CachedAudit>();

  constructor(
    private readonly engine: AuditEngine,
    private readonly maxEntries = MAX_CACHED_AUDITS,
  ) {}

  async auditAll(inputs: readonly { file: string; text: string }[]): Promise<IncrementalResult> {
    // Each file's state is read once per run, however many roots `$ref` it.
    const states = new Map<string, Promise<FileState>>();
    const stateOf = (file: string): Promise<FileState> => {
      let s = states.get(file);
      if (!s) {
        s = readFileState(file, this.engine.maxBytes).then((r) => r.state);
        states.set(file, s);
      }
      return s;
    };
    for (const { file, text } of inputs) states.set(file, Promise.resolve(contentState(text)));

    const result: IncrementalResult = { audits: [], audited: [], reused: [] };
    for (const { file, text } of inputs) {
      const state = await stateOf(file);
      const cached = this.cache.get(file);
      if (cached && cached.state === state && (await this.unchanged(cached.audit, stateOf))) {
        this.touch(file, cached);
        result.audits.push(cached.audit);
        result.reused.push(file);
        continue;
      }
      const audit = await this.engine.audit(file, text);
      this.touch(file, { state, audit });
      result.audits.push(audit);
      result.audited.push(file);
    }
    return result;
  }

  /** Roots whose kept audit depends on `file` (it or a file it `$ref`s, transitively). */
  dependentsOf(file: string): string[] {
    return [...this.cache].filter(([root, c]) => root === file || Object.hasOwn(c.audit.dependencies ?? {}, file)).map(([root]) => root);
  }

  /** Forget every kept audit (the next run audits everything). */
  clear(): void {
    this.cache.clear();
  }

  private async unchanged(audit: DocumentAudit, stateOf: (file: string) => Promise<FileState>): Promise<boolean> {
    for (const [dep, state] of Object.entries(audit.dependencies ?? {})) if ((await stateOf(dep)) !== state) return false;
    return true;
  }

  private touch(file: string, entry: CachedAudit): void {
    this.cache.delete(file);
    this.cache.set(file, entry);
    if (this.cache.size > this.maxEntries) this.cache.delete(this.cache.keys().next().value!);
  }
}
